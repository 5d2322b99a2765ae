# One entry point for people and CI. Every target creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest workers for make test: the suite spends most of its time waiting on processes (the real engine tier)
TEST_WORKERS ?= 2
# uv and poetry, for the engine tier's project shapes that use them: each in a virtualenv of its own, linked into
# $(BIN), as `pipx install` would do it
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: install test test-all lint demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,dev]'
	touch $(STAMP)

$(TOOLS_STAMP): $(STAMP) Makefile
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/bin/python -m pip install -q uv==0.13.9 poetry==2.5.1
	ln -sfn ../tools/bin/uv $(BIN)/uv
	ln -sfn ../tools/bin/poetry $(BIN)/poetry
	touch $(TOOLS_STAMP)

## the Python packages, uv and poetry, then the pinned Pulumi CLI (built once per machine from the Go module proxy;
## needs Go)
install: $(STAMP) $(TOOLS_STAMP)
	@engine/install.sh $(BIN)

## the test command (what CI runs): the language host's Go tests, then the whole suite minus the long `slow` variants
test: install
	@if command -v go >/dev/null 2>&1; then cd engine && go test ./cmd/...; fi
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS)

## everything, including the long fault-injection and fuzzing variants
test-all: install
	@if command -v go >/dev/null 2>&1; then cd engine && go test ./cmd/...; fi
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

## ruff (lint, C901 at 12, format); mypy on the package; mypy --strict on what users of py.typed rely on (the client, the core, the errors)
lint: $(STAMP)
	$(BIN)/ruff check provider tests bench examples
	$(BIN)/ruff format --check provider tests bench examples
	$(BIN)/mypy provider/pulumi_mistral
	$(BIN)/mypy --strict provider/pulumi_mistral/client provider/pulumi_mistral/core provider/pulumi_mistral/errors.py

## the main job: deploy the quickstart against the local server, show drift, destroy
demo: install
	$(BIN)/python examples/demo.py

bench: install
	$(BIN)/python bench/client.py
	$(BIN)/python bench/local_server.py
	$(BIN)/python bench/provider.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
