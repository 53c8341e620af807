package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/infergrid/runner/runner/platform/local"
	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/result"
)

// TestRunCommandExample runs the shipped example of a service given only by its
// command (Python's http.server), as its header says to: platform auto runs it
// locally, whether Docker answers or not, says why, samples both replicas and
// leaves no process.
func TestRunCommandExample(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skipf("python3 is not in PATH (%v): scenarios/examples/python-local.yaml runs python3 -m http.server; install python3", err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main([]string{"run", "../../scenarios/examples/python-local.yaml", "--only", "replicas-r2-*", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	dir := onlyRun(t, out)
	var run result.Run
	if err := result.ReadJSON(filepath.Join(dir, "run.json"), &run); err != nil {
		t.Fatal(err)
	}
	if run.Platform != "local" || !slices.Contains(run.PlatformNotes, platforms.CommandOnlyNote) {
		t.Errorf("run.json: platform %s, notes %q: want local and why auto chose it", run.Platform, run.PlatformNotes)
	}
	if !bytes.Contains(stderr.Bytes(), []byte(platforms.CommandOnlyNote)) {
		t.Errorf("stderr does not say why auto chose local:\n%s", stderr.String())
	}
	outcomes := checkRunDir(t, dir, true, false)
	if len(outcomes) != 1 {
		t.Fatalf("%d outcomes, want 1", len(outcomes))
	}
	o := outcomes[0]
	if o.Status != result.StatusOK || o.Load.SuccessRatio != 1 || len(o.Resources.Containers) != 2 || o.Resources.PeakMemBytes == 0 {
		t.Errorf("outcome %s %s, success %v, resources %+v: want ok, watched on 2 replicas", o.Status, o.Error, o.Load.SuccessRatio, o.Resources)
	}
	if eps := o.Load.Endpoints; len(eps) != 2 || eps[0].Requests == 0 || eps[1].Requests == 0 {
		t.Errorf("client balancing over the replicas: %+v", eps)
	}
	if left, err := local.Processes(local.EnvRun, run.ID); err != nil || len(left) > 0 {
		t.Errorf("processes %v of run %s left (err %v)", left, run.ID, err)
	}
}
