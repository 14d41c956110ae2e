# The two Quickstart commands: `make run` and `make test`. Both build .venv on first use.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
CONFIG  ?= config.toml
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_UI   := $(VENV)/.installed-ui

.PHONY: run once ui test lint unit bench bench-archive clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/newswatch --config $(CONFIG) run

once: $(STAMP_RUN)
	$(BIN)/newswatch --config $(CONFIG) run --once

lint: $(STAMP_TEST)
	$(BIN)/ruff check daemon tests bench
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

$(STAMP_UI): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[ui]'
	touch $@ $(STAMP_RUN)

ui: $(STAMP_UI)
	$(BIN)/newswatch --config $(CONFIG) ui $(if $(PORT),--port $(PORT))

test: lint unit

bench: $(STAMP_TEST)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	for b in bench/bench_*.py; do [ $$b = bench/bench_archive.py ] && continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Its first run builds a 1,000,000-article archive (about an hour and 7 GB), cached for the next runs.
bench-archive: $(STAMP_TEST)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python bench/bench_archive.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
