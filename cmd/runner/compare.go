package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/infergrid/runner/runner/report"
)

const compareUsage = `Usage: runner compare BASE NEW [options]

Compare two runs scenario by scenario: a Markdown table of p50, p95 and p99
latency, throughput and error rate with their changes, and a verdict per scenario.
Scenarios present on one side only are listed, not failed. For nightly jobs.

Arguments:
  BASE   the baseline: a run directory or a results.csv file
  NEW    the run to judge: a run directory or a results.csv file
         (a run directory without results.csv is read from its outcomes)

Options:
  --max-p99-increase P      largest allowed p99 increase (default 10%)
  --max-throughput-drop P   largest allowed throughput drop (default 5%)
  --max-error-rate P        highest allowed error rate of NEW; where BASE already
                            exceeded it, NEW may exceed BASE by at most P (default 1%)
  --html FILE               also write the comparison as a self-contained HTML
                            page with charts of p99 and throughput per scenario

A scenario that was ok in BASE and failed in NEW is a regression too.

Exit status: 0 no regression, 1 at least one regression, 2 bad usage, unreadable
files, or files whose columns differ (the message names the columns).

Examples:
  runner compare runs/smoke-20261127T020000Z runs/smoke-20261128T020000Z
  runner compare baseline/results.csv runs/smoke-20261128T020000Z --max-p99-increase 20%
  runner compare runs/smoke-20261127T020000Z runs/smoke-20261128T020000Z --html compare.html
`

// percentFlag is a threshold flag written as a percentage ("10%").
type percentFlag struct{ v *float64 }

func (p percentFlag) String() string {
	if p.v == nil {
		return ""
	}
	return fmt.Sprintf("%g%%", *p.v*100)
}

func (p percentFlag) Set(s string) error {
	v, err := report.ParsePercent(s)
	if err != nil {
		return err
	}
	*p.v = v
	return nil
}

// cmdCompare is `runner compare`.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	th := report.DefaultThresholds
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, compareUsage) }
	fs.Var(percentFlag{&th.MaxP99Increase}, "max-p99-increase", "largest allowed p99 increase")
	fs.Var(percentFlag{&th.MaxThroughputDrop}, "max-throughput-drop", "largest allowed throughput drop")
	fs.Var(percentFlag{&th.MaxErrorRate}, "max-error-rate", "highest allowed error rate")
	htmlPath := fs.String("html", "", "also write the comparison as an HTML page to this file")
	pos, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, compareUsage)
		return 0
	}
	if err != nil {
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
	var sides [2]*report.Results
	for i, path := range pos {
		r, problems, err := report.ReadResults(path)
		for _, p := range problems {
			fmt.Fprintf(stderr, "runner compare: %s\n", p)
		}
		if err != nil {
			fmt.Fprintf(stderr, "runner compare: cannot read %s: %v\n", path, err)
			return 2
		}
		sides[i] = r
	}
	c, err := report.Compare(sides[0], sides[1], th)
	if err != nil {
		fmt.Fprintf(stderr, "runner compare: %v\n", err)
		return 2
	}
	if err := c.Markdown(stdout); err != nil {
		fmt.Fprintf(stderr, "runner compare: %v\n", err)
		return 2
	}
	if *htmlPath != "" {
		if err := writeHTML(*htmlPath, c); err != nil {
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

// writeHTML writes the comparison's HTML page to path.
func writeHTML(path string, c *report.Comparison) error {
	var b bytes.Buffer
	if err := c.HTML(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write the HTML comparison: %w", err)
	}
	return nil
}
