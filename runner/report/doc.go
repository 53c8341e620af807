// Package report turns a run directory into report.md, report.html, results.csv, summary.json and
// PNG plots, and compares two runs.
//
// Write reads everything back from the run directory (run.json, plan.json and each
// scenario's outcome.json, stats.csv and events.json; see package result), so the
// report of a finished or interrupted run can always be rebuilt without rerunning it.
// Missing and corrupt files are named as problems and the rest is still rendered.
//
// results.csv starts with DesignColumns (the stable columns of DESIGN.md) and goes on
// with ExtraColumns; summary.json holds the same numbers, nested, with the run's
// metadata and findings. report.md has one comparison table per grid block (rows:
// configurations, columns: load levels), a resources table, flags, per-scenario
// details and Findings drawn by the rules BestConfig, Failures, Imbalance and
// ReplicaScaling. Tables are rendered by github.com/olekukonko/tablewriter, plots
// by gonum.org/v1/plot.
//
// Compare judges a NEW run against a BASE run (run directories or results.csv
// files read by ReadResults), for nightly regression jobs: on the columns both
// have, each metric is tested with package stats (over repeats, or over one run's
// per-second samples), and regresses only when the change is significant and
// beyond its threshold.
package report
