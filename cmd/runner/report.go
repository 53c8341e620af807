package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/report"
)

const reportUsage = `Usage: runner report RUN_DIR [--no-plots]

Rebuild report.md, report.html, results.csv, summary.json and the PNG plots of a run from its
raw files (run.json, plan.json, scenarios/*/outcome.json, stats.csv, events.json),
so a change of the report format never needs a rerun. Missing or corrupt files are
named on stderr and everything else is still rendered.

Arguments:
  RUN_DIR      a run directory, OUT/NAME-YYYYMMDDTHHMMSSZ

Options:
  --no-plots   skip the PNG plots (faster; report.md then links none)

Exit status: 0 when the report was written (even with problems), 1 when a report
file cannot be written, 2 on bad usage or when RUN_DIR is not a run directory.

Examples:
  runner report runs/workshop5-20261128T120000Z
  runner report --no-plots runs/smoke-20261128T120000Z
`

// cmdReport is `runner report`.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	noPlots := fs.Bool("no-plots", false, "skip the PNG plots")
	pos, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, reportUsage)
		return 0
	}
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "runner report: want exactly one RUN_DIR, got %d arguments\n\n%s", len(pos), reportUsage)
		return 2
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "runner report: %v\n", err)
		return 1
	}
	dir := pos[0]
	problems, err := report.WriteWith(dir, report.Options{NoPlots: *noPlots})
	for _, p := range problems {
		fmt.Fprintf(stderr, "runner report: %s: %s\n", dir, p)
	}
	switch {
	case errors.Is(err, report.ErrNotRunDir):
		fmt.Fprintf(stderr, "runner report: %v\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "runner report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s and %s in %s\n", report.ReportFile, report.HTMLFile, report.ResultsFile, report.SummaryFile, dir)
	return 0
}
