package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/run"
)

const cleanUsage = `Usage: runner clean [--run ID] [--dry-run] [--force]

Removes what runs of the runner left behind: every Docker container, network and
volume carrying the label dev.infergrid.runner (or, with --run, the run label
dev.infergrid.runner.run=ID), every dangling (untagged) image with that label that
no container uses, and every local-platform replica process (tagged with
INFERGRID_RUNNER_RUN in its environment). It says what it removed. Tagged built
images are kept, since the next run reuses an identical one (docker image rm
removes them).

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
	leases := run.ReadLeases()
	if live := run.LiveRuns(leases, runID); len(live) > 0 && !force {
		fmt.Fprintf(stderr, "runner clean: still running on this host: %s; stop it first, or use --force\n", strings.Join(live, ", "))
		return exitUsage
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	n, err := platforms.Sweep(ctx, runID, dryRun, true, func(what string) { fmt.Fprintf(stdout, "%s %s\n", verb, what) })
	if !dryRun {
		run.RemoveDeadLeases(leases, runID)
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
