# vss-shell: `make run` starts the shell on the local emulator, `make test` runs the tests,
# `make bench` measures it (table on stdout, figures in bench/results.json).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# What running needs (`pip install -e .`), and that plus the test extras.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# setuptools tells every editable install of this layout (config/ installed as
# vss_shell.defaults) to mind same-named folders: information only, so it is not shown.
# Deprecation warnings still are. No pip cache: `make run` leaves the person's
# config, state and cache folders as they were.
PIP := PYTHONWARNINGS="ignore:Editable installation" PIP_NO_CACHE_DIR=1 $(BIN)/python -m pip

.PHONY: run test lint bench clean venv compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[test]'
	touch $@ $(RUN_STAMP)

venv: $(RUN_STAMP)

# Bytecode once, as a wheel install has it: with PYTHONDONTWRITEBYTECODE an editable
# install would otherwise compile every module at every start.
compile: $(RUN_STAMP)
	$(BIN)/python -m compileall -q shell

run: compile
	$(BIN)/vss --demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check shell tests

test: lint
	$(BIN)/python -m pytest -q

# The bench needs only what running needs (its pseudo-terminals are the standard pty).
bench: compile
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info shell/*.egg-info .pytest_cache .ruff_cache .hypothesis bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
