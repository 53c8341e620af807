package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/run"
)

var cleanUsage = usageText("clean")

// cmdClean is `runner clean`.
func cmdClean(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("clean", cleanUsage, stdout)
	var o run.CleanOptions
	fs.StringVar(&o.RunID, "run", "", "remove only what run `ID` left (NAME-YYYYMMDDTHHMMSSZ)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "list what would be removed, and remove nothing")
	fs.BoolVar(&o.Force, "force", false, "also remove the stacks of runs still going on this host")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "runner clean: unexpected arguments %q\nRun 'runner clean -h' for usage.\n", pos)
		return exitUsage
	}
	n, err := run.Clean(ctx, o, platforms.Sweep, func(s string) { fmt.Fprintln(stdout, s) })
	var live *run.LiveError
	switch {
	case errors.As(err, &live):
		fmt.Fprintf(stderr, "runner clean: %v\n", err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "runner clean: %v\n", err)
		return exitPlatform
	}
	if n == 0 {
		fmt.Fprintln(stdout, "nothing to remove")
	}
	return exitOK
}
