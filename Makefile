# The two commands of the README: `make run` and `make test`. Both build .venv from scratch on a
# machine that has only Python 3.11 and the package registries.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check lint typecheck format bench check-run e2e clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.local-installed: $(BIN)/python requirements.txt requirements-local.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements-local.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.local-installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# only for its copy of the Compose specification's JSON schema (tests read the file; the
	# package's own old dependencies are not installed and it is never imported)
	$(BIN)/pip install --quiet --no-deps docker-compose==1.29.2
	touch $@

## run: the whole project on the embedded default (SQLite, sandbox, local S3); Ctrl-C stops it
run: $(VENV)/.local-installed
	$(BIN)/python scripts/run_local.py

## check-run: what `make run` does, then one DAG run through the REST API, then stop
check-run: $(VENV)/.local-installed
	$(BIN)/python scripts/run_local.py --check

## test: lint, format and type checks, the whole test suite (slow tests too), then the
## production topology end to end
test: lint typecheck $(VENV)/.e2e-installed $(VENV)/.browser-installed
	$(BIN)/python -m pytest
	$(BIN)/python scripts/e2e.py

## check: lint, format and type checks and the tests not marked slow (the quick loop)
check: lint typecheck
	$(BIN)/python -m pytest -m "not slow"

# Debian's Chromium for the page's browser test, installed before the tests run (a test's own
# time limit is for the test, not for a package download)
$(VENV)/.browser-installed: $(VENV)/.dev-installed
	$(BIN)/python -c "from informat_devtools.browser import ensure_chromium; ensure_chromium()"
	touch $@

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

$(VENV)/.e2e-installed: $(VENV)/.dev-installed requirements-e2e.txt
	$(BIN)/pip install --quiet -r requirements-e2e.txt
	touch $@

## e2e: the production topology natively (PostgreSQL, Redis, CeleryExecutor), every DAG end to end
e2e: $(VENV)/.e2e-installed
	$(BIN)/python scripts/e2e.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: performance figures, as ratios against baselines measured in the same run
bench: $(VENV)/.dev-installed
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) .local
