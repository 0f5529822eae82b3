# Two entry points for a fresh machine: `make demo` (main experiment) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DEFAULT := $(wildcard ../shared/data)
export MINIGRAD_DATA ?= $(if $(DATA_DEFAULT),$(abspath $(DATA_DEFAULT)),)

.PHONY: demo test test-oldest docs bench gpu-check clean-venv

$(VENV)/.stamp-base: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[test,study,tensorboard]'
	touch $@

demo: $(VENV)/.stamp-base  # minigrad alone: the demo needs no torch
	$(PY) -m experiments.mnist_mlp --out results/mnist_mlp

test: $(VENV)/.stamp-test
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PY) -m pytest -q -ra

# The oldest dependency set setup.cfg claims (.ci/oldest-constraints.txt), in its own venv: the whole suite but
# the CuPy-double cases (the same engine code over the same NumPy, a third of the run; `make test` has them).
OLDEST_VENV ?= .venv-oldest
$(OLDEST_VENV)/.stamp: setup.cfg pyproject.toml .ci/oldest-constraints.txt
	rm -rf $(OLDEST_VENV) && $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q -c .ci/oldest-constraints.txt -e '.[test]'
	$(OLDEST_VENV)/bin/python -m pip check
	touch $@

test-oldest: $(OLDEST_VENV)/.stamp
	$(OLDEST_VENV)/bin/python -c "import numpy, torch; print('oldest set: torch', torch.__version__, 'numpy', numpy.__version__)"
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(OLDEST_VENV)/bin/python -m pytest -q -ra -k "not cupy_contract"

# The API reference and docs/ as a site in site/, warnings as errors (mkdocs.yml: strict). Its own small venv holds
# setup.cfg's `docs` extra alone: griffe reads minigrad's source without importing it.
DOCS_VENV ?= .venv-docs
$(DOCS_VENV)/.stamp: setup.cfg
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(PYTHON) -c "import configparser; c = configparser.ConfigParser(); c.read('setup.cfg'); \
	print(c['options.extras_require']['docs'].strip())" > $(DOCS_VENV)/requirements.txt
	$(DOCS_VENV)/bin/python -m pip install -q -r $(DOCS_VENV)/requirements.txt
	touch $@

docs: $(DOCS_VENV)/.stamp
	$(DOCS_VENV)/bin/python -m mkdocs build --strict

bench: $(VENV)/.stamp-test
	$(PY) -m benchmarks.epoch

gpu-check:  # on a lent GPU machine, < 8 min: from the working tree, no install; logs and JSON under $$OUT
	PYTHONPATH=. $(PYTHON) -m benchmarks.gpu_check

clean-venv:
	rm -rf $(VENV) $(OLDEST_VENV) $(DOCS_VENV)
