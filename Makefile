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
# Distributions (`make dist`, in dist/): the sdist, the pure wheel (py3-none-any) built from
# it, and the platform wheel (cp3XX-…-linux_x86_64) whose hot path is compiled by mypyc
# (setup.py, COMPLIANCE_MYPYC=1). Each is rebuilt whenever a file of the package changes.
DIST := dist
SRC_HASH := $(shell find compliance setup.py pyproject.toml README.md -type f \
  \( -name '*.py' -o -name '*.toml' -o -name '*.lark' -o -name '*.rules' -o -name '*.lua' -o -name '*.md' -o -name '*.json' \
  -o -name '*.html' -o -name '*.css' -o -name '*.js' \) \
  -not -path '*/__pycache__/*' -print0 2>/dev/null | sort -z | xargs -0 cat | sha1sum | cut -c1-12)
PURE_STAMP := $(DIST)/.pure-$(SRC_HASH)
PLATFORM_STAMP := $(DIST)/.platform-$(SRC_HASH)
# (a shell glob, expanded when the recipe runs: the wheel's name holds the interpreter's tag)
PLATFORM_WHEEL := $$(ls $(CURDIR)/$(DIST)/compliance-*-cp3*-*.whl)
SDIST := $$(ls $(CURDIR)/$(DIST)/compliance-*.tar.gz)
# The compiled build under test: the platform wheel installed (with the test extras, from
# pip's cache or PyPI) into a venv of its own, so the suite imports the installed package and
# never the source tree.
WHEEL_VENV := .venv-wheel
WHEEL_STAMP := $(WHEEL_VENV)/.installed-$(SRC_HASH)
# What the compiled build's test run leaves out: services the hot path never reaches.
WHEEL_TESTS := -m "not spark and not chromium and not precommit and not redis"
# The installed package lives under .venv-wheel, so it cannot find ../shared/corpora beside itself.
# PYTHONSAFEPATH: a `python -c`/`-m` child a test starts in the checkout imports the installed
# package too, not the source in its working directory.
WHEEL_ENV := COMPLIANCE_CORPORA=$${COMPLIANCE_CORPORA:-$(abspath ..)/shared/corpora} PYTHONSAFEPATH=1

.PHONY: demo test test-wheel test-native bench bench-native bench-cold-start native dist accuracy accuracy-agreement fuzz venv redis chromium java compiler system clean

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

# Headless Chromium for the HTML-report test and the copy page's Selenium test: the browser,
# its WebDriver, and CJK fonts so Chinese renders in the screenshot.
chromium:
	@$(call apt_install,chromium,chromium)
	@$(call apt_install,chromedriver,chromium-driver)
	@fc-list 2>/dev/null | grep -qi 'noto sans cjk' || { echo "installing fonts-noto-cjk (apt)"; \
	  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null || \
	   sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null); }

# A C compiler for the compiled build.
compiler:
	@$(call apt_install,cc,gcc)

# The sdist, then the pure wheel built from it (so an incomplete sdist fails here).
$(PURE_STAMP): $(STAMP)
	rm -f $(DIST)/compliance-*.tar.gz $(DIST)/compliance-*-py3-none-any.whl $(DIST)/.pure-*
	COMPLIANCE_MYPYC=0 $(BIN)/python -m build --outdir $(DIST) .
	$(BIN)/python -m compliance.build check-wheel --pure $(DIST)/compliance-*-py3-none-any.whl
	touch $@

# build/: setuptools would ship a stale extension left there.
$(PLATFORM_STAMP): $(STAMP)
	@$(MAKE) --no-print-directory compiler
	rm -rf build $(DIST)/compliance-*-cp3*-*.whl $(DIST)/.platform-*
	COMPLIANCE_MYPYC=1 $(BIN)/python -m build --wheel --outdir $(DIST) .
	$(BIN)/python -m compliance.build check-wheel --compiled $(DIST)/compliance-*-cp3*-*.whl
	touch $@

dist: $(PURE_STAMP) $(PLATFORM_STAMP)
	@ls -l $(DIST)/compliance-*

$(WHEEL_STAMP): $(PLATFORM_STAMP)
	rm -rf $(WHEEL_VENV)
	$(PY) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q "$(PLATFORM_WHEEL)[dev,server]"
	touch $@

native: $(WHEEL_STAMP)

demo: $(CORE_STAMP)
	$(BIN)/compliance demo

# The whole suite on the Python source, then again on the platform wheel installed in its
# own venv (same tests, the services left out). `pytest` of that venv, not `python -m pytest`:
# the latter would put the source directory first on sys.path, ahead of the installed package
# (tests/test_build.py checks that the run imported the wheel, compiled).
test: $(STAMP) redis chromium java
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory test-wheel

test-wheel: $(WHEEL_STAMP) $(PURE_STAMP)
	$(WHEEL_ENV) COMPLIANCE_EXPECT_COMPILED=1 COMPLIANCE_WHEEL=$(PLATFORM_WHEEL) COMPLIANCE_SDIST=$(SDIST) \
	  $(WHEEL_VENV)/bin/pytest -q -p no:cacheprovider $(WHEEL_TESTS)

test-native: test-wheel

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds

# The lint benchmark and breakdown on the compiled build (the platform wheel's venv).
bench-native: $(WHEEL_STAMP)
	$(WHEEL_ENV) $(WHEEL_VENV)/bin/pytest benchmarks/bench_lint.py -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds
	$(WHEEL_ENV) $(WHEEL_VENV)/bin/python benchmarks/lint_breakdown.py

# `compliance lint` of a one-line file vs `python -c pass`, warm and cold cache, interleaved
# runs (benchmarks/cold_start.py; COLD_START_ARGS="--jieba --callgrind" for more).
bench-cold-start: $(CORE_STAMP)
	$(BIN)/python benchmarks/cold_start.py $(COLD_START_ARGS)

# Precision and recall per category against the labelled evaluation set (docs/accuracy.md);
# needs ../shared/corpora. `python -m benchmarks.accuracy --help` for the error listings and JSON.
accuracy: $(STAMP)
	$(BIN)/python -m benchmarks.accuracy

# Agreement between the gold labels and a second reader's blind labels of a seeded dev sample
# (docs/accuracy.md, "Agreement between readers"); needs ../shared/corpora. Lists corpus text:
# read it, do not commit it.
accuracy-agreement: $(STAMP)
	$(BIN)/python -m benchmarks.accuracy_agreement

# Long fuzzing: 20,000 random cases per hypothesis target (and per HTTP operation under
# schemathesis), then each atheris harness for 60 s (crash files land in the current directory).
fuzz: $(STAMP)
	COMPLIANCE_FUZZ_EXAMPLES=$${COMPLIANCE_FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest tests/fuzz tests/test_server_schemathesis.py -q -p no:cacheprovider
	for h in tests/fuzz/atheris_*.py; do [ -e "$$h" ] || continue; echo "== $$h"; \
	  $(BIN)/python "$$h" -max_total_time=$${FUZZ_SECONDS:-60} || exit 1; done

clean:
	rm -rf $(VENV) $(WHEEL_VENV) $(DIST) build .pytest_cache .benchmarks
