# Makefile for the runner and its default inference service.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: help build test bench images model run report clean

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

# --- reports (runner/report, cmd/runner report.go and compare.go) ---
.PHONY: compare report-golden
RUN  ?=
BASE ?=
NEW  ?=

report: ## rebuild report.md, results.csv, summary.json and plots of a run: make report RUN=runs/ID
	@test -n "$(RUN)" || { echo "usage: make report RUN=runs/NAME-YYYYMMDDTHHMMSSZ"; exit 2; }
	$(GO) run ./cmd/runner report $(RUN)

compare: ## compare two runs (dirs or results.csv): make compare BASE=... NEW=...
	@test -n "$(BASE)" -a -n "$(NEW)" || { echo "usage: make compare BASE=runs/A NEW=runs/B"; exit 2; }
	$(GO) run ./cmd/runner compare $(BASE) $(NEW)

report-golden: ## rewrite the report golden files after an intended format change
	$(GO) test ./runner/report -run Golden -update
