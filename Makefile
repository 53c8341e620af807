# Makefile for the runner and its default inference service.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: help build test test-swarm bench images model run study study-llm report clean bench-load

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/runner and bin/inference (static, trimmed)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/runner ./cmd/runner
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference

# Every image the tests build carries this label (RUNNER_IMAGE_LABEL), so the check
# at the end counts this suite's images only, not those of other runs on the daemon.
ifndef TEST_LABEL
TEST_LABEL := dev.infergrid.runner.test=make-$(shell date -u +%Y%m%dT%H%M%S)-$(shell echo $$PPID)
endif

test: ## run every test (Docker tests skip without a daemon unless RUNNER_REQUIRE_DOCKER=1), then check that no image they built is left
	$(GO) vet ./...
	RUNNER_IMAGE_LABEL=$(TEST_LABEL) $(GO) test -race -count=1 -timeout 15m ./...
	# the generative model's portable kernels, which CPUs without AVX2 and other architectures run
	$(GO) test -tags purego -count=1 -run 'LLM|Linear|Forward|Gelu|Softmax|LayerNorm|Attention|Kernels|Engine' ./inference
	RUNNER_IMAGE_LABEL=$(TEST_LABEL) $(MAKE) test-swarm
	@scripts/images-left.sh $(TEST_LABEL)

# The swarm tests create and leave swarms; that must not happen while other
# packages' stacks run (see docs/swarm.md), so they run after the rest.
test-swarm: ## the tests that create a swarm, alone (Docker needed)
	RUNNER_TEST_SWARM=1 $(GO) test -race -count=1 -timeout 10m ./runner/platform/swarm
	RUNNER_TEST_SWARM=1 $(GO) test -race -count=1 -timeout 20m ./cmd/runner -run 'Swarm|Generator'

bench: bench-load bench-stream bench-inference bench-platform ## every benchmark report: load engine, inference service, platform overhead

run: build ## run the workshop study
	bin/runner scenarios/workshop5.yaml

study: build ## run the workshop study and publish its report to reports/workshop5
	bin/runner scenarios/workshop5.yaml --out runs --ignore-slo
	scripts/publish-report.sh $$(ls -d runs/workshop5-*T*Z | tail -1) reports/workshop5

study-llm: build ## run the LLM sizing study (scenarios/llm.yaml, under 20 min on 2 CPUs) and publish its report to reports/llm
	bin/runner scenarios/llm.yaml --out runs --ignore-slo
	scripts/publish-report.sh $$(ls -d runs/llm-*T*Z | tail -1) reports/llm

# --- scenario files: spec, render, CLI foundation ---
.PHONY: validate schema fuzz fuzz-spec

validate: ## validate every shipped scenario file
	$(GO) run ./cmd/runner validate scenarios/*.yaml scenarios/examples/*.yaml

schema: ## regenerate scenarios/schema.json from the Go types
	$(GO) run ./cmd/runner schema --out scenarios/schema.json

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each; CI runs it
	@scripts/fuzz.sh

fuzz-spec: ## fuzz the scenario loader for 60s
	$(GO) test ./runner/spec -run '^$$' -fuzz FuzzParse -fuzztime 60s

# --- load engine (runner/load) ---
bench-load: ## benchmark the load engine against vegeta and wrk on loopback, with issue 18's goals (RUNS=3 OUT=dir)
	@scripts/bench-load.sh

.PHONY: bench-stream
bench-stream: ## streaming: CPU per 1,000 tokens (SSE reader, bufio.Scanner, aiohttp) and RSS of 10,000 streams (STREAMS=10000)
	@scripts/bench-stream.sh

# --- platforms, telemetry and preflight (runner/platform, runner/monitor, runner/preflight) ---
COMPOSE_V2 ?= v2.40.3
.PHONY: test-platform bench-platform compose-plugin

test-platform: ## test platforms, monitor and preflight (Docker tests skip without a daemon)
	$(GO) test -race ./runner/platform/... ./runner/monitor ./runner/preflight

bench-platform: ## measure up+healthy+down overhead per scenario, compose (needs Docker) and local
	$(GO) test -run '^$$' -bench UpDown -benchtime 5x ./runner/platform/compose ./runner/platform/local

compose-plugin: bin/docker-compose-v2 ## build docker compose v2 for tests: RUNNER_TEST_COMPOSE_V2=bin/docker-compose-v2

bin/docker-compose-v2:
	mkdir -p bin
	cd $$(cd / && $(GO) mod download -json github.com/docker/compose/v2@$(COMPOSE_V2) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p') && \
	  CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) build -trimpath \
	  -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$(COMPOSE_V2)" -o $(CURDIR)/bin/docker-compose-v2 ./cmd

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

# --- inference service (inference/, cmd/inference) ---
.PHONY: model model-llm images bench-inference
INFERENCE_IMAGE ?= runner-inference:latest

model: ## retrain the embedded models and test vectors (needs python3-sklearn, python3-xgboost)
	/usr/bin/python3 inference/train/train.py

model-llm: ## retrain the generative model and its test vectors (needs python3-torch and fortunes; ~20 min on 2 busy cores)
	nice /usr/bin/python3 inference/train/train_llm.py

images: ## build bin/inference and the FROM scratch image runner-inference:latest
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference
	rm -rf bin/image && mkdir -p bin/image && cp bin/inference bin/image/inference
	docker build -f inference/Dockerfile --label dev.infergrid.runner=true -t $(INFERENCE_IMAGE) bin/image
	@docker image inspect --format 'image $(INFERENCE_IMAGE): {{.Size}} bytes' $(INFERENCE_IMAGE)

bench-inference: ## predictions/s and generated tokens/s per core over loopback (taskset), PyTorch peer, RSS under load
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inference ./cmd/inference
	inference/bench/bench.sh
	inference/bench/llm.sh

# --- faults and bad input (cmd/runner/faults_test.go on the harness internal/runnertest, runner/load/faults_test.go) ---
.PHONY: faults
faults: ## run the fault tests (Docker ones skip without a daemon unless RUNNER_REQUIRE_DOCKER=1) and a leak check
	@GO=$(GO) scripts/faults.sh

# --- load balancer in the stack (proxy, cmd/proxy; balancer: proxy) ---
.PHONY: test-proxy proxy-overhead

test-proxy: ## test the proxy, its rendering, spec and the compose stack behind it (Docker tests skip without a daemon)
	$(GO) test -race ./proxy ./cmd/proxy
	$(GO) test -race -run 'Proxy|Balanc|Upstream|DiffCounts' ./runner/spec ./runner/render ./runner/run ./runner/report ./runner/platform/compose

proxy-overhead: ## run scenarios/examples/proxy-overhead.yaml (client vs proxy at fixed rates, ~3.5 min)
	$(GO) run ./cmd/runner scenarios/examples/proxy-overhead.yaml

# --- several machines: a Docker-in-Docker swarm test bed (scripts/testbed) ---
.PHONY: testbed-up testbed-down testbed-test testbed-image
N ?= 3

testbed-image: ## build (once, cached by recipe hash) the test bed's Debian 12 node image with docker.io
	@bash scripts/testbed/node-image.sh

testbed-up: ## start a swarm of N Docker-in-Docker nodes (default 3); prints DOCKER_HOST and swarm.nodes
	@bash scripts/testbed/up.sh $(N)

testbed-down: ## remove the test bed and everything on it (the cached node image stays; IMAGE=1 removes it too)
	@bash scripts/testbed/down.sh $(if $(IMAGE),--image)

testbed-test: ## the test bed's own test: up N=3, limits, overlay across nodes, down with nothing left
	@bash scripts/testbed/test.sh

.PHONY: bench-agents
bench-agents: ## aggregate rate of 1, 2, 3 load agents pinned to one CPU each vs one process on all CPUs (RATE=40000/s DURATION=5s)
	@bash scripts/bench-agents.sh
