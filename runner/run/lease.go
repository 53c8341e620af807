package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Sweeper removes what run runID left (platforms.Sweep): Docker resources only
// withDocker, and local replica processes; it tells say about each, and returns
// how many it found.
type Sweeper func(ctx context.Context, runID string, dryRun, withDocker bool, say func(string)) (int, error)

// A Lease says that a run is going on this host: runner run writes
// STATE_DIR/RUN_ID.lease and holds an exclusive flock(2) on it until it exits. The
// kernel drops the lock when the process dies, however it dies (SIGKILL too), so a
// lease file whose lock can be taken belongs to a runner that is gone: its stack is
// an orphan. Containers of runs without a lease here (other hosts sharing the
// daemon, tests, older runners) are never removed automatically; runner clean
// removes them.
type Lease struct {
	// RunID is the run's ID, PID its runner's process ID.
	RunID string `json:"run_id"`
	PID   int    `json:"pid"`
	// Hostname and Platform say where the run's stacks are.
	Hostname string `json:"hostname"`
	Platform string `json:"platform"`
	// Dir is the run directory, Started when the run started.
	Dir     string    `json:"dir"`
	Started time.Time `json:"started"`

	// Live is true while the lease's runner still holds it.
	Live bool `json:"-"`
	// Path is the lease file.
	Path string `json:"-"`
}

var ErrLeaseHeld = errors.New("lease held")

// StateDir is where leases live: $RUNNER_STATE_DIR, else the user's cache
// directory (~/.cache/infergrid-runner/leases).
func StateDir() string {
	if d := os.Getenv("RUNNER_STATE_DIR"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "infergrid-runner", "leases")
}

// TakeLease writes and locks the lease of run l.RunID. release unlocks and removes
// it. A lease that cannot be written only costs the SIGKILL recovery, so it is a
// warning, not an error.
func TakeLease(l Lease) (release func(), err error) {
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}, fmt.Errorf("cannot create the lease folder: %w", err)
	}
	path := filepath.Join(dir, l.RunID+".lease")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}, fmt.Errorf("cannot write a lease: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return func() {}, fmt.Errorf("%w: run %s is already going on this host (%s is locked)", ErrLeaseHeld, l.RunID, path)
	}
	data, _ := json.Marshal(l)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(data, '\n'), 0)
		_ = f.Sync()
	}
	return func() {
		_ = os.Remove(path)
		f.Close() // drops the lock
	}, nil
}

// ReadLeases reads every lease and says whether its runner still holds it.
func ReadLeases() []Lease {
	paths, _ := filepath.Glob(filepath.Join(StateDir(), "*.lease"))
	sort.Strings(paths)
	var out []Lease
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var l Lease
		data, _ := io.ReadAll(f)
		if json.Unmarshal(data, &l) != nil || l.RunID == "" {
			l.RunID = strings.TrimSuffix(filepath.Base(p), ".lease")
		}
		l.Path = p
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			l.Live = true
		}
		f.Close() // drops our probe lock, if taken
		out = append(out, l)
	}
	return out
}

// CleanOrphans removes the stacks of runs whose runner is gone (a stale lease), and
// says what it removed on w; sweep removes them. Failures are reported and do not stop the new run.
func CleanOrphans(ctx context.Context, w io.Writer, sweep Sweeper) {
	for _, l := range ReadLeases() {
		if l.Live {
			continue
		}
		var removed []string
		withDocker := l.Platform != "local" && l.Platform != "external"
		_, err := sweep(ctx, l.RunID, false, withDocker, func(what string) { removed = append(removed, what) })
		switch {
		case err != nil:
			fmt.Fprintf(w, "runner run: orphaned stack of run %s (runner pid %d is gone): %v; `runner clean --run %s` retries\n", l.RunID, l.PID, err, l.RunID)
			continue
		case len(removed) > 0:
			fmt.Fprintf(w, "runner run: removed the orphaned stack of run %s (its runner, pid %d, is gone): %s\n", l.RunID, l.PID, strings.Join(removed, ", "))
		}
		_ = os.Remove(l.Path)
	}
}

// CheckOut fails when the output folder cannot take a run: it cannot be created or
// written, or its file system has less than MinFreeBytes free.
func CheckOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".runner-write-check-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("ok\n"))
	f.Close()
	os.Remove(name)
	if werr != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, werr)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil {
		if free := int64(st.Bavail) * int64(st.Bsize); free < MinFreeBytes {
			return fmt.Errorf("output folder %s has only %d MiB free, want at least %d MiB", dir, free>>20, MinFreeBytes>>20)
		}
	}
	return nil
}

// MinFreeBytes is the free space a run needs in its output folder to start.
var MinFreeBytes int64 = 50 << 20
