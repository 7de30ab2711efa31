# kdtheory — the two quick-start commands:
#   make verify   create .venv, install, run `kdverify run` on the embedded data, write reports/
#   make test     create .venv with the test extras, run pytest on 2 workers
# Both are idempotent: a second run only re-installs when pyproject.toml or constraints/ changed.
# Both install the exact versions CI tested (constraints/ci.txt, pip -c) and the PEPit oracles of paper 000
# (extra `oracles`, pinned by constraints/oracles.txt); `make test` also installs the `dask` extra
# (constraints/dask.txt) so the LocalCluster executor tests run in CI. Opt-outs: ORACLES=0 (no oracle
# extra; `make test` then deselects the `oracles` tests), PINNED=0 (resolve pyproject's open ranges, e.g. on another Python).
# `make pins` regenerates both constraint files from a fresh venv; `make test-thorough`: 500 hypothesis examples.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Never an open range: a bare `torch` pulls a multi-GB CUDA build. A user with a GPU installs their
# CUDA torch into $(VENV) first; it is then importable and kept as it is.
TORCH_PIN := torch==2.13.0
SEED ?= 0
SIZE ?= quick
OUT  ?= reports
FIGS ?= figures
PYTEST_WORKERS ?= 2
# One BLAS/OpenMP thread per pytest worker: two workers with two OpenBLAS threads each oversubscribe a
# 2-core machine, and OpenBLAS's spinning threads then make small factorisations 100x slower.
TEST_THREADS ?= 1
ORACLES ?= 1
PINNED  ?= 1
PINS    := constraints/ci.txt constraints/oracles.txt constraints/dask.txt
PINS_VENV ?= .venv-pins

ifeq ($(PINNED),1)
  PIN_BASE := -c constraints/ci.txt
  PIN_ORACLES := -c constraints/oracles.txt
  PIN_DASK := -c constraints/dask.txt
endif
ifeq ($(ORACLES),1)
  PIN_ARGS := $(PIN_BASE) $(PIN_ORACLES) $(PIN_DASK)
  EXTRAS_VERIFY := [oracles]
  EXTRAS_TEST := [test,oracles,dask]
  PYTEST_MARK :=
else
  PIN_ARGS := $(PIN_BASE) $(PIN_DASK)
  EXTRAS_VERIFY :=
  EXTRAS_TEST := [test,dask]
  PYTEST_MARK := -m "not oracles"
endif
# one stamp per variant, so that switching ORACLES/PINNED re-installs
STAMP := $(VENV)/.installed-o$(ORACLES)p$(PINNED)
PYTEST_ENV := OMP_NUM_THREADS=$(TEST_THREADS) OPENBLAS_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS)

.PHONY: verify test test-thorough figs gpu list bench mutate pins clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
	  echo "keeping the installed torch $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	else \
	  $(BIN)/python -m pip install -q $(PIN_BASE) "$(TORCH_PIN)"; \
	fi
	@touch $@

# torch is not in constraints/ci.txt: it is pinned above, and a user's own torch (kept) must not clash with a pin
$(STAMP): pyproject.toml $(PINS) $(VENV)/.torch
	$(BIN)/python -m pip install -q $(PIN_ARGS) -e ".$(EXTRAS_VERIFY)"
	@touch $@

$(STAMP)-test: pyproject.toml $(PINS) $(VENV)/.torch
	$(BIN)/python -m pip install -q $(PIN_ARGS) -e ".$(EXTRAS_TEST)"
	@touch $@ $(STAMP)

verify: $(STAMP)
	$(BIN)/kdverify run --size $(SIZE) --seed $(SEED) --out $(OUT)

test: $(STAMP)-test
	$(PYTEST_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -p no:cacheprovider $(PYTEST_MARK)

# 500 examples per property test instead of CI's 25 (slow: run by hand, not in CI)
test-thorough: $(STAMP)-test
	HYPOTHESIS_PROFILE=thorough $(PYTEST_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -p no:cacheprovider \
	  $(PYTEST_MARK) $(or $(TESTS),tests)

# Refresh the pins: a fresh venv built as above, from the open ranges of pyproject.toml; review the diff, run
# `make clean test`, commit constraints/ with the reason (e.g. "numpy 2.4.6 -> 2.5.0").
pins:
	rm -rf $(PINS_VENV) && $(PYTHON) -m venv $(PINS_VENV)
	$(PINS_VENV)/bin/python -m pip install -q "$(TORCH_PIN)"
	$(PINS_VENV)/bin/python -m pip install -q -e ".[test]"
	@{ sed -n '/^#/p' constraints/ci.txt; \
	   $(PINS_VENV)/bin/python -m pip freeze --exclude-editable | grep -v -i -e '^torch==' -e '^kdtheory'; } > constraints/ci.txt.new
	$(PINS_VENV)/bin/python -m pip install -q -c constraints/ci.txt.new -e ".[test,oracles]"
	@{ sed -n '/^#/p' constraints/oracles.txt; \
	   $(PINS_VENV)/bin/python -m pip freeze --exclude-editable | grep -v -i -e '^torch==' -e '^kdtheory' \
	   | grep -v -x -F -f constraints/ci.txt.new; } > constraints/oracles.txt.new
	mv constraints/ci.txt.new constraints/ci.txt && mv constraints/oracles.txt.new constraints/oracles.txt
	rm -rf $(PINS_VENV)
	@git diff --stat -- constraints/ 2>/dev/null || true

figs: $(STAMP)
	$(BIN)/kdverify figs --size $(SIZE) --out $(FIGS)

gpu: $(STAMP)
	$(BIN)/kdverify gpu --size $(SIZE) --seed $(SEED) --out $(OUT)

list: $(STAMP)
	$(BIN)/kdverify list

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Mutation score of kdtheory's formula code (run by hand, not in CI): reports/mutation.json.
# MUTANTS=0 runs every mutant (hours); the default sample needs ~8-10 CPU minutes (~5 min on 2 idle cores).
MUTANTS ?= 100
mutate: $(STAMP)-test
	$(BIN)/python tools/mutate.py --sample $(MUTANTS) --jobs $(PYTEST_WORKERS) --out $(OUT)/mutation.json

clean:
	rm -rf $(VENV) $(PINS_VENV) $(OUT) $(FIGS) .pytest_cache .hypothesis
