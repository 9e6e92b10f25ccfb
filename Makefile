# radsem: the two commands of the README quick start.
#   make demo   sets everything up in .venv/ and runs `radsem demo` on the built-in simulated cohort
#   make test   sets everything up in .venv/ and runs the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.radsem-setup
DEMO_OUT ?= demo-output
PYTEST_ARGS ?=

.PHONY: setup demo test lint clean

setup: $(STAMP)

# torch is pinned to the CPU build (2.13.0); pyradiomics 3.0.1 has no wheel for Python 3.11
# and builds against the numpy already installed, hence --no-build-isolation after numpy.
# rpy2 (the `r` extra) is installed only where R is present.
$(STAMP): pyproject.toml requirements-build.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "radsem needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-build.txt
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet --no-build-isolation pyradiomics==3.0.1
	if command -v R >/dev/null 2>&1; then \
	    $(PY) -m pip install --quiet -e ".[dev,r]"; \
	else \
	    echo "R not found: installing without rpy2; tests that need R will be skipped"; \
	    $(PY) -m pip install --quiet -e ".[dev]"; \
	fi
	touch $(STAMP)

demo: setup
	$(VENV)/bin/radsem demo --out $(DEMO_OUT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check radsem tests benchmarks examples

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
