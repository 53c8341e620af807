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

# --- inference service (inference/, cmd/inference) ---
.PHONY: model images bench-inference
INFERENCE_IMAGE ?= runner-inference:latest

model: ## retrain the embedded models and test vectors (needs python3-sklearn, python3-xgboost)
	/usr/bin/python3 inference/train/train.py

images: ## build bin/inference and the FROM scratch image runner-inference:latest
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference
	rm -rf bin/image && mkdir -p bin/image && cp bin/inference bin/image/inference
	docker build -f inference/Dockerfile --label dev.infergrid.runner=true -t $(INFERENCE_IMAGE) bin/image
	@docker image inspect --format 'image $(INFERENCE_IMAGE): {{.Size}} bytes' $(INFERENCE_IMAGE)

bench-inference: ## predictions/s per core over loopback (wrk, taskset) and RSS under load
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference
	inference/bench/bench.sh
