package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/report"
)

// reportFixtureRun copies the report package's fixture run directory.
func reportFixtureRun(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "fixture-20261128T120000Z")
	if err := os.CopyFS(dst, os.DirFS("../../runner/report/testdata/run")); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestCmdReport(t *testing.T) {
	run := reportFixtureRun(t)
	notRun := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     []string
		wantReport bool
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: "Examples:"},
		{name: "no argument", args: nil, code: 2, stderr: []string{"want exactly one RUN_DIR, got 0"}},
		{name: "two arguments", args: []string{run, run}, code: 2, stderr: []string{"got 2"}},
		{name: "unknown flag", args: []string{"--bogus", run}, code: 2, stderr: []string{"flag provided but not defined: -bogus"}},
		{name: "not a run dir", args: []string{notRun}, code: 2, stderr: []string{"not a run directory"}},
		{name: "missing dir", args: []string{filepath.Join(notRun, "nope")}, code: 2, stderr: []string{"not a run directory"}},
		{name: "partial run renders and names what is missing", args: []string{run, "--no-plots"}, code: 0,
			stdout: "wrote report.md, report.html, results.csv and summary.json in " + run,
			stderr: []string{"scenarios/replicas-r4-c0.5-none-u50/outcome.json: missing"}, wantReport: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdReport(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tt.wantReport {
				for _, f := range []string{report.ReportFile, report.HTMLFile, report.ResultsFile, report.SummaryFile} {
					if _, err := os.Stat(filepath.Join(run, f)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

func TestCmdCompare(t *testing.T) {
	run := reportFixtureRun(t) // no results.csv: compare builds it from the outcomes
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := strings.Join(report.Columns, ",")
	row := func(id string, p99, rps string, errors string) string {
		cells := make([]string, len(report.Columns))
		for i, c := range report.Columns {
			switch c {
			case "scenario":
				cells[i] = id
			case "status":
				cells[i] = "ok"
			case "requests":
				cells[i] = "1000"
			case "errors":
				cells[i] = errors
			case "p50_ms", "p95_ms", "p99_ms":
				cells[i] = p99
			case "throughput_rps":
				cells[i] = rps
			}
		}
		return strings.Join(cells, ",")
	}
	base := write("base.csv", header+"\n"+row("a", "100", "50", "0")+"\n"+row("gone", "1", "1", "0")+"\n")
	same := write("same.csv", header+"\n"+row("a", "105", "49", "0")+"\n"+row("new", "1", "1", "0")+"\n")
	slower := write("slower.csv", header+"\n"+row("a", "150", "50", "0")+"\n")
	errs := write("errors.csv", header+"\n"+row("a", "100", "50", "50")+"\n")
	other := write("other.csv", "scenario,p99_ms,extra\na,1,2\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		html   []string
	}{
		{name: "files alone have no samples", args: []string{base, slower}, code: 0,
			stdout: []string{"not enough data", "pass run directories"}},
		{name: "no regression", args: []string{base, same, "--alpha", "1"}, code: 0,
			stdout: []string{"| `a`", "100.00 → 105.00 (+5.0%)", "Only in BASE (not compared): `gone`.", "Only in NEW (not compared): `new`.", "No regression in 1 scenario."}},
		{name: "p99 regression", args: []string{base, slower, "--alpha=1"}, code: 1,
			stdout: []string{"**regression**: p99 +50.0% > +10.0%", "**1 regression of 1.**"}, stderr: []string{"1 of 1 scenarios regressed"}},
		{name: "looser threshold after the arguments", args: []string{base, slower, "--max-p99-increase", "60%", "--alpha", "1"}, code: 0},
		{name: "looser threshold with =", args: []string{"--max-p99-increase=60%", "--alpha=1", base, slower}, code: 0},
		{name: "error rate", args: []string{base, errs}, code: 1, stdout: []string{"error rate 5.0% > 1.0%"}},
		{name: "error rate allowed", args: []string{base, errs, "--max-error-rate", "5%"}, code: 0},
		{name: "throughput", args: []string{base, same, "--max-throughput-drop", "1%", "--alpha", "1"}, code: 1, stdout: []string{"throughput -2.0% < -1.0%"}},
		{name: "run dirs without results.csv", args: []string{run, run}, code: 0,
			stdout: []string{"No regression in 10 scenarios.", "**One repeat**"}, stderr: []string{"results.csv: missing; built from the outcomes"}},
		{name: "columns differ", args: []string{base, other, "--alpha", "1"}, code: 0, stdout: []string{"Columns only in NEW (not compared): `extra`.", "Columns only in BASE (not compared):", "`slo_pass`"}},
		{name: "bad alpha", args: []string{base, same, "--alpha", "0"}, code: 2, stderr: []string{"significance level"}},
		{name: "bad percentage", args: []string{base, same, "--max-p99-increase", "10"}, code: 2, stderr: []string{"write it with a % sign"}},
		{name: "one argument", args: []string{base}, code: 2, stderr: []string{"want BASE and NEW, got 1"}},
		{name: "missing file", args: []string{base, filepath.Join(dir, "nope.csv")}, code: 2, stderr: []string{"cannot read"}},
		{name: "not a run dir", args: []string{base, t.TempDir()}, code: 2, stderr: []string{"not a run directory"}},
		{name: "help", args: []string{"-h"}, code: 0, stdout: []string{"Usage: runner compare BASE NEW", "Examples:"}},
		{name: "html", args: []string{base, slower, "--alpha", "1", "--html", filepath.Join(dir, "compare.html")}, code: 1,
			html: []string{"<!doctype html>", "<code>a</code>", "<svg class=\"chart\"", "p99 latency per scenario", "NEW " + slower + ", a: p99 150 ms"}},
		{name: "html unwritable", args: []string{base, same, "--html", filepath.Join(dir, "no", "such", "dir.html")}, code: 2,
			stderr: []string{"cannot write the HTML comparison"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdCompare(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if len(tt.html) > 0 {
				b, err := os.ReadFile(filepath.Join(dir, "compare.html"))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range tt.html {
					if !strings.Contains(string(b), s) {
						t.Errorf("compare.html lacks %q", s)
					}
				}
			}
		})
	}
}
