# Two commands (see README, Quick start):  make run   |   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SCENARIO ?= moscow_reference_center
ARGS ?=

.PHONY: run test test-all validate bench mutate install clean

# setuptools' "Editable installation" notice (its import finder for `scenarios/`, mapped into the package) is
# information, not a fault: hidden by its message alone, so any real warning from the build still shows.
$(BIN)/radsim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/python -m pip install --quiet -e ".[all,test]"
	$(BIN)/radsim compile
	@touch $@

install: $(BIN)/radsim

run: install  ## install, then run the default scenario (reference centre, 4 weeks, 5 replications)
	$(BIN)/radsim run $(SCENARIO) --replications 5 $(ARGS)

test: install  ## install, then run the test suite (the default run, < 10 min on 2 cores)
	$(BIN)/python -m pytest -n 2 -q

test-all: install  ## the default suite plus the slow statistical checks
	$(BIN)/python -m pytest -n 2 -q -m "slow or not slow"

validate: install  ## every scenario under scenarios/validation/ against theory and the reference volumes
	$(BIN)/radsim validate

bench: install  ## speed and memory benchmarks (see README)
	$(BIN)/python benchmarks/bench_mmc.py
	$(BIN)/python benchmarks/bench_mmc.py --command
	$(BIN)/python benchmarks/bench_mmc_floor.py
	$(BIN)/python benchmarks/bench_city.py
	$(BIN)/python benchmarks/bench_worklist.py
	$(BIN)/python benchmarks/bench_dashboard.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_staff.py
	$(BIN)/python benchmarks/bench_dicom.py

mutate: install  ## mutation testing of simulator/metrics.py and simulator/triage/ with their fast tests (docs/testing.md)
	$(BIN)/python -m pip install --quiet -e ".[all,test,mutation]"
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) out .pytest_cache mutants
