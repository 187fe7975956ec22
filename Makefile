# Two commands do all the set-up on a fresh machine:
#   make demo   installs into .venv and runs the default weak-to-strong experiment (offline)
#   make test   installs into .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch first, so nothing later pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[offline,dev]'
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	touch $@

demo: install
	$(BIN)/superalign run

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/featurize.py
	$(BIN)/python benchmarks/heads.py
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf $(VENV)
