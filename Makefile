# Two commands do all the set-up: `make serve` and `make test`.
# Each creates the virtual environment in .venv when it is missing (or setup.cfg changed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LISTEN ?= tcp:8080:interface=127.0.0.1

.PHONY: serve test check bench stress matrix lint clean docs

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mockorigin serve --listen $(LISTEN) $(BEHAVIOURS)

test: $(STAMP)
	$(BIN)/ruff check -q mockorigin tests bench stress
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/mockorigin check behaviours

docs: $(STAMP)
	$(BIN)/python -m mockorigin.format.reference docs/format.md

lint: $(STAMP)
	$(BIN)/ruff check mockorigin tests bench stress

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

stress: $(STAMP)
	$(BIN)/python -m stress $(STRESS_ARGS)

matrix: $(STAMP)
	$(BIN)/python -m mockorigin.compat.matrix $(MATRIX_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info results
