package main

import (
	"context"
	"fmt"
	"io"
)

// cmdRun is replaced by the run orchestrator; until it lands it validates the file
// and says that this build cannot run it.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", `Usage: runner run FILE

Runs every scenario of FILE.

Options:
OPTIONS
Examples:
  runner run scenarios/smoke.yaml
`, stdout)
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	path, ok := oneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	if _, code := loadFile(path, stderr); code != exitOK {
		return code
	}
	fmt.Fprintln(stderr, "runner run: the run engine is not in this build yet")
	return exitPlatform
}
