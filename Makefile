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
	# llama.cpp's OpenAI-compatible server, for the HTTP chat backend test (compiles in ~5 min on 2 cores).
	# A portable build: the native one crashed on this machine's CPU (AMX) at the first token.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q --no-cache-dir "llama-cpp-python[server]==0.3.36"
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
