# Two entry points, both idempotent on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/deskguard demo

test: $(STAMP)
	bash .ci/debian-packages
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/pip install -q eql  # Elastic's EQL engine (AGPL): compared against in bench/detect.py only
	$(BIN)/python bench/run_all.py  # every bench/*.py, each one's JSON line into bench/results.json

clean:
	rm -rf $(VENV) var .pytest_cache
