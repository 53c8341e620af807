package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/report"
)

const compareUsage = `Usage: runner compare BASE NEW [options]

Compare two runs scenario by scenario, on the results.csv columns they share (the
others are named, not failed: an old baseline with fewer columns compares fine).
Each metric is tested, not just subtracted:
  - runs with --repeat N on both sides: a Mann–Whitney U test over the repeats and
    a Hodges–Lehmann confidence interval of the ratio NEW/BASE;
  - one repeat: a block bootstrap over the per-second samples of the measured
    window (weaker: it cannot see the noise between runs, and says so).
A metric regresses only when its change is significant (p < alpha) AND beyond its
threshold. Verdicts: regression, improvement, no difference, not enough data.
p99 latency and throughput (capacity, for a capacity search) are judged; the
error rate by its threshold; a scenario that was ok and failed is a regression.
The other metrics (p50, p95, memory, CPU, ...) are shown with the same test.
See docs/compare.md.

Arguments:
  BASE   the baseline: a run directory, or a results.csv file (a file alone has
         no samples, so its metrics are "not enough data" unless --alpha 1)
  NEW    the run to judge, the same way

Options:
  --max-p99-increase P      largest allowed p99 increase (default 10%)
  --max-throughput-drop P   largest allowed throughput or capacity drop (default 5%)
  --max-error-rate P        highest allowed error rate of NEW; where BASE already
                            exceeded it, NEW may exceed BASE by at most P (default 1%)
  --html FILE               also write the comparison as a self-contained HTML
                            page with charts of p99 and throughput per scenario
  --alpha A                 significance level, 0 < A <= 1 (default 0.05); 1 turns
                            the tests off and the thresholds alone decide

Exit status: 0 no regression, 1 at least one regression, 2 bad usage or
unreadable files.

Examples:
  runner compare runs/smoke-20261127T020000Z runs/smoke-20261128T020000Z
  runner compare runs/smoke-20261127T020000Z runs/smoke-20261128T020000Z --html compare.html
  runner compare reports/workshop5 runs/workshop5-20261128T020000Z --max-p99-increase 20%
  runner compare baseline/results.csv new/results.csv --alpha 1
`

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
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, compareUsage) }
	htmlPath := fs.String("html", "", "also write the comparison as an HTML page to this file")
	o.TestFlags(fs)
	o.ErrorRateFlag(fs)
	pos, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, compareUsage)
		return 0
	}
	if err != nil {
		return 2
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
	c := report.Compare(sides[0], sides[1], o)
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
