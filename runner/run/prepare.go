package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// prepare readies a run of f on the platform called platformName before anything
// is built or started: every scenario renders with its compose template (as
// runner validate checks) when the platform may use it, the output folder out is
// writable, and the stacks of runs whose runner died are removed by sweep
// (CleanOrphans, which tells w). An error says that nothing was started.
func prepare(ctx context.Context, f *spec.File, platformName, out string, w io.Writer, sweep Sweeper) error {
	if platformName != "local" && platformName != "external" && !f.Service.CommandOnly() {
		if err := render.Check(f); err != nil {
			return fmt.Errorf("%w\nNothing was started.", err)
		}
	}
	if err := CheckOut(out); err != nil {
		return fmt.Errorf("%w; nothing was started", err)
	}
	CleanOrphans(ctx, w, sweep)
	return nil
}

// Meta is the start of run.json for a run of f (from file) into dir: the run's
// identity, the runner's version, and this host's.
func Meta(f *spec.File, file, dir, version string, host preflight.Host) result.Run {
	meta := result.Run{
		ID: filepath.Base(dir), Name: f.Name, File: file, GitCommit: GitCommit(f.Dir),
		RunnerVersion: version, Started: time.Now(), SLO: f.SLO.Result(),
		Host: result.Host{OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: host.CPUs, MemoryBytes: host.MemTotalBytes},
	}
	meta.Host.Hostname, _ = os.Hostname()
	meta.Host.Kernel = Kernel()
	return meta
}

// holdLease takes the lease of the run meta describes, in dir, for as long as
// this process lives or until release. ErrLeaseHeld says the same run is already
// going (a second --resume of it); any other error is a warning: a stack left
// by a crash of this run will need runner clean.
func holdLease(meta result.Run, dir string) (release func(), err error) {
	return TakeLease(Lease{RunID: meta.ID, PID: os.Getpid(), Hostname: meta.Host.Hostname, Platform: meta.Platform, Dir: dir, Started: meta.Started})
}

// CleanOptions are runner clean's: only run RunID's leftovers unless it is
// empty; DryRun lists and removes nothing; Force removes runs still going too.
type CleanOptions struct {
	RunID         string
	DryRun, Force bool
}

// LiveError refuses to clean runs still going on this host (without Force).
type LiveError struct {
	// Runs are the runs, "ID (pid N)".
	Runs []string
}

func (e *LiveError) Error() string {
	return "still running on this host: " + strings.Join(e.Runs, ", ") + "; stop it first, or use --force"
}

// Clean removes (or with DryRun lists) what runs left behind, through sweep,
// which tells say of each ("removed WHAT" or "would remove WHAT"), and returns
// how many it found. A run still going on this host is a *LiveError unless
// Force. The leases of dead runs go too, unless DryRun.
func Clean(ctx context.Context, o CleanOptions, sweep Sweeper, say func(string)) (int, error) {
	leases := ReadLeases()
	if live := liveRuns(leases, o.RunID); len(live) > 0 && !o.Force {
		return 0, &LiveError{Runs: live}
	}
	verb := "removed"
	if o.DryRun {
		verb = "would remove"
	}
	n, err := sweep(ctx, o.RunID, o.DryRun, true, func(what string) { say(verb + " " + what) })
	if !o.DryRun {
		removeDeadLeases(leases, o.RunID)
	}
	return n, err
}

// liveRuns names the runs still going on this host among leases (only run runID
// unless it is empty), as "ID (pid N)".
func liveRuns(leases []Lease, runID string) []string {
	var live []string
	for _, l := range leases {
		if l.Live && (runID == "" || l.RunID == runID) {
			live = append(live, fmt.Sprintf("%s (pid %d)", l.RunID, l.PID))
		}
	}
	return live
}

// removeDeadLeases removes the lease files among leases whose runner is gone
// (only run runID's unless it is empty), once their stacks are removed.
func removeDeadLeases(leases []Lease, runID string) {
	for _, l := range leases {
		if !l.Live && (runID == "" || l.RunID == runID) {
			_ = os.Remove(l.Path)
		}
	}
}
