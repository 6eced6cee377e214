# Two entry points a fresh machine needs: `make demo` and `make test`.
# Each creates .venv and installs what it needs (idempotent; a stamp file skips reinstalling).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test bench fuzz venv redis chromium system clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,server,spark]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# redis-server for the ledger tests: from Debian's packages when it is missing.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (apt)"; \
	  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || \
	   sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); }

# Headless Chromium for the HTML-report test, from Debian's packages when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (apt)"; \
	  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	   sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

demo: $(STAMP)
	$(BIN)/compliance demo

test: $(STAMP) redis chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds

# Long fuzzing: 20,000 random cases per hypothesis target (and per HTTP operation under
# schemathesis), then each atheris harness for 60 s (crash files land in the current directory).
fuzz: $(STAMP)
	COMPLIANCE_FUZZ_EXAMPLES=$${COMPLIANCE_FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest tests/fuzz tests/test_server_schemathesis.py -q -p no:cacheprovider
	for h in tests/fuzz/atheris_*.py; do [ -e "$$h" ] || continue; echo "== $$h"; \
	  $(BIN)/python "$$h" -max_total_time=$${FUZZ_SECONDS:-60} || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
