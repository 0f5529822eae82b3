# Two entry points for a fresh machine: `make demo` (main experiment) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DEFAULT := $(wildcard ../shared/data)
export MINIGRAD_DATA ?= $(if $(DATA_DEFAULT),$(abspath $(DATA_DEFAULT)),)

.PHONY: demo test bench clean-venv

$(VENV)/.stamp-base: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[test,study]'
	touch $@

demo: $(VENV)/.stamp-base  # minigrad alone: the demo needs no torch
	$(PY) -m experiments.mnist_mlp --out results/mnist_mlp

test: $(VENV)/.stamp-test
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PY) -m pytest -q -ra

bench: $(VENV)/.stamp-test
	$(PY) -m benchmarks.epoch

clean-venv:
	rm -rf $(VENV)
