package main

// Fault tests: what the runner does when it is interrupted, killed, pointed at a
// daemon that is not there, given an output folder it cannot use, or when its
// replicas die under it. `make faults` runs them (they are part of go test too).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/internal/runnertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform/local"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

// TestRunSIGTERM stops the runner with SIGTERM during the second scenario's load:
// it exits 130 like on Ctrl-C, keeps the first scenario's results, and --resume
// finishes the rest. No Docker needed: the targets are external.
func TestRunSIGTERM(t *testing.T) {
	file := runnertest.ExternalStudy(t, "2s")
	out := t.TempDir()
	env := []string{"RUNNER_STATE_DIR=" + t.TempDir()}
	p := runnertest.Start(t, env, file, "--out", out)
	p.WaitFor(30*time.Second, "the second scenario's load", runnertest.PhaseLine(2, "load"))
	time.Sleep(300 * time.Millisecond)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(30 * time.Second); code != exitInterrupted {
		t.Fatalf("exit %d after SIGTERM, want %d\nstderr:\n%s", code, exitInterrupted, p.Stderr())
	}
	if !strings.Contains(p.Stderr(), "--resume=") {
		t.Errorf("no resume hint:\n%s", p.Stderr())
	}
	dir := onlyRun(t, out)
	var first, second result.Outcome
	if err := result.ReadJSON(filepath.Join(dir, "scenarios", "first-client-rate50", "outcome.json"), &first); err != nil || first.Status != result.StatusOK {
		t.Fatalf("first scenario after SIGTERM: %v, %+v", err, first.Status)
	}
	if err := result.ReadJSON(filepath.Join(dir, "scenarios", "second-client-u2s10", "outcome.json"), &second); err != nil || second.Status != result.StatusFailed || !strings.Contains(second.Error, "interrupted") {
		t.Errorf("second scenario after SIGTERM: %v, %s: %s", err, second.Status, second.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Errorf("no report after SIGTERM: %v", err)
	}
	if leases, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(env[0], "RUNNER_STATE_DIR="), "*")); len(leases) != 0 {
		t.Errorf("lease left after an orderly stop: %v", leases)
	}

	res := runnertest.Start(t, env, file, "--out", out, "--resume")
	if code := res.Wait(60 * time.Second); code != exitOK {
		t.Fatalf("resume exited %d\n%s\n%s", code, res.Out(), res.Stderr())
	}
	for _, o := range checkRunDir(t, dir, false, false) {
		if o.Status != result.StatusOK {
			t.Errorf("%s after resume: %s: %s", o.Scenario.ID, o.Status, o.Error)
		}
	}
}

// TestRunOutputUnusable: an output folder that cannot be created or written, or
// whose disk is (nearly) full, is refused with exit 2 before anything starts.
func TestRunOutputUnusable(t *testing.T) {
	file := runnertest.ExternalStudy(t, "1s")
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	roDir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(roDir, 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, out, want string
		minFree         int64
		skip            bool
	}{
		{name: "under a file", out: filepath.Join(notDir, "runs"), want: "cannot be created"},
		{name: "read-only", out: roDir, want: "is not writable", skip: os.Geteuid() == 0},
		{name: "disk full", out: t.TempDir(), want: "MiB free, want at least", minFree: 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("root writes into read-only folders")
			}
			if tt.minFree > 0 {
				old := run.MinFreeBytes
				run.MinFreeBytes = tt.minFree
				t.Cleanup(func() { run.MinFreeBytes = old })
			}
			t.Setenv("RUNNER_STATE_DIR", t.TempDir())
			var stdout, stderr bytes.Buffer
			code := Main([]string{"run", file, "--out", tt.out}, &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "nothing was started") {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stdout.String(), "run ext-") {
				t.Errorf("the run started:\n%s", stdout.String())
			}
		})
	}
}

// TestRunDockerUnreachable: with DOCKER_HOST naming a socket nobody listens on, the
// compose platform fails fast with a clear message and exit 3.
func TestRunDockerUnreachable(t *testing.T) {
	out := t.TempDir()
	env := []string{"DOCKER_HOST=unix:///nonexistent.sock", "RUNNER_STATE_DIR=" + t.TempDir()}
	start := time.Now()
	p := runnertest.Start(t, env, "run", "../../scenarios/smoke.yaml", "--platform", "compose", "--out", out)
	if code := p.Wait(60 * time.Second); code != exitPlatform {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitPlatform, p.Out(), p.Stderr())
	}
	for _, want := range []string{"no Docker daemon answers at unix:///nonexistent.sock", "Is the Docker daemon running?"} {
		if !strings.Contains(p.Stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.Stderr())
		}
	}
	t.Logf("failed after %s", time.Since(start).Round(time.Millisecond))
}

// TestCleanDockerUnreachable: runner clean says that Docker could not be checked
// and exits 3.
func TestCleanDockerUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"clean", "--run", "none-20000101T000000Z"}, &stdout, &stderr); code != exitPlatform || !strings.Contains(stderr.String(), "Docker not checked") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestCleanRun: runner clean --run ID removes that run's labelled network and
// volume and its local replica processes, says so, and leaves other runs alone;
// --dry-run removes nothing.
func TestCleanRun(t *testing.T) {
	dockertest.Require(t)
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	id := fmt.Sprintf("cleantest-%d", time.Now().UnixNano())
	other := id + "-other"
	docker := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v: %s", args, err, out)
		}
	}
	for _, run := range []string{id, other} {
		labels := []string{"--label", label.Managed + "=true", "--label", label.Run + "=" + run}
		docker(append(append([]string{"network", "create"}, labels...), run+"-net")...)
		docker(append(append([]string{"volume", "create"}, labels...), run+"-vol")...)
	}
	t.Cleanup(func() {
		for _, run := range []string{id, other} {
			_ = exec.Command("docker", "network", "rm", run+"-net").Run()
			_ = exec.Command("docker", "volume", "rm", run+"-vol").Run()
		}
	})
	dangling := map[string]string{}
	for _, run := range []string{id, other} {
		dangling[run] = danglingImage(t, run)
	}
	sleeper := exec.Command("sleep", "60")
	sleeper.Env = append(os.Environ(), local.EnvRun+"="+id)
	sleeper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"clean", "--run", id, "--dry-run"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("dry run: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"would remove network " + id + "-net", "would remove volume " + id + "-vol", fmt.Sprintf("would remove process %d", sleeper.Process.Pid),
		"would remove image " + dangling[id] + " (dangling)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout.String())
		}
	}
	if left := dockertest.Leftovers(t, label.Run+"="+id); len(left) != 3 {
		t.Errorf("dry run removed something: left %v", left)
	}

	stdout.Reset()
	if code := Main([]string{"clean", "--run", id}, &stdout, &stderr); code != exitOK {
		t.Fatalf("clean: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"removed network " + id + "-net", "removed volume " + id + "-vol", fmt.Sprintf("removed process %d (run %s)", sleeper.Process.Pid, id),
		"removed image " + dangling[id] + " (dangling)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("clean output lacks %q:\n%s", want, stdout.String())
		}
	}
	dockertest.NoLeftovers(t, label.Run+"="+id)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("process %d still running after clean", sleeper.Process.Pid)
	}
	if left := dockertest.Leftovers(t, label.Run+"="+other); len(left) != 3 {
		t.Errorf("clean --run %s touched run %s: left %v", id, other, left)
	}

	stdout.Reset()
	if code := Main([]string{"clean", "--run", id}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "nothing to remove") {
		t.Errorf("second clean: exit %d: %s", code, stdout.String())
	}
}

// danglingImage builds two images of run under one tag, so that the first is
// dangling, removes the tagged one, and returns the dangling one's short ID (which
// is removed when t ends if clean did not).
func danglingImage(t *testing.T, run string) string {
	t.Helper()
	tag := "runner-cleantest:" + run
	var ids []string
	for i := range 2 {
		args := append([]string{"build", "-q", "-t", tag, "--label", label.Run + "=" + run}, dockertest.BuildLabels()...)
		cmd := exec.Command("docker", append(args, "-")...)
		cmd.Stdin = strings.NewReader(fmt.Sprintf("FROM scratch\nLABEL n=%d\n", i))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("docker build: %v", err)
		}
		ids = append(ids, strings.TrimPrefix(strings.TrimSpace(string(out)), "sha256:")[:12])
	}
	if err := exec.Command("docker", "image", "rm", tag).Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", ids[0]).Run() })
	return ids[0]
}

// TestCleanRefusesLiveRun: clean does not remove a run whose runner still holds its
// lease, unless --force.
func TestCleanRefusesLiveRun(t *testing.T) {
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock") // nothing of Docker is touched
	release, err := run.TakeLease(run.Lease{RunID: "live-20000101T000000Z", PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"clean", "--run", "live-20000101T000000Z"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "still running on this host: live-20000101T000000Z") {
		t.Errorf("exit %d, stderr %q; want a refusal", code, stderr.String())
	}
	if _, err := run.TakeLease(run.Lease{RunID: "live-20000101T000000Z"}); !errors.Is(err, run.ErrLeaseHeld) {
		t.Errorf("a second lease of a live run: %v, want errLeaseHeld", err)
	}
}

// TestSIGKILLRecovery kills the runner with SIGKILL during a compose scenario's
// load: the stack stays, runner clean --dry-run lists it, the raw results written
// so far decode up to the last complete record, and the next runner run removes
// the orphan and says so.
func TestSIGKILLRecovery(t *testing.T) {
	dockertest.Require(t)
	out := t.TempDir()
	env := []string{"RUNNER_STATE_DIR=" + t.TempDir()}
	file := runnertest.InferenceStudy(t, "sigkill", "{duration: 5s, warmup: 1s, cpus: 0.5, memory: 256M}", "  - name: single\n    load: [{users: 5, spawn_rate: 5}]\n")
	p := runnertest.Start(t, env, file, "--out", out)
	p.WaitFor(3*time.Minute, "the load", runnertest.PhaseLine(1, "load"))
	time.Sleep(2500 * time.Millisecond) // past the warm-up, so that results were flushed
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait(30 * time.Second)
	dir := onlyRun(t, out)
	id := filepath.Base(dir)
	t.Cleanup(func() { // whatever happens below, leave nothing
		_ = exec.Command("docker", "rm", "-f", "-v", id).Run()
		var so, se bytes.Buffer
		Main([]string{"clean", "--run", id}, &so, &se)
	})
	left := dockertest.Leftovers(t, label.Run+"="+id)
	if len(left) == 0 {
		t.Fatal("nothing left after SIGKILL; the test does not test anything")
	}

	// The raw results so far are readable.
	n, err := load.CountResults(filepath.Join(dir, "scenarios", "single-r1-cpu0_5-mem256m-client-u5s5", "results.gob"))
	if n == 0 || (err != nil && !errors.Is(err, io.ErrUnexpectedEOF)) {
		t.Errorf("results.gob after SIGKILL: %d records, then %v", n, err)
	}

	c := runnertest.Start(t, env, "clean", "--dry-run")
	c.Wait(time.Minute)
	for _, l := range left {
		if !strings.Contains(c.Out(), "would remove "+l) {
			t.Errorf("clean --dry-run does not list %s:\n%s", l, c.Out())
		}
	}

	// A new run (any platform) removes the orphan first.
	next := runnertest.Start(t, env, "run", runnertest.ExternalStudy(t, "500ms"), "--out", t.TempDir())
	if code := next.Wait(time.Minute); code != exitOK {
		t.Fatalf("next run: exit %d\n%s", code, next.Stderr())
	}
	if want := "removed the orphaned stack of run " + id; !strings.Contains(next.Stderr(), want) {
		t.Errorf("next run's stderr lacks %q:\n%s", want, next.Stderr())
	}
	dockertest.NoLeftovers(t, label.Run+"="+id)
}

// TestReplicaKilledMidLoad kills one of two replicas with docker kill during the
// first scenario's load: its requests fail and are counted, events.json records
// the kill with time and container, and the run goes on to the next scenario.
func TestReplicaKilledMidLoad(t *testing.T) {
	dockertest.Require(t)
	file := runnertest.InferenceStudy(t, "kill", "{duration: 4s, warmup: 500ms, cpus: 0.5, memory: 256M}",
		"  - name: pair\n    replicas: [2]\n    load: [{rate: 40/s}]\n  - name: after\n    replicas: [1]\n    load: [{rate: 20/s}]\n")
	out := t.TempDir()
	p := runnertest.Start(t, []string{"RUNNER_STATE_DIR=" + t.TempDir()}, file, "--out", out)
	p.WaitFor(3*time.Minute, "the first load", runnertest.PhaseLine(1, "load"))
	time.Sleep(2 * time.Second)
	run := onlyRun(t, out)
	id := filepath.Base(run)
	t.Cleanup(func() { var so, se bytes.Buffer; Main([]string{"clean", "--run", id}, &so, &se) })
	ps, err := exec.Command("docker", "ps", "--filter", "label="+label.Run+"="+id, "--format", "{{.Names}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(ps))
	if len(names) != 2 {
		t.Fatalf("replicas of %s: %v, want 2", id, names)
	}
	victim := names[0]
	killedAt := time.Now()
	if b, err := exec.Command("docker", "kill", victim).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, b)
	}
	code := p.Wait(3 * time.Minute)
	dockertest.NoLeftovers(t, label.Run+"="+id)
	if code != exitSLO && code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, p.Out(), p.Stderr())
	}
	outcomes := checkRunDir(t, run, true, true)
	first, second := outcomes[0], outcomes[1]
	if len(first.Load.Errors) == 0 || first.Load.SuccessRatio == 1 {
		t.Errorf("no errors counted after a replica was killed: success %v, errors %v", first.Load.SuccessRatio, first.Load.Errors)
	}
	var victimErrs uint64
	for _, e := range first.Load.Endpoints {
		victimErrs = max(victimErrs, e.Errors)
	}
	if victimErrs == 0 {
		t.Errorf("no endpoint counts errors: %+v", first.Load.Endpoints)
	}
	if second.Status != result.StatusOK || second.Load.Requests == 0 {
		t.Errorf("the run did not go on: second scenario %s: %s", second.Status, second.Error)
	}
	events, err := monitor.ReadEvents(filepath.Join(run, "scenarios", first.Scenario.ID, "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		if ev.Container == victim && (ev.Kind == result.EventKill || ev.Kind == result.EventDie) {
			found = true
			if d := ev.Time.Sub(killedAt); d < -time.Second || d > 10*time.Second {
				t.Errorf("event %+v at %s, the kill was at %s", ev, ev.Time, killedAt)
			}
		}
	}
	if !found {
		t.Errorf("no kill/die event of %s in events.json: %+v", victim, events)
	}
}

// TestSIGINTPerPhase interrupts a compose run with SIGINT while it builds, while a
// stack comes up, while it waits for a replica that never gets healthy, and while
// a stack goes down: every time the runner exits 130 promptly, nothing of the run
// is left, and the scenarios finished before are kept. (The load phase:
// TestRunInterruptAndResume; SIGTERM: TestRunSIGTERM.)
func TestSIGINTPerPhase(t *testing.T) {
	dockertest.Require(t)
	two := "  - name: a\n    load: [{rate: 20/s}]\n  - name: b\n    load: [{rate: 20/s}]\n"
	tests := []struct {
		name    string
		service string
		at      func(string) bool
		delay   time.Duration
		kept    int // scenarios finished before the signal
	}{
		{name: "build", at: func(l string) bool { return strings.HasPrefix(l, "[2 scenarios] build") }},
		{name: "up", at: runnertest.PhaseLine(2, "up"), kept: 1},
		{name: "health wait", service: ", health_timeout: 60s, env: {UNHEALTHY: '1'}", at: runnertest.PhaseLine(1, "up"), delay: 2 * time.Second},
		{name: "down", at: runnertest.PhaseLine(1, "down"), kept: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := runnertest.TestsvcStudy(t, "sigint", tt.service, "{method: GET, path: /health}", "{duration: 2s, warmup: 0s, memory: 64M}", two)
			out := t.TempDir()
			p := runnertest.Start(t, []string{"RUNNER_STATE_DIR=" + t.TempDir()}, file, "--out", out)
			p.WaitFor(3*time.Minute, tt.name, tt.at)
			time.Sleep(tt.delay)
			sent := time.Now()
			if err := p.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			code := p.Wait(90 * time.Second)
			took := time.Since(sent)
			dir := onlyRun(t, out)
			dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
			if code != exitInterrupted {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, p.Out(), p.Stderr())
			}
			if pids, _ := local.Processes(local.EnvRun, filepath.Base(dir)); len(pids) > 0 {
				t.Errorf("processes left: %v", pids)
			}
			ok := 0
			outcomes, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*", "outcome.json"))
			for _, f := range outcomes {
				var o result.Outcome
				if err := result.ReadJSON(f, &o); err != nil {
					t.Fatal(err)
				}
				if o.Status == result.StatusOK {
					ok++
				}
			}
			if ok != tt.kept {
				t.Errorf("%d scenarios kept as finished, want %d", ok, tt.kept)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
				t.Errorf("no report: %v", err)
			}
			t.Logf("exited %s after SIGINT", took.Round(time.Millisecond))
		})
	}
}

// TestReplicaOOMKilled runs a replica with a 16 MiB limit that the load makes
// allocate 2 MiB a request: the kernel kills it, and the outcome counts an OOM
// kill (and events.json has an oom event) rather than only a generic error.
func TestReplicaOOMKilled(t *testing.T) {
	dockertest.Require(t)
	file := runnertest.TestsvcStudy(t, "oom", "", `{method: POST, path: "/alloc?mb=2"}`, "{duration: 4s, warmup: 0s, memory: 16M}",
		"  - name: oom\n    load: [{rate: 10/s}]\n")
	out := t.TempDir()
	p := runnertest.Start(t, []string{"RUNNER_STATE_DIR=" + t.TempDir()}, file, "--out", out)
	code := p.Wait(3 * time.Minute)
	if code == exitUsage {
		t.Fatalf("exit 2: %s", p.Stderr())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	if code != exitOK && code != exitSLO {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, p.Out(), p.Stderr())
	}
	// Not checkRunDir: the replica can die before the first telemetry sample,
	// and then there is no memory plot.
	o, sdir := onlyOutcome(t, dir)
	if o.Resources.OOMKills == 0 {
		t.Errorf("no OOM kill recorded: %+v; errors %v", o.Resources, o.Load.Errors)
	}
	events, err := monitor.ReadEvents(filepath.Join(sdir, "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		found = found || (ev.Kind == result.EventOOM && ev.Container != "" && !ev.Time.IsZero())
	}
	if !found {
		t.Errorf("no oom event in events.json: %+v", events)
	}
	if rows := readCSV(t, filepath.Join(dir, "results.csv")); !strings.Contains(strings.Join(rows[0], ","), "oom_kills") {
		t.Errorf("results.csv has no oom_kills column: %v", rows[0])
	}
}

// TestReplicaOOMKilledBeforeHealthy starts a replica that sits at its 24 MiB
// limit for 3 s while it starts, as a service thrashing against its limit does,
// and is then OOM-killed before it ever answers. The scenario fails, and as for
// a replica killed under load its OOM kill is in results.csv, events.json is
// written, stats.csv holds the samples taken while it came up, and the failure
// (outcome, report) says how long it sat at its limit.
func TestReplicaOOMKilledBeforeHealthy(t *testing.T) {
	dockertest.Require(t)
	file := runnertest.TestsvcStudy(t, "oomstart", ", health_timeout: 30s, env: {HOLD_AT_LIMIT: 3s}", "{method: GET, path: /health}",
		"{duration: 2s, warmup: 0s, memory: 24M}", "  - name: oomstart\n    load: [{rate: 10/s}]\n")
	out := t.TempDir()
	p := runnertest.Start(t, []string{"RUNNER_STATE_DIR=" + t.TempDir()}, file, "--out", out, "--interval", "500ms")
	code := p.Wait(3 * time.Minute)
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	if code != exitSLO {
		t.Fatalf("exit %d, want %d (a scenario failed)\nstdout:\n%s\nstderr:\n%s", code, exitSLO, p.Out(), p.Stderr())
	}
	o, sdir := onlyOutcome(t, dir)
	if o.Status != result.StatusFailed || !strings.Contains(o.Error, "OOM-killed (exit code 137)") {
		t.Fatalf("outcome %s: %q; want failed by the OOM kill", o.Status, o.Error)
	}
	first, _, _ := strings.Cut(o.Error, "\n")
	if !regexp.MustCompile(`; replica \S+ sat at its memory limit for [0-9.]+s before the OOM kill$`).MatchString(first) {
		t.Errorf("error %q: want it to say how long the replica sat at its memory limit", first)
	}
	if got := resultsColumn(t, dir, "oom_kills"); got != "1" {
		t.Errorf("results.csv oom_kills = %q, want 1", got)
	}
	if got := resultsColumn(t, dir, "peak_mem_bytes"); got == "" || got == "0" {
		t.Errorf("results.csv peak_mem_bytes = %q, want the peak seen while it came up", got)
	}
	events, err := monitor.ReadEvents(filepath.Join(sdir, "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var limit, oom bool
	for _, ev := range events {
		limit = limit || ev.Kind == result.EventMemLimit
		oom = oom || (ev.Kind == result.EventOOM && ev.AtLimit > 0)
	}
	if !limit || !oom {
		t.Errorf("events.json %+v: want a mem_limit event and an oom event with the time at the limit", events)
	}
	stats := readStats(t, filepath.Join(sdir, "stats.csv"))
	if len(stats) == 0 || stats[0].Role != result.RoleReplica || stats[0].MemLimitBytes != 24<<20 {
		t.Errorf("stats.csv: %+v; want the replica's samples while it came up", stats)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !strings.Contains(string(md), "sat at its memory limit for") {
		t.Errorf("report.md does not say how long the replica sat at its memory limit")
	}
}

// sideTemplate is a user's compose template with a side service beside the
// API, as the workshop ran MLflow next to it: the side service runs testsvc
// with HOLD_AT_LIMIT, so it sits at its 24 MiB limit for 3 s and is OOM-killed,
// well within the scenario's load.
const sideTemplate = `services:
  {{.Service}}:
    image: {{quote .Image}}
    ports:
      - {{quote .Ports}}
    labels:
{{- range $k, $v := .Labels}}
      {{quote $k}}: {{quote $v}}
{{- end}}
    deploy:
      replicas: {{.Replicas}}
      resources:
        limits:
          memory: {{quote .Memory}}
  registry:
    image: {{quote .Image}}
    environment:
      HOLD_AT_LIMIT: "3s"
    labels:
{{- range $k, $v := .Labels}}
      {{quote $k}}: {{quote $v}}
{{- end}}
    deploy:
      resources:
        limits:
          memory: "24M"
networks:
  default:
    labels:
{{- range $k, $v := .Labels}}
      {{quote $k}}: {{quote $v}}
{{- end}}
`

// TestSideServiceOOMKilled runs a scenario whose template (service.template) adds
// a side service that is OOM-killed during the run: its samples are in
// stats.csv with the side role, its OOM kill in results.csv's side columns (not
// in oom_kills), and in report.md's side-services table and findings.
func TestSideServiceOOMKilled(t *testing.T) {
	dockertest.Require(t)
	tmpl := filepath.Join(t.TempDir(), "side.yml.tmpl")
	if err := os.WriteFile(tmpl, []byte(sideTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	file := runnertest.TestsvcStudy(t, "side", fmt.Sprintf(", template: %q", tmpl), "{method: GET, path: /health}",
		"{duration: 8s, warmup: 0s, memory: 32M}", "  - name: side\n    load: [{rate: 10/s}]\n")
	out := t.TempDir()
	p := runnertest.Start(t, []string{"RUNNER_STATE_DIR=" + t.TempDir()}, file, "--out", out, "--interval", "500ms")
	code := p.Wait(3 * time.Minute)
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, p.Out(), p.Stderr())
	}
	o, sdir := onlyOutcome(t, dir)
	if len(o.Resources.Services) != 1 || o.Resources.OOMKills != 0 {
		t.Fatalf("resources %+v: want one side service, and no OOM kill of the replicas", o.Resources)
	}
	side := o.Resources.Services[0]
	if !strings.Contains(side.Name, "registry") || side.OOMKills != 1 || side.MemLimitBytes != 24<<20 || side.AtLimitBeforeOOM <= 0 {
		t.Errorf("side service %+v: want registry, OOM-killed after time at its 24 MiB limit", side)
	}
	var sideRows int
	for _, x := range readStats(t, filepath.Join(sdir, "stats.csv")) {
		if x.Container == side.Name {
			sideRows++
			if x.Role != result.RoleSide {
				t.Errorf("stats.csv row %+v: want the side role", x)
			}
		}
	}
	if sideRows == 0 {
		t.Errorf("stats.csv has no row of %s", side.Name)
	}
	if got := resultsColumn(t, dir, "side_oom_kills"); got != "1" {
		t.Errorf("results.csv side_oom_kills = %q, want 1", got)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Side services: the other containers of the stack", // the side-services table
		"`" + side.Name + "`",                              // its row
		"side service " + side.Name + ": 1 OOM kill (peak", // the finding
		"before the OOM kill",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q\n%s", want, md)
		}
	}
}

// onlyOutcome reads the outcome of a run's only scenario, and returns its folder.
func onlyOutcome(t *testing.T, dir string) (result.Outcome, string) {
	t.Helper()
	ids, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*"))
	if len(ids) != 1 {
		t.Fatalf("scenarios: %v", ids)
	}
	var o result.Outcome
	if err := result.ReadJSON(filepath.Join(ids[0], "outcome.json"), &o); err != nil {
		t.Fatal(err)
	}
	return o, ids[0]
}

// resultsColumn is the value of column name in the only row of a run's results.csv.
func resultsColumn(t *testing.T, dir, name string) string {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "results.csv"))
	if len(rows) != 2 {
		t.Fatalf("results.csv has %d rows, want a header and one scenario", len(rows))
	}
	i := slices.Index(rows[0], name)
	if i < 0 {
		t.Fatalf("results.csv has no column %s: %v", name, rows[0])
	}
	return rows[1][i]
}

// readStats reads a stats.csv file.
func readStats(t *testing.T, path string) []result.Sample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := result.ReadStats(f)
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

// TestBrokenScenarioCorpus runs runner validate on every file of
// testdata/broken: each is refused with exit 2 and names each of its problems
// where it is, and nothing is started.
func TestBrokenScenarioCorpus(t *testing.T) {
	want := map[string][]string{
		"syntax.yaml": {"syntax.yaml:2:1: YAML syntax: did not find expected node content"},
		"types.yaml": {
			`types.yaml:3:22: defaults.duration: "fast" is not a duration`,
			`types.yaml:6:16: grid[0].replicas[0]: want a whole number, got "two"`,
		},
		"units.yaml": {
			`units.yaml:5:14: grid[0].memory[0]: "3X" is not a size`,
			`units.yaml:6:12: grid[0].cpus[0]: "1.5GHz" is not a CPU count`,
			`units.yaml:7:19: grid[0].load[0].rate: "10/week" is not a rate`,
		},
		"ranges.yaml": {
			"ranges.yaml:2:29: service.port: 70000 is not a port",
			`ranges.yaml:3:19: slo.error_rate: "150" is outside 0%..100%`,
			"ranges.yaml:6:16: grid[0].replicas[0]: 0: replicas must be 1 or more",
			"3 replicas cannot fit the host port range 18000-18001",
			"grid[0].load[0].users: -1: users must be 1 or more",
			`grid[0].load[1].rate: rate "0/s" must be more than 0`,
		},
		"template.yaml":      {"bad.yml.tmpl rendered invalid YAML for scenario a-r1-cpu_unl-mem_unl-client-rate10"},
		"body-missing.yaml":  {"body-missing.yaml:3:52: request.body_file: body file", "nowhere.json does not exist"},
		"body-not-json.yaml": {"request.body_file: the body is not valid JSON but Content-Type says JSON"},
		"empty-grid.yaml":    {"empty-grid.yaml:3:7: grid: the grid is empty"},
		"injection.yaml": {
			`service.image: "x:1\n    privileged: true" is not an image reference`,
			`service.env: "A\nB" is not an environment variable name`,
			`grid[0].name: "a\nb": use at most 40 lowercase letters`,
		},
	}
	files, _ := filepath.Glob("testdata/broken/*.yaml")
	if len(files) != len(want) {
		t.Errorf("%d files in testdata/broken, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			msgs, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatal("no expected messages for this file")
			}
			var stdout, stderr bytes.Buffer
			if code := Main([]string{"validate", f}, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			for _, m := range msgs {
				if !strings.Contains(stderr.String(), m) {
					t.Errorf("stderr lacks %q:\n%s", m, stderr.String())
				}
			}
			out := t.TempDir()
			stderr.Reset()
			if code := Main([]string{"run", f, "--out", out, "--platform", "compose"}, &stdout, &stderr); code != exitUsage {
				t.Errorf("run: exit %d, want %d", code, exitUsage)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("run of an invalid file wrote %v", entries)
			}
		})
	}
}

// TestDockerLostMidRun: the Docker daemon stops answering during the first
// scenario's load, or while its stack comes up (the runner talks to the daemon
// through a socket proxy that the test shuts, so the shared daemon keeps
// running). The runner stops within seconds with exit 3 and says that the daemon
// stopped, that the stack may still run and how to remove it; the run directory
// keeps plan.json, run.json, the report and the interrupted scenario's outcome
// (failed, naming the daemon) and its results so far; no later scenario starts.
// What is left on the real daemon is then removed by runner clean --run through
// the real socket.
func TestDockerLostMidRun(t *testing.T) {
	dockertest.Require(t)
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			t.Skipf("DOCKER_HOST=%s is not a unix socket; this test proxies one", h)
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	tests := []struct {
		name  string
		at    func(string) bool
		delay time.Duration
		want  string // in the first scenario's error
		load  bool   // the load ran: its results so far are kept, the stack is left
	}{
		{name: "load", at: runnertest.PhaseLine(1, "load"), delay: 2 * time.Second, want: "the load was stopped", load: true},
		{name: "up", at: runnertest.PhaseLine(1, "up"), delay: 300 * time.Millisecond, want: "stack did not come up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := runnertest.StartSockProxy(t, sock)
			file := runnertest.InferenceStudy(t, "lost", "{duration: 20s, warmup: 1s, cpus: 0.5, memory: 256M}",
				"  - name: first\n    load: [{rate: 20/s}]\n  - name: second\n    load: [{rate: 20/s}]\n")
			out := t.TempDir()
			t.Setenv("RUNNER_STATE_DIR", t.TempDir())
			t.Cleanup(func() { // whatever happens below, leave nothing on the real daemon
				dirs, _ := filepath.Glob(filepath.Join(out, "*-*T*Z"))
				for _, d := range dirs {
					var so, se bytes.Buffer
					Main([]string{"clean", "--run", filepath.Base(d), "--force"}, &so, &se)
				}
			})
			p := runnertest.Start(t, []string{"DOCKER_HOST=unix://" + proxy.Path}, file, "--out", out)
			p.WaitFor(3*time.Minute, "the first "+tt.name, tt.at)
			time.Sleep(tt.delay) // load: past the warm-up, results are being written
			conns := proxy.Open()
			proxy.Stop()
			stopped := time.Now()
			code := p.Wait(90 * time.Second)
			took := time.Since(stopped)
			t.Logf("exited %d, %s after the daemon stopped (%d connections were open)\nstderr:\n%s", code, took.Round(time.Millisecond), conns, p.Stderr())
			dir := onlyRun(t, out)
			id := filepath.Base(dir)

			if code != exitPlatform {
				t.Errorf("exit %d, want %d\nstdout:\n%s", code, exitPlatform, p.Out())
			}
			if took > 30*time.Second {
				t.Errorf("took %s to stop after the daemon went away; the load lasts 20s, the telemetry should stop it", took)
			}
			for _, want := range []string{
				"the Docker daemon at unix://" + proxy.Path + " stopped answering",
				"no later scenario was started",
				"may still be running",
				"runner clean --run " + id,
				"--resume=" + dir,
			} {
				if !strings.Contains(p.Stderr(), want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			var plan []result.Scenario
			if err := result.ReadJSON(filepath.Join(dir, "plan.json"), &plan); err != nil || len(plan) != 2 {
				t.Fatalf("plan.json: %v, %d scenarios", err, len(plan))
			}
			var run result.Run
			if err := result.ReadJSON(filepath.Join(dir, "run.json"), &run); err != nil || run.Ended.IsZero() {
				t.Errorf("run.json: %v, ended %v", err, run.Ended)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
				t.Errorf("no report: %v", err)
			}
			first := filepath.Join(dir, "scenarios", plan[0].ID)
			var o result.Outcome
			if err := result.ReadJSON(filepath.Join(first, "outcome.json"), &o); err != nil {
				t.Fatal(err)
			}
			if o.Status != result.StatusFailed || !strings.Contains(o.Error, "Docker daemon") || !strings.Contains(o.Error, tt.want) {
				t.Errorf("first scenario: %s: %q; want failed with %q, naming the daemon", o.Status, o.Error, tt.want)
			}
			if tt.load {
				if o.Load.Requests == 0 || !strings.Contains(o.Error, "results so far are kept") {
					t.Errorf("first scenario kept no load results: %+v", o.Load)
				}
				if n, err := load.CountResults(filepath.Join(first, "results.gob")); n == 0 {
					t.Errorf("results.gob: %d records (%v)", n, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "scenarios", plan[1].ID)); !os.IsNotExist(err) {
				t.Errorf("the second scenario was started after the daemon stopped (%v)", err)
			}
			if strings.Contains(p.Out(), "[2/2]") {
				t.Errorf("progress shows the second scenario:\n%s", p.Out())
			}

			// The stack still runs on the real daemon; clean removes it once it answers.
			left := dockertest.Leftovers(t, label.Run+"="+id)
			t.Logf("left on the daemon: %v", left)
			if tt.load && len(left) == 0 {
				t.Error("nothing of the run left on the daemon: the proxy did not cut the runner off")
			}
			for _, l := range left {
				if strings.Contains(l, plan[1].ID) {
					t.Errorf("the second scenario left %s", l)
				}
			}
			var so, se bytes.Buffer
			if c := Main([]string{"clean", "--run", id}, &so, &se); c != exitOK {
				t.Errorf("runner clean --run %s: exit %d\n%s%s", id, c, so.String(), se.String())
			}
			dockertest.NoLeftovers(t, label.Run+"="+id)
		})
	}
}
