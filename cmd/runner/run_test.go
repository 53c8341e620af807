package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infergrid/runner/inference"
	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/internal/runnertest"
	"github.com/infergrid/runner/internal/timingtest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
)

// onlyRun returns the one run directory under out.
func onlyRun(t *testing.T, out string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(out, "*-*T*Z"))
	if len(dirs) != 1 {
		t.Fatalf("run directories under %s: %v, want one", out, dirs)
	}
	return dirs[0]
}

// checkRunDir checks every file a finished run must hold, and returns its outcomes.
// A run that started its service (stack) also watched it; compose runs keep the
// compose file.
func checkRunDir(t *testing.T, dir string, stack, compose bool) []result.Outcome {
	t.Helper()
	for _, f := range []string{"run.json", "plan.json", "report.md", "results.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "results.csv"))
	if got, want := rows[0][:len(report.DesignColumns)], report.DesignColumns; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("results.csv header %v, want the design's %v", got, want)
	}
	var plan []result.Scenario
	if err := result.ReadJSON(filepath.Join(dir, "plan.json"), &plan); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(plan)+1 {
		t.Errorf("results.csv has %d rows for %d scenarios", len(rows)-1, len(plan))
	}
	var outcomes []result.Outcome
	for _, s := range plan {
		sd := filepath.Join(dir, "scenarios", s.ID)
		files := []string{"outcome.json", "results.gob", "latency.png", "throughput.png"}
		if stack {
			files = append(files, "stats.csv", "events.json", "memory.png")
		}
		if compose {
			files = append(files, "compose.yml")
		}
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(sd, f)); err != nil {
				t.Errorf("%s: missing %s", s.ID, f)
			}
		}
		pngs, _ := filepath.Glob(filepath.Join(sd, "*.png"))
		for _, p := range pngs {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s is not a valid plot: %v", p, err)
			}
		}
		var o result.Outcome
		if err := result.ReadJSON(filepath.Join(sd, "outcome.json"), &o); err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, o)
	}
	return outcomes
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRunExternal runs both load models against an inference service already
// serving, as platform external does.
func TestRunExternal(t *testing.T) {
	h, err := inference.NewHandler(inference.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "ext.yaml")
	body, err := os.ReadFile("../../scenarios/payloads/predict.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "predict.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`name: ext
platform: external
targets: [%s]
request: {method: POST, path: /predict, headers: {Content-Type: application/json}, body_file: predict.json}
defaults: {duration: 2s, warmup: 500ms}
slo: {p99: 2s, error_rate: 1%%}
grid:
  - name: closed
    load: [{users: 4, spawn_rate: 8}]
  - name: open
    load: [{rate: 100/s}]
`, srv.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "runs")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{file, "--out", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	outcomes := checkRunDir(t, onlyRun(t, out), false, false)
	for _, o := range outcomes {
		if o.Status != result.StatusOK || o.Load.Requests == 0 || o.Load.SuccessRatio != 1 {
			t.Errorf("%s: %s, %d requests, success %v: %s", o.Scenario.ID, o.Status, o.Load.Requests, o.Load.SuccessRatio, o.Error)
		}
	}
	if !strings.Contains(stdout.String(), "[2/2] open-client-rate100") || !strings.Contains(stdout.String(), "report: ") {
		t.Errorf("stdout lacks progress or the report path:\n%s", stdout.String())
	}
}

// TestRunLocal runs a scenario as child processes, without Docker.
func TestRunLocal(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main([]string{"run", "../../scenarios/smoke.yaml", "--platform", "local", "--only", "pair-*", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	outcomes := checkRunDir(t, onlyRun(t, out), true, false)
	if len(outcomes) != 1 || outcomes[0].Status != result.StatusOK || len(outcomes[0].Resources.Containers) != 2 {
		t.Errorf("outcome %+v, want one ok scenario watched on 2 replicas", outcomes)
	}
	if eps := outcomes[0].Load.Endpoints; len(eps) != 2 || eps[0].Requests == 0 || eps[1].Requests == 0 {
		t.Errorf("client balancing over the local replicas: %+v", eps)
	}
}

// TestRunCompose runs the smoke grid on Docker, end to end.
func TestRunCompose(t *testing.T) {
	dockertest.Require(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main([]string{ownSmoke(t), "--platform", "compose", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	for _, o := range checkRunDir(t, dir, true, true) {
		if o.Status != result.StatusOK || o.Load.Requests == 0 {
			t.Errorf("%s: %s: %s", o.Scenario.ID, o.Status, o.Error)
		}
		if o.Resources.PeakMemBytes == 0 || len(o.Resources.Containers) != o.Scenario.Replicas {
			t.Errorf("%s: telemetry %+v, want memory of %d replicas", o.Scenario.ID, o.Resources, o.Scenario.Replicas)
		}
	}
}

// TestRunSwarm runs the same smoke file as TestRunCompose on a swarm, end to
// end: stacks deployed, telemetry per task, client balancing over the tasks'
// host ports, nothing left, and the swarm left as it was found.
func TestRunSwarm(t *testing.T) {
	dockertest.SwarmLock(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main([]string{ownSmoke(t), "--platform", "swarm", "--init-swarm", "--only", "pair-*", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	outcomes := checkRunDir(t, dir, true, true)
	if len(outcomes) != 1 {
		t.Fatalf("%d outcomes, want 1", len(outcomes))
	}
	o := outcomes[0]
	if o.Status != result.StatusOK || len(o.Resources.Containers) != 2 || o.Resources.PeakMemBytes == 0 {
		t.Errorf("outcome %s %s, resources %+v: want ok, watched on 2 tasks", o.Status, o.Error, o.Resources)
	}
	if eps := o.Load.Endpoints; len(eps) != 2 || eps[0].Requests == 0 || eps[1].Requests == 0 {
		t.Errorf("client balancing over the tasks: %+v", eps)
	}
	var run result.Run
	if err := result.ReadJSON(filepath.Join(dir, "run.json"), &run); err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(run.PlatformNotes, "\n"); run.Platform != "swarm" || !strings.Contains(notes, "publishes in") {
		t.Errorf("run.json: platform %s, notes %q: want swarm and how it published", run.Platform, notes)
	}
	compose, err := os.ReadFile(filepath.Join(dir, "scenarios", o.Scenario.ID, "compose.yml"))
	if err != nil || !strings.Contains(string(compose), "docker stack deploy") {
		t.Errorf("compose.yml is not the swarm flavour: %v\n%s", err, compose)
	}
}

// TestRunSwarmInterrupt sends SIGINT to a runner process during a swarm
// scenario's load: docker stack rm must have removed every task and network,
// and the swarm the runner created must be gone.
func TestRunSwarmInterrupt(t *testing.T) {
	dockertest.SwarmLock(t)
	out := t.TempDir()
	p := runnertest.Start(t, nil, ownSmoke(t), "--platform", "swarm", "--init-swarm", "--only", "single-*", "--out", out)
	interruptAt(t, p, runnertest.PhaseLine(1, "load"))
	if code := p.Wait(3 * time.Minute); code != exitInterrupted {
		t.Fatalf("runner exited with %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, p.Out(), p.Stderr())
	}
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(onlyRun(t, out)))
}

// interruptAt sends p SIGINT half a second after its first stdout line that
// matches (the phase has begun, not only been announced).
func interruptAt(t *testing.T, p *runnertest.Proc, match func(string) bool) {
	t.Helper()
	p.WaitFor(3*time.Minute, "the phase to interrupt", match)
	time.Sleep(500 * time.Millisecond)
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

// TestRunInterruptAndResume sends SIGINT to a runner process during the second
// scenario's load: the stack must be gone, the first scenario's results kept, and
// --resume must finish the rest.
func TestRunInterruptAndResume(t *testing.T) {
	dockertest.Require(t)
	out := t.TempDir()
	smoke := ownSmoke(t)
	p := runnertest.Start(t, nil, smoke, "--platform", "compose", "--out", out)
	interruptAt(t, p, runnertest.PhaseLine(2, "load"))
	if code := p.Wait(3 * time.Minute); code != exitInterrupted {
		t.Fatalf("runner exited with %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, p.Out(), p.Stderr())
	}
	stderr := p.Stderr()
	if !strings.Contains(stderr, "--resume=") {
		t.Errorf("no resume hint in stderr:\n%s", stderr)
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	var first result.Outcome
	if err := result.ReadJSON(filepath.Join(dir, "scenarios", "single-r1-cpu0_5-mem256m-client-u5s5", "outcome.json"), &first); err != nil || first.Status != result.StatusOK {
		t.Fatalf("first scenario after the interrupt: %v, %+v", err, first.Status)
	}

	res := runnertest.Start(t, nil, smoke, "--platform", "compose", "--out", out, "--resume")
	if code := res.Wait(3 * time.Minute); code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, res.Out(), res.Stderr())
	}
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	for _, o := range checkRunDir(t, dir, true, true) {
		if o.Status != result.StatusOK {
			t.Errorf("%s after resume: %s: %s", o.Scenario.ID, o.Status, o.Error)
		}
	}
	if o := checkRunDir(t, dir, true, true)[0]; !o.Started.Equal(first.Started) {
		t.Errorf("resume ran the finished first scenario again")
	}
}

// TestRunExternalSearch runs a capacity search against a server with 4 slots of
// 20ms (about 200 requests/s), end to end: step lines, per-step raw results, the
// capacity in outcome.json, results.csv and report.md.
func TestRunExternalSearch(t *testing.T) {
	sem := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		time.Sleep(20 * time.Millisecond)
		<-sem
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "search.yaml")
	yaml := fmt.Sprintf(`name: search
platform: external
targets: [%s]
defaults: {warmup: 100ms, timeout: 2s}
slo: {p99: 300ms, error_rate: 1%%}
grid:
  - name: cap
    load: [{search: {from: 25/s, to: 1600/s, steps: 7, step_duration: 400ms, precision: 10%%}}]
`, srv.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Which steps a search takes follows from what each step measured, so a
	// stall of this shared machine (a step whose generator fell short, or whose
	// p99 a pause pushed past the SLO) changes them: such a run is tried again.
	const id = "cap-client-search25to1600-n7-sd400ms-p10"
	var run string
	var c *result.Capacity
	var o result.Outcome
	timingtest.Measured(t, func() (problems []string) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		if code := Main([]string{file, "--out", out}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "load: step 1: 25/s pass p99 ") {
			t.Fatalf("stdout lacks the step lines:\n%s", stdout.String())
		}
		run = onlyRun(t, out)
		if err := result.ReadJSON(filepath.Join(run, "scenarios", id, "outcome.json"), &o); err != nil {
			t.Fatal(err)
		}
		if c = o.Load.Capacity; o.Status != result.StatusOK || c == nil {
			t.Fatalf("outcome %s %s, capacity %+v", o.Status, o.Error, c)
		}
		if len(c.Steps) != 7 || o.SLOPass == nil || !*o.SLOPass || c.RPS < 50 || c.RPS > 500 {
			problems = append(problems, fmt.Sprintf("capacity %v/s after %d steps (%s), SLO %v; want about 200/s after 7:\n%s",
				c.RPS, len(c.Steps), c.Reason, o.SLOPass, stdout.String()))
		}
		return problems
	})
	if t.Failed() {
		return
	}
	t.Logf("capacity %v/s: %s", c.RPS, c.Reason)
	if o.Load.RequestedRPS != c.RPS {
		t.Errorf("main metrics of the step at %v/s, want the capacity's step at %v/s", o.Load.RequestedRPS, c.RPS)
	}
	for i := range c.Steps {
		if _, err := os.Stat(filepath.Join(run, "scenarios", id, fmt.Sprintf("results-step%d.gob", i+1))); err != nil {
			t.Errorf("step %d: %v", i+1, err)
		}
	}
	rows := readCSV(t, filepath.Join(run, "results.csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if got := rows[1][col["capacity_rps"]]; got != fmt.Sprintf("%.2f", c.RPS) || rows[1][col["search"]] != "25/s..1600/s" || rows[1][col["capacity_steps"]] != "7" {
		t.Errorf("results.csv capacity_rps %q search %q steps %q", got, rows[1][col["search"]], rows[1][col["capacity_steps"]])
	}
	md, err := os.ReadFile(filepath.Join(run, "report.md"))
	if err != nil || !strings.Contains(string(md), "## Capacity at SLO") {
		t.Errorf("report.md lacks the capacity table: %v", err)
	}
}
