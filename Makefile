# The two commands of the README: `make demo` and `make test`. Each prepares what it needs.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench format

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m appliance --config config/demo.toml demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
