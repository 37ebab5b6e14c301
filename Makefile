# Kairos — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_DEV  := $(VENV)/.installed-dev

.PHONY: run test test-postgres test-postfix lint install install-dev bench-ingest bench-import pg-start pg-stop clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kairos needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

# The console is rebuilt when its sources change (npm ci + vite build; Node 20.19+).
CONSOLE_SRC := $(shell find console/src console/public -type f 2>/dev/null) console/index.html \
	console/package.json console/package-lock.json console/vite.config.ts console/tsconfig.json
CONSOLE_BUILT := src/kairos/console_dist/index.html

$(CONSOLE_BUILT): $(CONSOLE_SRC)
	scripts/console.sh build

## Set up (first time), build the console, migrate ./kairos.db, ensure a workspace (and print
## the first admin's setup link), serve on 127.0.0.1:8000 with the worker in-process.
run: $(STAMP_RUN) $(CONSOLE_BUILT)
	$(BIN)/kairos db upgrade
	$(BIN)/kairos workspace ensure-default
	$(BIN)/kairos serve

## Set up (first time) and run the whole test suite on SQLite: the console's own checks
## (types in step with the API, Vitest, size budget), then pytest with the browser tests
## (Debian's chromium, installed by scripts/chromium.sh).
test: $(STAMP_DEV) $(CONSOLE_BUILT)
	scripts/chromium.sh >/dev/null
	scripts/console.sh check-types
	scripts/console.sh test
	$(BIN)/pytest -q

## The same suite against a PostgreSQL server installed from Debian packages and started here.
test-postgres: $(STAMP_DEV) $(CONSOLE_BUILT)
	scripts/chromium.sh >/dev/null
	KAIROS_TEST_DATABASE_URL=$$(scripts/postgres.sh start) $(BIN)/pytest -q

## Email through a real MTA: Postfix from Debian packages, installed and started here.
test-postfix: $(STAMP_DEV)
	KAIROS_POSTFIX=$$(scripts/postfix.sh start) $(BIN)/pytest -q tests/messaging/test_postfix.py

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

bench-ingest: $(STAMP_DEV)
	$(BIN)/kairos bench ingest

bench-import: $(STAMP_DEV)
	$(BIN)/kairos bench import

pg-start:
	@scripts/postgres.sh start
pg-stop:
	@scripts/postgres.sh stop

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

## Build the web console into src/kairos/console_dist/ (needs Node 20.19+; docs/console.md).
.PHONY: console
console:
	scripts/console.sh build

## Screenshots of every console page in English and Chinese into docs/screenshots/.
screenshots: $(STAMP_DEV) $(CONSOLE_BUILT)
	scripts/chromium.sh >/dev/null
	KAIROS_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/console
