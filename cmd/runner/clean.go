package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/run"
)

var cleanUsage = usageText("clean")

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
