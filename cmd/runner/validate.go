package main

import (
	"context"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/render"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", `Usage: runner validate FILE...

Checks scenario files without starting anything: YAML syntax, unknown keys, types,
sizes, durations, rates, the load models, body files and build folders, and that
every scenario renders with its compose template. Every problem is printed at once
as FILE:LINE:COL: path.to.field: message.

Exit codes: 0 every file is valid, 2 a file is invalid or cannot be read.

Options:
OPTIONS
Examples:
  runner validate scenarios/workshop5.yaml
  runner validate scenarios/*.yaml scenarios/examples/*.yaml
`, stdout)
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "runner validate: want at least one scenario FILE\nRun 'runner validate -h' for usage.")
		return exitUsage
	}
	code = exitOK
	for _, path := range pos {
		f, c := loadFile(path, stderr)
		if c != exitOK {
			code = c
			continue
		}
		if err := render.Check(f); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			code = exitUsage
			continue
		}
		n := len(f.Scenarios())
		fmt.Fprintf(stdout, "%s: ok: %d scenario%s in %d block%s, platform %s\n", path, n, plural(n), len(f.Grid), plural(len(f.Grid)), f.Platform)
	}
	return code
}
