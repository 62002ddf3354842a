# AIFF: two commands on a fresh machine — `make up` runs the system, `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STATE := $(or $(AIFF_STATE_DIR),$(CURDIR)/.state)
TEST_DATABASE_URL ?= postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_test
PYTEST_ARGS ?=

.PHONY: help up down test stack stack-down status install frontend browser migrate seed app-start app-stop bench lint contract tools

help:
	@echo "make up      install, start Kafka/Postgres/Redis, migrate, start workers + API, seed demo data"
	@echo "make test    install, start the stack, run the whole test suite against it"
	@echo "make down    stop the API, workers and the stack (data is kept)"
	@echo "make status  what is running"
	@echo "make bench   run the benchmarks under bench/"
	@echo "make tools   install the checkers the tests run (promtool)"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found; install Python 3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

frontend: install
	@bash deploy/frontend.sh

browser:
	@bash deploy/browser.sh

stack:
	@bash deploy/stack.sh up

tools:
	@bash deploy/stack.sh tools

stack-down:
	@bash deploy/stack.sh down

migrate: install stack
	@$(BIN)/aiff db upgrade

app-start: install
	@bash deploy/app.sh start

app-stop:
	@bash deploy/app.sh stop

seed: install
	@$(BIN)/aiff seed --if-empty --wait

up: install frontend stack migrate app-start seed
	@bash deploy/app.sh urls

down: app-stop stack-down

status:
	@bash deploy/stack.sh status || true
	@bash deploy/app.sh status || true

test: install frontend browser tools stack
	@DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/aiff db wait
	@set +e; DATABASE_URL=$(TEST_DATABASE_URL) AIFF_STATE_DIR=$(STATE) $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests"; exit 1; fi; exit $$rc

contract: install
	@$(BIN)/aiff events export

bench: install stack migrate
	@$(BIN)/python bench/assignment.py
	@$(BIN)/python bench/ingest.py
