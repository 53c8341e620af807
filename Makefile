# Makefile for the runner and its default inference service.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: help build test bench images model run report clean bench-load

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/runner and bin/inference (static, trimmed)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/runner ./cmd/runner
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference

test: ## run every test (Docker tests skip without a daemon unless RUNNER_REQUIRE_DOCKER=1)
	$(GO) vet ./...
	$(GO) test -race -timeout 15m ./...

run: build ## run the workshop study
	bin/runner scenarios/workshop5.yaml

# --- load engine (runner/load) ---
bench-load: ## benchmark the load engine against vegeta, wrk and hey on loopback (RUNS=3 OUT=dir)
	@scripts/bench-load.sh
