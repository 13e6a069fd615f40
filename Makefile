# Firestorm: `make help` lists the targets. Every target sets itself up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Tests get their own broker, Redis and state so they never touch a running demo.
# The ports can be moved (e.g. `make test TEST_PORT_BASE=21000`) so that two
# checkouts on one machine can run their tests side by side.
TEST_PORT_BASE ?= 19000
BENCH_PORT_BASE ?= 29000
SOAK_PORT_BASE ?= 28000
SOAK_ARGS ?=
EVALUATE_ARGS ?=  # e.g. --quick, --json run.json (bench/evaluate.py --help)
TEST_ENV := FIRESTORM_STACK_DIR=$(CURDIR)/.stack/test \
	FIRESTORM_KAFKA_PORT=$(shell echo $$(($(TEST_PORT_BASE) + 92))) \
	FIRESTORM_KAFKA_CONTROLLER_PORT=$(shell echo $$(($(TEST_PORT_BASE) + 93))) \
	FIRESTORM_REDIS_PORT=$(shell echo $$(($(TEST_PORT_BASE) + 379))) \
	FIRESTORM_KAFKA_SASL_SSL_PORT=$(shell echo $$(($(TEST_PORT_BASE) + 94)))
SOAK_ENV := FIRESTORM_STACK_DIR=$(CURDIR)/.stack/soak \
	FIRESTORM_KAFKA_PORT=$(shell echo $$(($(SOAK_PORT_BASE) + 92))) \
	FIRESTORM_KAFKA_CONTROLLER_PORT=$(shell echo $$(($(SOAK_PORT_BASE) + 93))) \
	FIRESTORM_REDIS_PORT=$(shell echo $$(($(SOAK_PORT_BASE) + 379))) \
	FIRESTORM_KAFKA_SASL_SSL_PORT=$(shell echo $$(($(SOAK_PORT_BASE) + 94)))
BENCH_ENV := FIRESTORM_STACK_DIR=$(CURDIR)/.stack/bench \
	FIRESTORM_KAFKA_PORT=$(shell echo $$(($(BENCH_PORT_BASE) + 92))) \
	FIRESTORM_KAFKA_CONTROLLER_PORT=$(shell echo $$(($(BENCH_PORT_BASE) + 93))) \
	FIRESTORM_REDIS_PORT=$(shell echo $$(($(BENCH_PORT_BASE) + 379)))

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: install
install: $(STAMP) ## create .venv and install Firestorm with its dev tools

.PHONY: demo
demo: $(STAMP) ## Kafka, Redis, a worker; a sample storm: the alert, console, ack, timeline page
	deploy/local/demo.sh

.PHONY: demo-stop
demo-stop: ## stop the demo's worker, pages, Kafka and Redis
	deploy/local/demo.sh stop

.PHONY: test
test: $(STAMP) ## every test: unit, doctests, and integration on a real Kafka and Redis
	deploy/local/test-tools.sh
	$(TEST_ENV) deploy/local/with-stack.sh $(BIN)/pytest

.PHONY: test-unit
test-unit: $(STAMP) ## unit tests and doctests only (no services)
	$(BIN)/pytest -m 'not integration'

.PHONY: lint
lint: $(STAMP) ## ruff
	$(BIN)/ruff check streams models alerting tests bench

.PHONY: bench
bench: $(STAMP) ## benchmarks: scorer, replay throughput, mention-to-console delay
	$(BENCH_ENV) deploy/local/with-stack.sh $(BIN)/python bench/run.py

.PHONY: soak
soak: $(STAMP) ## 1M mentions + 100k fuzzed, kill -9s, Redis down, a broker restart: nothing lost (long; not in CI)
	$(SOAK_ENV) deploy/local/with-stack.sh $(BIN)/python -m tests.integration.soak $(SOAK_ARGS)

.PHONY: evaluate
evaluate: $(STAMP) ## detection quality on generated storms and backgrounds (~10 min on 2 free cores; EVALUATE_ARGS=--quick: ~1 min)
	$(BIN)/python bench/evaluate.py $(EVALUATE_ARGS)

.PHONY: stack-start
stack-start: $(STAMP) ## start the local Kafka broker and Redis
	deploy/local/stack.sh start

.PHONY: stack-stop
stack-stop: ## stop the local Kafka broker and Redis
	deploy/local/stack.sh stop

.PHONY: stack-status
stack-status: ## is the local stack up?
	deploy/local/stack.sh status

.PHONY: clean
clean: ## remove the virtualenv and all local service state
	-deploy/local/stack.sh stop
	-$(TEST_ENV) deploy/local/stack.sh stop
	-$(BENCH_ENV) deploy/local/stack.sh stop
	-$(SOAK_ENV) deploy/local/stack.sh stop
	rm -rf $(VENV) .stack .pytest_cache .ruff_cache *.egg-info
