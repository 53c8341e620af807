package main

import (
	"context"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/report"
)

var historyUsage = usageText("history")

// cmdHistory is `runner history`.
func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := report.DefaultCompareOptions
	fs := cli.FixedFlags("history", historyUsage, stderr)
	out := fs.String("out", "", "write the Markdown report to this file")
	htmlPath := fs.String("html", "", "also write the report as an HTML page to this file")
	o.TestFlags(fs)
	pos, code, ok := cli.ParseFixed(fs, args, stdout)
	if !ok {
		return code
	}
	if !checkAlpha("history", o, stderr) {
		return 2
	}
	if len(pos) == 0 {
		fmt.Fprintf(stderr, "runner history: want at least one run directory\n\n%s", historyUsage)
		return 2
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "runner history: %v\n", err)
		return 2
	}
	h, err := report.ReadHistory(pos, o)
	if err != nil {
		fmt.Fprintf(stderr, "runner history: cannot read %v\n", err)
		return 2
	}
	if err := h.WriteMarkdown(*out, stdout); err != nil {
		fmt.Fprintf(stderr, "runner history: %v\n", err)
		return 2
	}
	if *htmlPath != "" {
		if err := h.WriteHTML(*htmlPath); err != nil {
			fmt.Fprintf(stderr, "runner history: %v\n", err)
			return 2
		}
	}
	fmt.Fprintf(stderr, "runner history: %d runs, %d change points\n", len(h.Runs), len(h.Changes))
	return 0
}
