# Firestorm: `make help` lists the targets. Every target sets itself up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The compiled core (models._core, Rust through PyO3; docs/development.md): rebuilt in
# place when its sources change. Cargo keeps its build in rust/target (git-ignored).
CORE_STAMP := $(VENV)/.core-stamp
# Where rustup puts cargo, if it is not on PATH (no comment on the line: make would
# keep the spaces before it in the value).
export PATH := $(PATH):$(HOME)/.cargo/bin
CORE_SOURCES := rust/Cargo.toml rust/Cargo.lock $(wildcard rust/src/*.rs)
# No cargo: as root on Debian, install the distribution's cargo-web and rustc-web (Rust
# 1.85+ on bookworm; its plain rustc, 1.63, is older than PyO3 needs); otherwise say how.
APT_RUST := DEBIAN_FRONTEND=noninteractive apt-get install -y -q cargo-web rustc-web </dev/null
NEED_CARGO := command -v cargo >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get\
 >/dev/null && echo "cargo not found: installing Debian's cargo-web and rustc-web" &&\
 apt-get update -q && $(APT_RUST); } || { echo "error: cargo not found. Firestorm's compiled\
 core (rust/) is built from source with Rust 1.74 or later: install it (Debian bookworm: sudo\
 apt-get install cargo-web rustc-web; or rustup) and run make install again." >&2; exit 1; }
CORE_FAILED := { echo "error: the compiled core (rust/, models._core) did not build: see\
 cargo's messages above (docs/development.md)." >&2; exit 1; }
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
	@$(NEED_CARGO)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' || $(CORE_FAILED)
	touch $@

$(CORE_STAMP): $(STAMP) $(CORE_SOURCES)
	@$(NEED_CARGO)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . || $(CORE_FAILED)
	$(BIN)/python -c 'import models.compiled' || $(CORE_FAILED)
	touch $@

.PHONY: install
install: $(CORE_STAMP) ## create .venv, install Firestorm with its dev tools, build the compiled core

.PHONY: demo
demo: $(CORE_STAMP) ## Kafka, Redis, a worker; a sample storm: the alert, console, ack, timeline page
	deploy/local/demo.sh

.PHONY: demo-stop
demo-stop: ## stop the demo's worker, pages, Kafka and Redis
	deploy/local/demo.sh stop

.PHONY: test
test: $(CORE_STAMP) ## every test: unit, doctests, and integration on a real Kafka and Redis
	deploy/local/test-tools.sh
	$(TEST_ENV) deploy/local/with-stack.sh $(BIN)/pytest

.PHONY: test-unit
test-unit: $(CORE_STAMP) ## unit tests and doctests only (no services)
	$(BIN)/pytest -m 'not integration'

.PHONY: lint
lint: $(CORE_STAMP) ## ruff
	$(BIN)/ruff check streams models alerting tests bench

.PHONY: bench
bench: $(CORE_STAMP) ## benchmarks: scorer, replay throughput, mention-to-console delay, worker vs raw consumer, p99 under load, worker RSS, changelog, changelog model
	$(BENCH_ENV) deploy/local/with-stack.sh $(BIN)/python bench/run.py

.PHONY: soak
soak: $(CORE_STAMP) ## 1M mentions + 100k fuzzed, kill -9s, Redis down, a broker restart: nothing lost (long; not in CI)
	$(SOAK_ENV) deploy/local/with-stack.sh $(BIN)/python -m tests.integration.soak $(SOAK_ARGS)

.PHONY: evaluate
evaluate: $(CORE_STAMP) ## detection quality on generated storms and backgrounds (~15 min on 2 free cores; EVALUATE_ARGS=--quick: ~1 min)
	$(BIN)/python bench/evaluate.py $(EVALUATE_ARGS)

.PHONY: stack-start
stack-start: $(CORE_STAMP) ## start the local Kafka broker and Redis
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
	rm -rf $(VENV) .stack .pytest_cache .ruff_cache *.egg-info rust/target models/_core*.so
