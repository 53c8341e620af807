// Package report turns a run directory into report.md, results.csv, summary.json and
// plots, and compares two runs.
package report
