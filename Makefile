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

# The suite on every core (pytest-xdist; each worker has its own PostgreSQL database and
# SQLite files). Extra pytest options in PYTEST_ARGS, e.g. skip the long fault soaks with
#   make test PYTEST_ARGS='-m "not soak"'
# Under CI the one test that restarts the shared PostgreSQL server runs afterwards, alone.
PYTEST_ARGS ?=
test: lint
	$(BIN)/pytest -n auto $(PYTEST_ARGS)
	@case "$$CI" in 1|true|TRUE|True|yes) \
	  METAREG_TEST_RESTART_POSTGRES=1 $(BIN)/pytest -p no:cacheprovider tests/reliability/test_fault_postgres_restart.py;; \
	esac

bench: install
	$(BIN)/python -m bench --size 10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
