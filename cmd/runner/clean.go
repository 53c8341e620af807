package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/platform/local"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

const cleanUsage = `Usage: runner clean [--run ID] [--dry-run] [--force]

Removes what runs of the runner left behind: every Docker container, network and
volume carrying the label dev.infergrid.runner (or, with --run, the run label
dev.infergrid.runner.run=ID), and every local-platform replica process (tagged
with INFERGRID_RUNNER_RUN in its environment). It says what it removed. Built
images are kept (docker image prune --filter label=dev.infergrid.runner removes
them).

A run that is still going on this host holds a lease (see RUNNER_STATE_DIR in
docs/faults.md); clean refuses to remove it unless --force. runner run removes the
stacks of runs whose runner was killed (SIGKILL, a crash) by itself at start.

Exit status: 0 done (or nothing to remove); 2 bad usage or a live run without
--force; 3 something could not be removed.

Options:
OPTIONS
Examples:
  runner clean --dry-run
  runner clean
  runner clean --run smoke-20260101T120000Z
`

// cmdClean is `runner clean`.
func cmdClean(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("clean", cleanUsage, stdout)
	var runID string
	var dryRun, force bool
	fs.StringVar(&runID, "run", "", "remove only what run `ID` left (NAME-YYYYMMDDTHHMMSSZ)")
	fs.BoolVar(&dryRun, "dry-run", false, "list what would be removed, and remove nothing")
	fs.BoolVar(&force, "force", false, "also remove the stacks of runs still going on this host")
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "runner clean: unexpected arguments %q\nRun 'runner clean -h' for usage.\n", pos)
		return exitUsage
	}
	leases := readLeases()
	if !force {
		var live []string
		for _, l := range leases {
			if l.Live && (runID == "" || l.RunID == runID) {
				live = append(live, fmt.Sprintf("%s (pid %d)", l.RunID, l.PID))
			}
		}
		if len(live) > 0 {
			fmt.Fprintf(stderr, "runner clean: still running on this host: %s; stop it first, or use --force\n", strings.Join(live, ", "))
			return exitUsage
		}
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	n, err := sweep(ctx, runID, dryRun, true, func(what string) { fmt.Fprintf(stdout, "%s %s\n", verb, what) })
	if !dryRun {
		for _, l := range leases {
			if !l.Live && (runID == "" || l.RunID == runID) {
				_ = os.Remove(l.path)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "runner clean: %v\n", err)
		return exitPlatform
	}
	if n == 0 {
		fmt.Fprintln(stdout, "nothing to remove")
	}
	return exitOK
}

// sweep removes (or with dryRun lists) the Docker resources and local processes of
// run runID, or of every run when runID is empty, telling say about each, and
// returns how many it found. Docker is asked only withDocker, and only when a
// daemon may exist (DOCKER_HOST is set or the default socket exists); a daemon
// that is named but does not answer is an error.
func sweep(ctx context.Context, runID string, dryRun, withDocker bool, say func(string)) (int, error) {
	n := 0
	var errs []error
	// Processes first: they hold no Docker state, and are quick.
	pids, err := runnerProcesses(runID)
	if err != nil {
		errs = append(errs, fmt.Errorf("cannot list processes: %w", err))
	}
	for _, p := range pids {
		n++
		say(fmt.Sprintf("process %d (run %s)", p.pid, p.run))
		if !dryRun {
			// Replicas run in their own process group (Setpgid).
			if err := syscall.Kill(-p.pid, syscall.SIGKILL); err != nil {
				if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
					errs = append(errs, fmt.Errorf("cannot kill process %d: %w", p.pid, err))
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

type runnerProcess struct {
	pid int
	run string
}

// runnerProcesses lists the live local-platform replicas of run runID (of any run
// when runID is empty): processes whose environment has local.EnvRun.
func runnerProcesses(runID string) ([]runnerProcess, error) {
	if runID != "" {
		pids, err := local.Processes(local.EnvRun, runID)
		out := make([]runnerProcess, len(pids))
		for i, p := range pids {
			out[i] = runnerProcess{p, runID}
		}
		return out, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []runnerProcess
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(data), "\x00") {
			if run, ok := strings.CutPrefix(kv, local.EnvRun+"="); ok && run != "" {
				// Keep only live processes (Processes skips zombies).
				if live, _ := local.Processes(local.EnvRun, run); containsInt(live, pid) {
					out = append(out, runnerProcess{pid, run})
				}
				break
			}
		}
	}
	return out, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// A lease says that a run is going on this host: runner run writes
// STATE_DIR/RUN_ID.lease and holds an exclusive flock(2) on it until it exits. The
// kernel drops the lock when the process dies, however it dies (SIGKILL too), so a
// lease file whose lock can be taken belongs to a runner that is gone: its stack is
// an orphan. Containers of runs without a lease here (other hosts sharing the
// daemon, tests, older runners) are never removed automatically; runner clean
// removes them.
type lease struct {
	RunID    string    `json:"run_id"`
	PID      int       `json:"pid"`
	Hostname string    `json:"hostname"`
	Platform string    `json:"platform"`
	Dir      string    `json:"dir"`
	Started  time.Time `json:"started"`

	// Live is true while the lease's runner still holds it.
	Live bool `json:"-"`
	path string
}

var errLeaseHeld = errors.New("lease held")

// stateDir is where leases live: $RUNNER_STATE_DIR, else the user's cache
// directory (~/.cache/infergrid-runner/leases).
func stateDir() string {
	if d := os.Getenv("RUNNER_STATE_DIR"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "infergrid-runner", "leases")
}

// takeLease writes and locks the lease of run l.RunID. release unlocks and removes
// it. A lease that cannot be written only costs the SIGKILL recovery, so it is a
// warning, not an error.
func takeLease(l lease) (release func(), err error) {
	dir := stateDir()
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
		return func() {}, fmt.Errorf("%w: run %s is already going on this host (%s is locked)", errLeaseHeld, l.RunID, path)
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

// readLeases reads every lease and says whether its runner still holds it.
func readLeases() []lease {
	paths, _ := filepath.Glob(filepath.Join(stateDir(), "*.lease"))
	sort.Strings(paths)
	var out []lease
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var l lease
		data, _ := io.ReadAll(f)
		if json.Unmarshal(data, &l) != nil || l.RunID == "" {
			l.RunID = strings.TrimSuffix(filepath.Base(p), ".lease")
		}
		l.path = p
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			l.Live = true
		}
		f.Close() // drops our probe lock, if taken
		out = append(out, l)
	}
	return out
}

// cleanOrphans removes the stacks of runs whose runner is gone (a stale lease), and
// says what it removed on w. Failures are reported and do not stop the new run.
func cleanOrphans(ctx context.Context, w io.Writer) {
	for _, l := range readLeases() {
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
		_ = os.Remove(l.path)
	}
}

// prepareRun runs before runner run builds or starts anything: it checks that
// every scenario renders with its compose template (as runner validate does) when
// the platform may use it, checks the output folder (exit 2 when either fails),
// and removes orphaned stacks.
func prepareRun(ctx context.Context, f *spec.File, platformName string, o runOptions, stderr io.Writer) int {
	if platformName != "local" && platformName != "external" {
		if err := renderCheck(f); err != nil {
			fmt.Fprintf(stderr, "runner run: %v\nNothing was started.\n", err)
			return exitUsage
		}
	}
	out := o.out
	if o.resume.dir != "" {
		out = o.resume.dir
	}
	if err := checkOut(out); err != nil {
		fmt.Fprintf(stderr, "runner run: %v; nothing was started\n", err)
		return exitUsage
	}
	cleanOrphans(ctx, stderr)
	return exitOK
}

// holdLease takes the lease of the run for as long as the runner lives; exit 2
// when the same run is already going (a second --resume of it).
func holdLease(meta result.Run, dir string, stderr io.Writer) (release func(), code int) {
	release, err := takeLease(lease{RunID: meta.ID, PID: os.Getpid(), Hostname: meta.Host.Hostname, Platform: meta.Platform, Dir: dir, Started: meta.Started})
	switch {
	case errors.Is(err, errLeaseHeld):
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return release, exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "runner run: warning: %v; a stack left by a crash of this run will need runner clean\n", err)
	}
	return release, exitOK
}

// checkOut fails when the output folder cannot take a run: it cannot be created or
// written, or its file system has less than minFreeBytes free.
func checkOut(dir string) error {
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
		if free := int64(st.Bavail) * int64(st.Bsize); free < minFreeBytes {
			return fmt.Errorf("output folder %s has only %d MiB free, want at least %d MiB", dir, free>>20, minFreeBytes>>20)
		}
	}
	return nil
}

// minFreeBytes is the free space a run needs in its output folder to start.
var minFreeBytes int64 = 50 << 20
