# radsem: the two commands of the README quick start.
#   make demo   sets everything up in .venv/ and runs `radsem demo` on the built-in simulated cohort
#   make test   sets everything up in .venv/ and runs the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.radsem-setup
DEMO_OUT ?= demo-output
PYTEST_ARGS ?=
LOCK := requirements.lock
LOCK_ARGS ?=

.PHONY: setup lock demo test lint clean

setup: $(STAMP)

# Installs come from requirements.lock (made by pip-tools from pyproject.toml, all extras; see
# `make lock`), so a fresh machine gets the versions CI tested. The order matters: pyproject's
# build helpers and numpy first, because pyradiomics 3.0.1 has no wheel for Python 3.11 and
# builds against the installed numpy (--no-build-isolation); torch is the 2.13.0 CPU build.
# rpy2 (the `r` extra) is installed only where R is present.
$(STAMP): pyproject.toml requirements-build.txt $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "radsem needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c $(LOCK) -r requirements-build.txt
	$(PY) -m pip install --quiet -c $(LOCK) torch
	$(PY) -m pip install --quiet -c $(LOCK) --no-build-isolation pyradiomics
	if command -v R >/dev/null 2>&1; then \
	    $(PY) -m pip install --quiet -r $(LOCK); \
	else \
	    echo "R not found: installing without rpy2; tests that need R will be skipped"; \
	    grep -v '^rpy2==' $(LOCK) > $(VENV)/lock-without-r.txt; \
	    $(PY) -m pip install --quiet -r $(VENV)/lock-without-r.txt; \
	fi
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock after a change of pyproject.toml's dependencies (needs a set-up .venv):
# pip-compile keeps every pinned version it can and moves only what the change requires;
# `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions.
lock: setup
	@echo "refreshing $(LOCK) from pyproject.toml and requirements-build.txt"
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile --quiet --allow-unsafe --strip-extras --no-emit-index-url \
	    --no-emit-find-links --pip-args "--no-build-isolation" --extra imaging --extra deep --extra r --extra dev \
	    $(LOCK_ARGS) -o $(LOCK) pyproject.toml requirements-build.txt

demo: setup
	$(VENV)/bin/radsem demo --out $(DEMO_OUT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check radsem tests benchmarks examples
	$(VENV)/bin/ruff format --check radsem tests benchmarks examples

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
