# One entry point for people and CI. Every target creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-all lint demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,dev]'
	touch $(STAMP)

## the Python packages, then the pinned Pulumi CLI (built once per machine from the Go module proxy; needs Go)
install: $(STAMP)
	@engine/install.sh $(BIN)

## the test command (what CI runs): the whole suite minus the long `slow` variants
test: install
	$(BIN)/python -m pytest -q -m "not slow"

## everything, including the long fault-injection and fuzzing variants
test-all: install
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check provider tests bench examples
	$(BIN)/mypy provider/pulumi_mistral

## the main job: deploy the quickstart against the local server, show drift, destroy
demo: install
	$(BIN)/python examples/demo.py

bench: install
	$(BIN)/python bench/client.py
	$(BIN)/python bench/local_server.py
	$(BIN)/python bench/provider.py
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
