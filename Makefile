# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-llm index lint bench fetch clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rag index
	$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/python -m pytest

# The fast part (no real embedder, no browser) on two workers: the edit-test loop.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not integration and not e2e"

# The LLM tests against a real llama.cpp server (Gemma 3 270M on 127.0.0.1), installed once
# into LLM_CACHE (the llama-cpp-python wheel is built there on the first run, ~7 minutes).
LLM_CACHE ?= $(HOME)/.cache/rag-test-llm
test-llm: $(STAMP)
	$(BIN)/python tests/real_llm.py --cache $(LLM_CACHE)

index: $(STAMP)
	$(BIN)/rag index

fetch: $(STAMP)
	$(BIN)/rag fetch

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks app.py
	$(BIN)/ruff format --check src tests benchmarks app.py

bench: $(STAMP)
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/query.py

clean:
	rm -rf $(VENV) index/current index/builds index/qdrant
