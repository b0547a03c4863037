# Slipway: `make demo` bakes a project with defaults and runs its main job;
# `make test` installs everything and passes every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
UV := $(BIN)/uv
DEMO_DIR ?= build/demo
PYTEST_ARGS ?=

.PHONY: setup test lint demo clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(UV) pip install --python $(BIN)/python --quiet -e '.[ml,aws,sandbox,dev]'
	touch $@

lint: setup
	$(BIN)/ruff check infra tests hooks
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: setup
	rm -rf $(DEMO_DIR)
	$(BIN)/slipway new --no-input --output-dir $(dir $(DEMO_DIR)) project_name=$(notdir $(DEMO_DIR))
	$(MAKE) -C $(DEMO_DIR) pipeline PIP_INSTALL="$(UV) pip install --python $(abspath $(DEMO_DIR))/.venv/bin/python"

clean:
	rm -rf $(VENV) build
