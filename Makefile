PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NODE_TOOLS := node_modules/.package-lock.json

.PHONY: run test lint format requirements bench clean

## run: install, migrate, create demo staff and data on first start, serve on 127.0.0.1:8000
## (PORT=8001 make run for another port)
run: $(VENV)/.run-installed
	$(BIN)/python manage.py serve

## test: the whole suite against PostgreSQL (DATABASE_URL, else an embedded one)
test: $(VENV)/.dev-installed $(NODE_TOOLS)
	$(BIN)/python -m pytest

## bench: load 208,000 patients and 1,000,000 sessions (once, into bench_clinic beside
## DATABASE_URL's database), serve the API under gunicorn, drive it with locust, print the table
bench: $(VENV)/.bench-installed
	$(BIN)/python bench/run.py

lint: $(VENV)/.dev-installed $(NODE_TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=postgres://typecheck.invalid/clinic $(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --fail-on-warn --validate --file var/openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint var/openapi.yaml
	npx --no-install spectral lint --fail-severity=warn var/openapi.yaml

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

requirements: $(VENV)/.dev-installed
	$(BIN)/pip-compile -q --strip-extras --no-emit-find-links --no-emit-index-url requirements.in -o requirements.txt
	$(BIN)/pip-compile -q --strip-extras --no-emit-find-links --no-emit-index-url requirements-dev.in -o requirements-dev.txt
	$(BIN)/pip-compile -q --strip-extras --no-emit-find-links --no-emit-index-url requirements-bench.in -o requirements-bench.txt

# The Node tools of package-lock.json: FHIR validators (the tests) and OpenAPI linters (lint).
$(NODE_TOOLS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.dev-installed
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-bench.txt
	touch $@

clean:
	rm -rf $(VENV)
