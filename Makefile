# The two commands of the README. Both work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint bench clean

$(BIN)/metareg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/metareg

install: $(BIN)/metareg

demo: install
	$(BIN)/metareg demo

lint: install
	$(BIN)/ruff check metareg tests bench
	$(BIN)/ruff format --check metareg tests bench
	$(BIN)/mypy metareg
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench --size 10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
