# The two commands of the README's quick start:
#   make demo    set up .venv if needed, then run the demo:  .venv/bin/python train.py
#   make test    set up .venv if needed, then run the tests: .venv/bin/python -m pytest -q
# Options (on the command line):
#   make PYTHON=python3.12 demo       the Python that creates .venv (default python3)
#   make demo ARGS="--preset smoke"   arguments for train.py
#   make test TESTS="-k tokenizer"    arguments for pytest
# Written for GNU make 3.81 (what macOS has) and newer.

PYTHON ?= python3
ARGS   ?=
TESTS  ?=
# The oldest Python minireason supports, read from python_requires in setup.cfg (e.g. 3.11).
PY_MIN := $(shell sed -n 's/^python_requires *= *>= *//p' setup.cfg)
VENV   := .venv
PY     := $(VENV)/bin/python
# An empty file written after a successful install. make compares its date with setup.cfg and
# pyproject.toml, so pip runs again only when one of them changed since (or after `make clean`).
STAMP  := $(VENV)/.installed-test-plot

.PHONY: help demo test setup clean

help:
	@echo "make demo    set up .venv if needed, then run the demo (train.py; pass options with ARGS=\"...\")"
	@echo "make test    set up .venv if needed, then run the tests (pytest -q; pass options with TESTS=\"...\")"
	@echo "make setup   only set up .venv        make clean   delete .venv (runs/ is kept)"

demo: setup
	$(PY) train.py $(ARGS)

test: setup
	$(PY) -m pytest -q $(TESTS)

setup: $(STAMP)

# Step 1: create .venv. First check $(PYTHON): each problem gets one line saying what to do.
# A failed `python -m venv` can leave a half-made .venv behind, so it is removed before stopping.
$(PY):
	@command -v "$(PYTHON)" >/dev/null 2>&1 || { echo "minireason needs Python $(PY_MIN) or newer, but '$(PYTHON)' was not found: install it (python.org, Homebrew or your package manager) or run: make PYTHON=/path/to/python3 $(MAKECMDGOALS)" >&2; exit 1; }
	@"$(PYTHON)" scripts/check_env.py "$(PYTHON)" "$(MAKECMDGOALS)"
	@echo "creating $(VENV) with $(PYTHON)"
	@"$(PYTHON)" -m venv $(VENV) || { rm -rf $(VENV); echo "could not create $(VENV) with $(PYTHON) -m venv (see above): on Debian/Ubuntu install the venv module with: sudo apt install python3-venv" >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

# Step 2: install minireason in editable mode with the test and plot extras, then write the stamp.
$(STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[test,plot]"
	@touch $@

clean:
	rm -rf $(VENV)
