#!/usr/bin/env bash
# CI's gate for the test bed: its test (scripts/testbed/test.sh), the
# multi-node tests of the swarm platform and those of the load agents
# (generators) run through the runner, when their files changed since the last
# green run on this machine (a stamp in /var/tmp), or with TESTBED_CI=1;
# TESTBED_CI=0 skips them. A first run builds the node image (minutes, once).
# About 2.5 minutes on a quiet machine with the node image cached, about 8 on a busy one.
set -euo pipefail
cd "$(dirname "$0")/../.."
stamp=/var/tmp/runner-testbed-ci.stamp
covered=(scripts/testbed/*.sh runner/platform/swarm/*.go runner/platform/docker/*.go
	internal/dockertest/*.go cmd/runner/testbed_test.go cmd/runner/agent.go runner/run/agents.go runner/platform/generators.go
	runner/load/agent.go runner/load/gather.go runner/load/merge.go)
sum="$(cat "${covered[@]}" | sha256sum | cut -c1-16)"
case "${TESTBED_CI:-auto}" in
0) echo "testbed: skipped (TESTBED_CI=0)"; exit 0 ;;
auto) if [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
	echo "testbed: skipped, its files are as in the last green run ($sum); TESTBED_CI=1 runs it"
	exit 0
fi ;;
esac
if ! docker info >/dev/null 2>&1; then
	[ "${RUNNER_REQUIRE_DOCKER:-}" = 1 ] && { echo "testbed: no Docker daemon answers"; exit 1; }
	echo "testbed: skipped, no Docker daemon answers"
	exit 0
fi
bash scripts/testbed/test.sh
trap 'bash scripts/testbed/down.sh' EXIT
bash scripts/testbed/up.sh 3 >/dev/null
# one package at a time: tests of both stop a node of the same test bed
RUNNER_TESTBED=1 go test -race -count=1 -timeout 10m -run Testbed ./runner/platform/swarm
RUNNER_TESTBED=1 go test -race -count=1 -timeout 10m -run Testbed ./cmd/runner
echo "$sum" >"$stamp"
