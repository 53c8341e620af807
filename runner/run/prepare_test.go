package run

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/spec"
)

func TestPrepare(t *testing.T) {
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	f, err := spec.Load("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sweep := func(context.Context, string, bool, bool, func(string)) (int, error) {
		return 0, errors.New("no lease is dead, so nothing is swept")
	}
	if err := prepare(t.Context(), f, "compose", t.TempDir(), &strings.Builder{}, sweep); err != nil {
		t.Errorf("prepare: %v", err)
	}
	err = prepare(t.Context(), f, "compose", filepath.Join(blocked, "runs"), &strings.Builder{}, sweep)
	if err == nil || !strings.HasSuffix(err.Error(), "; nothing was started") {
		t.Errorf("prepare into a file's subfolder = %v, want an error that says nothing was started", err)
	}
}

func TestMeta(t *testing.T) {
	f, err := spec.Load("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := Meta(f, "smoke.yaml", "runs/smoke-20260101T000000Z", "v1", preflight.Host{CPUs: 4, MemTotalBytes: 8 << 30})
	if m.ID != "smoke-20260101T000000Z" || m.Name != f.Name || m.RunnerVersion != "v1" || m.Host.CPUs != 4 || m.Host.MemoryBytes != 8<<30 || m.Started.IsZero() {
		t.Errorf("Meta = %+v", m)
	}
}

func TestLeases(t *testing.T) {
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	release, err := holdLease(Meta(&spec.File{Name: "a"}, "a.yaml", "runs/a-1", "dev", preflight.Host{}), "runs/a-1")
	if err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(StateDir(), "b-1.lease")
	if err := os.WriteFile(dead, []byte(`{"run_id":"b-1","pid":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	leases := ReadLeases()
	if live := liveRuns(leases, ""); !slices.Equal(live, []string{fmt.Sprintf("a-1 (pid %d)", os.Getpid())}) {
		t.Errorf("LiveRuns = %q, want a-1 alone", live)
	}
	if live := liveRuns(leases, "b-1"); len(live) != 0 {
		t.Errorf("LiveRuns of b-1 = %q, want none", live)
	}
	if _, err := holdLease(Meta(&spec.File{Name: "a"}, "a.yaml", "runs/a-1", "dev", preflight.Host{}), "runs/a-1"); !errors.Is(err, ErrLeaseHeld) {
		t.Errorf("a second lease of a-1: %v, want ErrLeaseHeld", err)
	}
	removeDeadLeases(leases, "")
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead lease is still there: %v", err)
	}
	release()
	if len(ReadLeases()) != 0 {
		t.Errorf("leases after release: %+v", ReadLeases())
	}
}

func TestResumeFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want Resume
	}{
		{nil, Resume{}},
		{[]string{"--resume"}, Resume{On: true}},
		{[]string{"--resume=runs/a-1"}, Resume{On: true, Dir: "runs/a-1"}},
		{[]string{"--resume=false"}, Resume{}},
	} {
		var r Resume
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.Var(&r, "resume", "")
		if err := fs.Parse(tt.args); err != nil || r != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.args, r, err, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	release, err := TakeLease(Lease{RunID: "live-1", PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	dead := filepath.Join(StateDir(), "dead-1.lease")
	if err := os.WriteFile(dead, []byte(`{"run_id":"dead-1","pid":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sweep := func(ctx context.Context, runID string, dryRun, withDocker bool, say func(string)) (int, error) {
		say("container c1")
		return 1, nil
	}
	var said []string
	say := func(s string) { said = append(said, s) }
	var live *LiveError
	if _, err := Clean(t.Context(), CleanOptions{}, sweep, say); !errors.As(err, &live) || !strings.Contains(err.Error(), "live-1 (pid") {
		t.Errorf("Clean with a live run: %v, want a LiveError", err)
	}
	if n, err := Clean(t.Context(), CleanOptions{RunID: "dead-1", DryRun: true}, sweep, say); n != 1 || err != nil || !slices.Equal(said, []string{"would remove container c1"}) {
		t.Errorf("Clean --dry-run = %d, %v, said %q", n, err, said)
	}
	if _, err := os.Stat(dead); err != nil {
		t.Errorf("a dry run removed the dead lease: %v", err)
	}
	said = nil
	if n, err := Clean(t.Context(), CleanOptions{Force: true}, sweep, say); n != 1 || err != nil || !slices.Equal(said, []string{"removed container c1"}) {
		t.Errorf("Clean --force = %d, %v, said %q", n, err, said)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead lease is still there: %v", err)
	}
}
