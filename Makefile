# Quorum: `make start` serves on 127.0.0.1:8080; `make test` runs every check.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: start test install lint check-pg worker bench clean

$(BIN)/quorum: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

web/static/vendor/htmx.min.js: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p web/static/vendor
	cp web/node_modules/htmx.org/dist/htmx.min.js $@

install: $(BIN)/quorum web/static/vendor/htmx.min.js

start: install
	$(BIN)/quorum start

worker: install
	$(BIN)/quorum worker

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy app
	$(BIN)/lint-imports

test: lint
	QUORUM_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider
	QUORUM_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m bench.import_export --tasks 100000
	$(BIN)/python -m bench.label_stream --tasks 100000

clean:
	rm -rf $(VENV) web/node_modules web/static/vendor
