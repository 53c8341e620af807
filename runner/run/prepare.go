package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// Prepare readies a run of f on the platform called platformName before anything
// is built or started: every scenario renders with its compose template (as
// runner validate checks) when the platform may use it, the output folder out is
// writable, and the stacks of runs whose runner died are removed by sweep
// (CleanOrphans, which tells w). An error says that nothing was started.
func Prepare(ctx context.Context, f *spec.File, platformName, out string, w io.Writer, sweep Sweeper) error {
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

// HoldLease takes the lease of the run meta describes, in dir, for as long as
// this process lives or until release. ErrLeaseHeld says the same run is already
// going (a second --resume of it); any other error is a warning: a stack left
// by a crash of this run will need runner clean.
func HoldLease(meta result.Run, dir string) (release func(), err error) {
	return TakeLease(Lease{RunID: meta.ID, PID: os.Getpid(), Hostname: meta.Host.Hostname, Platform: meta.Platform, Dir: dir, Started: meta.Started})
}

// LiveRuns names the runs still going on this host among leases (only run runID
// unless it is empty), as "ID (pid N)".
func LiveRuns(leases []Lease, runID string) []string {
	var live []string
	for _, l := range leases {
		if l.Live && (runID == "" || l.RunID == runID) {
			live = append(live, fmt.Sprintf("%s (pid %d)", l.RunID, l.PID))
		}
	}
	return live
}

// RemoveDeadLeases removes the lease files among leases whose runner is gone
// (only run runID's unless it is empty), once their stacks are removed.
func RemoveDeadLeases(leases []Lease, runID string) {
	for _, l := range leases {
		if !l.Live && (runID == "" || l.RunID == runID) {
			_ = os.Remove(l.Path)
		}
	}
}
