# The two commands: `make demo` (main job, small built-in default) and `make test` (all tests);
# `make test-fast` skips the tests marked slow.
# Both create .venv, install everything (system packages too when we are root with apt), then run.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin

.PHONY: demo test test-fast setup bench clean

demo: setup
	$(BIN)/glassml demo --out demo_output

test: setup
	$(BIN)/python -m pytest -q tests

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow" tests

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	VENV=$(VENV) PYTHON=$(PYTHON) sh scripts/setup.sh
	touch $@

# the benchmarks compare against chemprop (the `bench` extra), which `setup` leaves out
bench: setup
	$(BIN)/python -m pip install -q -e ".[all,bench]"
	mkdir -p benchmarks/results
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --json benchmarks/results/$$(basename $$b .py).json || exit 1; done

clean:
	rm -rf $(VENV) demo_output
