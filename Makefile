# kdtheory — the two quick-start commands:
#   make verify   create .venv, install, run `kdverify run` on the embedded data, write reports/
#   make test     create .venv with the test extras, run pytest on 2 workers
# Both are idempotent: a second run only re-installs when pyproject.toml changed.

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

.PHONY: verify test figs gpu list bench mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
	  echo "keeping the installed torch $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	else \
	  $(BIN)/python -m pip install -q "$(TORCH_PIN)"; \
	fi
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.installed

verify: $(VENV)/.installed
	$(BIN)/kdverify run --size $(SIZE) --seed $(SEED) --out $(OUT)

test: $(VENV)/.installed-test
	OMP_NUM_THREADS=$(TEST_THREADS) OPENBLAS_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q -p no:cacheprovider

figs: $(VENV)/.installed
	$(BIN)/kdverify figs --size $(SIZE) --out $(FIGS)

gpu: $(VENV)/.installed
	$(BIN)/kdverify gpu --size $(SIZE) --seed $(SEED) --out $(OUT)

list: $(VENV)/.installed
	$(BIN)/kdverify list

bench: $(VENV)/.installed
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Mutation score of kdtheory's formula code (run by hand, not in CI): reports/mutation.json.
# MUTANTS=0 runs every mutant (hours); the default sample needs ~8-10 CPU minutes (~5 min on 2 idle cores).
MUTANTS ?= 100
mutate: $(VENV)/.installed-test
	$(BIN)/python tools/mutate.py --sample $(MUTANTS) --jobs $(PYTEST_WORKERS) --out $(OUT)/mutation.json

clean:
	rm -rf $(VENV) $(OUT) $(FIGS) .pytest_cache .hypothesis
