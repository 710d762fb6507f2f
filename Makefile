# Catapult. `make help` lists the targets; a fresh machine needs only `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
TOOLS_BIN := $(CURDIR)/.tools/bin
BUF := $(BIN)/buf
PROTOS := $(wildcard proto/catapult/v1/*.proto)
# Everything `make generate` writes; CI fails when regenerating changes any of it.
GENERATED := clients/python/catapult/v1 clients/python/catapult/betterproto clients/python/catapult/_client.py \
  clients/go/catapult/v1 envoy/catapult_descriptor.pb \
  envoy/openapi.swagger.json envoy/envoy.yaml envoy/compose.yaml deploy/k8s/envoy-bootstrap.yaml web/src/gen

VENV_STAMP := $(VENV)/.installed
TOOLS_STAMP := .tools/.installed
# The web console (web/): its npm packages, and its build (web/dist), redone only when a file
# under web/ changes.
NPM ?= npm
WEB_DEPS_STAMP := web/node_modules/.installed
WEB_BUILD_STAMP := web/node_modules/.built
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -path web/dist -prune -o -type f -print)

.PHONY: help install run bench generate check-generated lint test test-python test-go test-k8s test-web-unit \
  screenshots clean

help: ## Show this list of targets
	@# Colour only on a terminal: piped or redirected, the escape codes would show as they are.
	@if [ -t 1 ]; then on=$$'\033[36m'; off=$$'\033[0m'; else on=; off=; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %s%-16s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

install: $(VENV_STAMP) $(TOOLS_STAMP) $(WEB_BUILD_STAMP) ## Install the Python venv (.venv), the pinned Go tools (.tools/bin) and build the web console (web/dist)

$(VENV_STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./clients/python -e '.[dev,local]'
	@touch $@

$(TOOLS_STAMP): tools/go.mod tools/go.sum
	cd tools && GOBIN=$(TOOLS_BIN) go install tool
	@touch $@

$(WEB_DEPS_STAMP): web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

$(WEB_BUILD_STAMP): $(WEB_DEPS_STAMP) $(WEB_SOURCES)
	cd web && $(NPM) run build
	@touch $@

run: install ## Start the whole stack on an embedded PostgreSQL in ./.catapult (ARGS="--grpc-port 50052" to change)
	$(BIN)/catapult up $(ARGS)

bench: install ## Benchmarks: seed 1M deployments, 10 s of ghz/wrk load per case, write bench/results/latest.{json,md} (BENCH_ARGS=--quick or --duration S)
	@command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

generate: install ## Regenerate Python, Go and TypeScript stubs, the Envoy descriptor set, OpenAPI and the Envoy configs from proto/
	rm -f clients/python/catapult/v1/*_pb2*.py* clients/go/catapult/v1/*.pb.go
	$(BIN)/python -m grpc_tools.protoc -I proto \
	  --python_out=clients/python --pyi_out=clients/python --grpc_python_out=clients/python $(PROTOS)
	$(BUF) generate --template buf.gen.go.yaml
	rm -rf web/src/gen
	$(BUF) generate --template buf.gen.ts.yaml
	@mkdir -p envoy
	$(BUF) build --as-file-descriptor-set -o envoy/catapult_descriptor.pb
	PYTHON=$(BIN)/python clients/python/generate.sh
	$(BUF) generate --template buf.gen.openapi.yaml
	@# protoc-gen-openapiv2 knows field_behavior but not catapult.v1.rules: add them (maxLength, enum, …).
	$(BIN)/python -m catapult_server.openapi envoy/openapi.swagger.json
	$(BIN)/catapult envoy-config --output envoy/envoy.yaml
	@# docker-compose.yml's Envoy: the servers are the compose service `server` (every replica), admin
	@# reachable from the host (the compose file publishes it on 127.0.0.1 only), the console from
	@# the image's web/dist, read when asked for (the config names no build's files).
	$(BIN)/catapult envoy-config --upstream server:50051 --admin-host 0.0.0.0 --web-root web/dist --output envoy/compose.yaml
	@# deploy/k8s's Envoy (its ConfigMap): the servers are the headless Service catapult-server (every
	@# ready pod), admin on the pod's loopback only.
	$(BIN)/catapult envoy-config --upstream catapult-server:50051 --admin-host 127.0.0.1 --web-root web/dist --output deploy/k8s/envoy-bootstrap.yaml

check-generated: generate ## Fail when the committed generated code differs from a fresh `make generate`
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
	  git status --short -- $(GENERATED); \
	  echo "Generated code is out of date: run 'make generate' and commit the result."; exit 1; \
	fi

lint: install ## buf lint + format check, ruff, mypy, go vet, tsc and ESLint for the web console
	$(BUF) lint
	$(BUF) format --diff --exit-code || { echo "Protos are not formatted: run '$(BUF) format -w'."; exit 1; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || { echo "Python is not formatted: run '$(BIN)/ruff format .'."; exit 1; }
	$(BIN)/mypy
	cd clients/go && go vet ./...
	cd deploy/k8s && go vet ./...
	cd web && $(NPM) run --silent typecheck && $(NPM) run --silent lint

test-web-unit: install ## The web console's unit tests (vitest); its browser tests are in tests/web (pytest)
	cd web && $(NPM) test

test-go: install ## Build the Go client module and run its tests against a live `catapult up`
	@cd clients/go && test -z "$$(gofmt -l .)" || { gofmt -l .; echo "Go code is not formatted: run 'gofmt -w clients/go'."; exit 1; }
	@# -count=1: the integration tests start a live server (CATAPULT_BIN up), never a cached result.
	cd clients/go && go build ./... && CATAPULT_BIN=$(BIN)/catapult go test -count=1 ./...
	@# The same tests again through Envoy's port, where production clients connect.
	cd clients/go && CATAPULT_BIN=$(BIN)/catapult CATAPULT_TEST_VIA_ENVOY=1 go test -count=1 ./...

test-k8s: ## Check deploy/k8s without a cluster: every object strictly decoded (pinned k8s.io/api), checked against the others
	@cd deploy/k8s && test -z "$$(gofmt -l .)" || { gofmt -l .; echo "Go code is not formatted: run 'gofmt -w deploy/k8s'."; exit 1; }
	cd deploy/k8s && go test -count=1 ./...

test-python: install ## Run the Python test suite (real PostgreSQL, real server, and the console in Chromium)
	$(BIN)/pytest

screenshots: install ## Refresh the console screenshots the README shows (docs/console/*.png) from a seeded stack
	$(BIN)/pytest tests/web/test_pages.py -k "dashboard or model-detail or deployments"
	@mkdir -p docs/console
	cp build/web-screenshots/dashboard.png build/web-screenshots/model-detail.png \
	  build/web-screenshots/deployments.png docs/console/

test: install check-generated lint test-web-unit test-go test-k8s test-python ## Everything CI runs: generated code in sync, lint, web unit tests, Go, manifest and Python tests

clean: ## Remove the venv, the Go tools, the console's packages and build, and caches (not your ./.catapult data)
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
