#!/bin/sh
# Runs the fault tests (docs/faults.md), then checks that they left
# nothing of the runner behind: no container, network, volume, dangling image or local replica
# process that `runner clean --dry-run` did not already list before the tests
# (other runs on a shared daemon are not this suite's leaks), and no image that
# the tests built (they carry this suite's own RUNNER_IMAGE_LABEL).
set -eu
GO=${GO:-go}
RUNNER_IMAGE_LABEL=dev.infergrid.runner.test=faults-$(date -u +%Y%m%dT%H%M%S)-$$
export RUNNER_IMAGE_LABEL
before=$(mktemp) after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
$GO build -o "$before.runner" ./cmd/runner
trap 'rm -f "$before" "$after" "$before.runner"' EXIT
"$before.runner" clean --dry-run 2>&1 | sort > "$before" || true

$GO test -race -count=1 -timeout 10m ./cmd/runner -run \
  'TestBrokenScenarioCorpus|TestStatsTruncated|TestRunSIGTERM|TestRunOutputUnusable|TestRunDockerUnreachable|TestClean|TestSIGKILLRecovery|TestResultsTruncated|TestReplicaKilledMidLoad|TestSIGINTPerPhase|TestReplicaOOMKilled|TestRunInterruptAndResume|TestDockerLostMidRun'
$GO test -race -count=1 ./runner/load -run 'TestHostileTargets|TestBodyCap|TestCancel|TestUnansweredTargetEndsAfterTimeout'
$GO test -race -count=1 ./runner/spec -run 'TestValidation|TestLoadMissingFile'
$GO test -race -count=1 ./runner/run -run 'TestExecuteStopsWhenPlatformIsLost'
$GO test -race -count=1 ./inference -run 'TestOverloadShedsAndRecovers'
# The swarm faults run alone: creating and leaving swarms disturbs other stacks (docs/swarm.md).
RUNNER_TEST_SWARM=1 $GO test -race -count=1 ./runner/platform/swarm -run 'TestTaskOOMKilledAndReplaced|TestFailingTaskIsNamed'
RUNNER_TEST_SWARM=1 $GO test -race -count=1 ./cmd/runner -run 'TestRunSwarmInterrupt'
$GO test -race -count=1 ./runner/platform/docker ./runner/platform/compose -run 'TestLost|TestNoDaemon|TestErrorLines'

"$before.runner" clean --dry-run 2>&1 | sort > "$after" || true
leaks=$(comm -13 "$before" "$after" | grep '^would remove' || true)
if [ -n "$leaks" ]; then
  echo "faults: left behind:"; echo "$leaks"; exit 1
fi
scripts/images-left.sh "$RUNNER_IMAGE_LABEL"
echo "faults: ok, nothing of the runner left behind"
