package main

import (
	"context"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/render"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("validate", usageText("validate"), stdout)
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "runner validate: want at least one scenario FILE\nRun 'runner validate -h' for usage.")
		return exitUsage
	}
	code = exitOK
	for _, path := range pos {
		f, c := cli.LoadFile(path, stderr)
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
		fmt.Fprintf(stdout, "%s: ok: %d scenario%s in %d block%s, platform %s\n", path, n, cli.Plural(n), len(f.Grid), cli.Plural(len(f.Grid)), f.Platform)
	}
	return code
}
