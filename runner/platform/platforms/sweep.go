package platforms

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/platform/local"
)

// Sweep removes (or with dryRun lists) the Docker resources and local processes of
// run runID, or of every run when runID is empty, telling say about each, and
// returns how many it found. Docker is asked only withDocker, and only when a
// daemon may exist (DOCKER_HOST is set or the default socket exists); a daemon
// that is named but does not answer is an error.
func Sweep(ctx context.Context, runID string, dryRun, withDocker bool, say func(string)) (int, error) {
	n := 0
	var errs []error
	// Processes first: they hold no Docker state, and are quick.
	procs, err := local.ProcessesWith(local.EnvRun)
	if err != nil {
		errs = append(errs, fmt.Errorf("cannot list processes: %w", err))
	}
	for _, p := range procs {
		if runID != "" && p.Value != runID {
			continue
		}
		n++
		say(fmt.Sprintf("process %d (run %s)", p.PID, p.Value))
		if !dryRun {
			// Replicas run in their own process group (Setpgid).
			if err := syscall.Kill(-p.PID, syscall.SIGKILL); err != nil {
				if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
					errs = append(errs, fmt.Errorf("cannot kill process %d: %w", p.PID, err))
				}
			}
		}
	}

	if !withDocker {
		return n, errors.Join(errs...)
	}
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return n, errors.Join(errs...) // no daemon here: nothing of Docker to clean
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dc, err := docker.New(dctx)
	if err != nil {
		// Nothing of Docker can be cleaned; a daemon that is down holds no running stack.
		return n, errors.Join(append(errs, fmt.Errorf("Docker not checked: %w", err))...)
	}
	defer dc.Close()
	f := docker.Filter{label.Managed: "true"}
	if runID != "" {
		f = docker.Filter{label.Run: runID}
	}
	left, err := dc.Leftovers(dctx, f)
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, what := range left {
		say(what)
	}
	n += len(left)
	if !dryRun && len(left) > 0 {
		if err := dc.Sweep(dctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}
