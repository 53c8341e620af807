package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/report"
)

var reportUsage = usageText("report")

// cmdReport is `runner report`.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.FixedFlags("report", reportUsage, stderr)
	noPlots := fs.Bool("no-plots", false, "skip the PNG plots")
	pos, code, ok := cli.ParseFixed(fs, args, stdout)
	if !ok {
		return code
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
