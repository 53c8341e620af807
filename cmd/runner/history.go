package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/report"
)

const historyUsage = `Usage: runner history DIR... [options]

Reads many run directories of the same scenario file (nightly runs), orders them
by start time and writes a trend report: per scenario, p99 latency, throughput
(or capacity) and error rate run by run, with change points marked. A change
point is a pair of consecutive runs that runner compare judges a significant
regression or improvement (same tests, alpha and thresholds); it is confirmed
when the run after it still differs from the run before it the same way, so a
one-night blip is told apart from a step. See docs/compare.md.

Arguments:
  DIR...   run directories (a glob such as runs/nightly-* works in the shell)

Options:
  --out FILE                write the Markdown report to FILE (default: stdout)
  --html FILE               also write it as a self-contained HTML page with a
                            chart per scenario
  --max-p99-increase P      as for runner compare (default 10%)
  --max-throughput-drop P   as for runner compare (default 5%)
  --alpha A                 as for runner compare (default 0.05)

Exit status: 0 the report was written (change points do not fail it; use runner
compare for a verdict), 2 bad usage or an unreadable run directory.

Examples:
  runner history runs/workshop5-*
  runner history artifacts/nightly-* --out history.md --html history.html
`

// cmdHistory is `runner history`.
func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := report.DefaultCompareOptions
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, historyUsage) }
	out := fs.String("out", "", "write the Markdown report to this file")
	htmlPath := fs.String("html", "", "also write the report as an HTML page to this file")
	o.TestFlags(fs)
	pos, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, historyUsage)
		return 0
	}
	if err != nil {
		return 2
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
