package main

import (
	"context"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/report"
)

var compareUsage = usageText("compare")

// checkAlpha tells whether o's alpha is a significance level, and says why not on stderr.
func checkAlpha(cmd string, o report.CompareOptions, stderr io.Writer) bool {
	if err := o.CheckAlpha(); err != nil {
		fmt.Fprintf(stderr, "runner %s: %v\n", cmd, err)
		return false
	}
	return true
}

// cmdCompare is `runner compare`.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := report.DefaultCompareOptions
	fs := cli.FixedFlags("compare", compareUsage, stderr)
	htmlPath := fs.String("html", "", "also write the comparison as an HTML page to this file")
	o.TestFlags(fs)
	o.ErrorRateFlag(fs)
	pos, code, ok := cli.ParseFixed(fs, args, stdout)
	if !ok {
		return code
	}
	if !checkAlpha("compare", o, stderr) {
		return 2
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "runner compare: want BASE and NEW, got %d arguments\n\n%s", len(pos), compareUsage)
		return 2
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "runner compare: %v\n", err)
		return 2
	}
	c, problems, err := report.CompareRuns(pos[0], pos[1], o)
	for _, p := range problems {
		fmt.Fprintf(stderr, "runner compare: %s\n", p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "runner compare: %v\n", err)
		return 2
	}
	if err := c.Markdown(stdout); err != nil {
		fmt.Fprintf(stderr, "runner compare: %v\n", err)
		return 2
	}
	if *htmlPath != "" {
		if err := c.WriteHTML(*htmlPath); err != nil {
			fmt.Fprintf(stderr, "runner compare: %v\n", err)
			return 2
		}
	}
	if n := c.Regressions(); n > 0 {
		fmt.Fprintf(stderr, "runner compare: %d of %d scenarios regressed\n", n, len(c.Deltas))
		return 1
	}
	return 0
}
