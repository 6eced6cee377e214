# Two entry points a fresh machine needs: `make demo` and `make test`.
# Each creates .venv and installs what it needs (idempotent; a stamp file skips reinstalling).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install levels, each with its own stamp: the core (all `make demo` needs) and everything
# (the extras the suite and the benchmarks use). The full install implies the core one.
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
CORE_STAMP := $(VENV)/.core-$(HASH)
STAMP := $(VENV)/.installed-$(HASH)
# The compiled build (setup.py, COMPLIANCE_MYPYC=1): the whole package installed into
# $(NATIVE) with its hot path compiled by mypyc. Put first on PYTHONPATH, it replaces the
# editable source install; rebuilt whenever a file of the package changes.
NATIVE := $(VENV)/native
NATIVE_STAMP := $(NATIVE)/.built-$(shell find compliance setup.py pyproject.toml -type f \
  \( -name '*.py' -o -name '*.toml' -o -name '*.lark' -o -name '*.rules' -o -name '*.lua' \) \
  -print0 2>/dev/null | sort -z | xargs -0 cat | sha1sum | cut -c1-12)
# What the compiled build's test run leaves out: services the hot path never reaches.
NATIVE_TESTS := -m "not spark and not chromium and not precommit and not redis"
# The compiled package lives under .venv, so it cannot find ../shared/corpora beside itself.
NATIVE_ENV := PYTHONPATH=$(abspath $(NATIVE)) COMPLIANCE_CORPORA=$${COMPLIANCE_CORPORA:-$(abspath ..)/shared/corpora}

.PHONY: demo test test-native bench bench-native native accuracy fuzz venv redis chromium java compiler system clean

$(CORE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	rm -f $(VENV)/.core-* && touch $@

$(STAMP): $(CORE_STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,server,spark]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# Debian package $(2) when command $(1) is missing (as root, or through sudo).
apt_install = command -v $(1) >/dev/null 2>&1 || { \
  echo "installing $(2) (apt)"; \
  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null || \
   sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null); }

# redis-server for the ledger tests.
redis:
	@$(call apt_install,redis-server,redis-server)

# A Java runtime for the Spark tests (pyspark starts a JVM; without java they would skip).
java:
	@$(call apt_install,java,default-jre-headless)

# Headless Chromium for the HTML-report test.
chromium:
	@$(call apt_install,chromium,chromium)

# A C compiler for the compiled build.
compiler:
	@$(call apt_install,cc,gcc)

$(NATIVE_STAMP): $(STAMP)
	@$(MAKE) --no-print-directory compiler
	rm -rf $(NATIVE) build  # build/: setuptools would ship a stale extension left there
	COMPLIANCE_MYPYC=1 $(BIN)/python -m pip install -q --no-deps --target $(NATIVE) .
	touch $@

native: $(NATIVE_STAMP)

demo: $(CORE_STAMP)
	$(BIN)/compliance demo

# The whole suite on the Python source, then again on the compiled build (same tests, the
# services left out). `pytest`, not `python -m pytest`: the latter would put the source
# directory first on sys.path, ahead of the compiled package.
test: $(STAMP) redis chromium java
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory test-native

test-native: $(NATIVE_STAMP)
	$(NATIVE_ENV) COMPLIANCE_EXPECT_COMPILED=1 $(BIN)/pytest -q -p no:cacheprovider $(NATIVE_TESTS)

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds

# The lint benchmark and breakdown on the compiled build.
bench-native: $(NATIVE_STAMP)
	$(NATIVE_ENV) $(BIN)/pytest benchmarks/bench_lint.py -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds
	$(NATIVE_ENV) $(BIN)/python benchmarks/lint_breakdown.py

# Precision and recall per category against the labelled evaluation set (docs/accuracy.md);
# needs ../shared/corpora. `python -m benchmarks.accuracy --help` for the error listings and JSON.
accuracy: $(STAMP)
	$(BIN)/python -m benchmarks.accuracy

# Long fuzzing: 20,000 random cases per hypothesis target (and per HTTP operation under
# schemathesis), then each atheris harness for 60 s (crash files land in the current directory).
fuzz: $(STAMP)
	COMPLIANCE_FUZZ_EXAMPLES=$${COMPLIANCE_FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest tests/fuzz tests/test_server_schemathesis.py -q -p no:cacheprovider
	for h in tests/fuzz/atheris_*.py; do [ -e "$$h" ] || continue; echo "== $$h"; \
	  $(BIN)/python "$$h" -max_total_time=$${FUZZ_SECONDS:-60} || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
