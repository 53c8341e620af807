package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// repeatFile writes a scenario file of two scenarios against url.
func repeatFile(t *testing.T, dir, url string) string {
	t.Helper()
	file := filepath.Join(dir, "rep.yaml")
	yaml := fmt.Sprintf(`name: rep
platform: external
targets: [%s]
defaults: {duration: 1s, warmup: 100ms}
grid:
  - name: steady
    load: [{rate: 40/s}, {users: 2, spawn_rate: 10}]
`, url)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRunRepeat runs two scenarios three times each against a loopback server
// and checks what a repeated run writes: every repeat's files, one results.csv
// row per scenario holding the medians of the repeats with their interval,
// summary.json with every repeat, the interleaved order; then that runner
// compare tests two such runs over their repeats.
func TestRunRepeat(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := repeatFile(t, dir, srv.URL)
	run := func(name string) string {
		out := filepath.Join(dir, name)
		var stdout, stderr bytes.Buffer
		if code := Main([]string{file, "--out", out, "--repeat", "3"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "[2/2] steady-client-u2s10 repeat 3/3 ok") {
			t.Errorf("progress does not name the repeats:\n%s", stdout.String())
		}
		return onlyRun(t, out)
	}
	base := run("base")
	checkRepeatedRun(t, base, []string{"steady-client-rate40", "steady-client-u2s10"}, 3)

	newer := run("new")
	var stdout, stderr bytes.Buffer
	code := cmdCompare(t.Context(), []string{base, newer}, &stdout, &stderr)
	out := stdout.String()
	if code != exitOK || strings.Contains(out, "**regression**") || !strings.Contains(out, "No regression in 2 scenarios.") {
		t.Errorf("compare of the same server: exit %d\n%s%s", code, out, stderr.String())
	}
	// Three repeats a side are tested as repeats, and too few for p < 0.05:
	// compare says so instead of falling back on the per-second samples.
	if !strings.Contains(out, "with 3+3 repeats no test can reach p < 0.05") || strings.Contains(out, "**One repeat**") {
		t.Errorf("compare did not test over the repeats:\n%s", out)
	}
	stdout.Reset()
	if code := cmdHistory(t.Context(), []string{base, newer}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "steady-client-rate40") {
		t.Errorf("history: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// checkRepeatedRun checks a run of the scenarios ids, each repeated n times.
func checkRepeatedRun(t *testing.T, dir string, ids []string, n int) {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "results.csv"))
	if len(rows) != len(ids)+1 {
		t.Fatalf("results.csv has %d rows for %d scenarios repeated %d times, want one per scenario", len(rows)-1, len(ids), n)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var starts []time.Time
	for _, row := range rows[1:] {
		id := row[col["scenario"]]
		var p99s, rps []float64
		for k := 1; k <= n; k++ {
			rd := filepath.Join(dir, "scenarios", id, result.RepeatDir(k))
			var o result.Outcome
			if err := result.ReadJSON(filepath.Join(rd, "outcome.json"), &o); err != nil {
				t.Fatal(err)
			}
			if o.Status != result.StatusOK || o.Repeat != k || o.Load.Requests == 0 {
				t.Errorf("%s repeat %d: %s, repeat %d, %d requests: %s", id, k, o.Status, o.Repeat, o.Load.Requests, o.Error)
			}
			if _, err := os.Stat(filepath.Join(rd, "results.gob")); err != nil {
				t.Errorf("%s repeat %d: no raw results: %v", id, k, err)
			}
			p99s = append(p99s, float64(o.Load.Latency.P99)/1e6)
			rps = append(rps, o.Load.ThroughputRPS)
			starts = append(starts, o.Started)
		}
		slices.Sort(p99s)
		slices.Sort(rps)
		cell := func(c string) float64 {
			v, err := strconv.ParseFloat(row[col[c]], 64)
			if err != nil {
				t.Fatalf("%s: %s = %q", id, c, row[col[c]])
			}
			return v
		}
		if row[col["repeats"]] != strconv.Itoa(n) {
			t.Errorf("%s: repeats = %q, want %d", id, row[col["repeats"]], n)
		}
		if got, want := row[col["p99_ms"]], strconv.FormatFloat(p99s[n/2], 'f', 3, 64); got != want {
			t.Errorf("%s: p99_ms %s, want the median of the repeats' %v: %s", id, got, p99s, want)
		}
		if got, want := row[col["throughput_rps"]], strconv.FormatFloat(rps[n/2], 'f', 2, 64); got != want {
			t.Errorf("%s: throughput_rps %s, want the median of %v: %s", id, got, rps, want)
		}
		for _, m := range []string{"p99_ms", "throughput_rps"} {
			lo, med, hi := cell(m+"_ci_low"), cell(m), cell(m+"_ci_high")
			if !(lo <= med && med <= hi) {
				t.Errorf("%s: %s interval %v ≤ %v ≤ %v is out of order", id, m, lo, med, hi)
			}
		}
		if lo, hi := cell("p99_ms_ci_low"), cell("p99_ms_ci_high"); strconv.FormatFloat(lo, 'f', 3, 64) != strconv.FormatFloat(p99s[0], 'f', 3, 64) || strconv.FormatFloat(hi, 'f', 3, 64) != strconv.FormatFloat(p99s[n-1], 'f', 3, 64) {
			t.Errorf("%s: %d repeats give the range %v..%v, want %v", id, n, lo, hi, p99s)
		}
	}
	// Interleaved rounds: repeat k of every scenario before repeat k+1 of any.
	var want []time.Time
	for k := 0; k < n; k++ {
		for s := range ids {
			want = append(want, starts[s*n+k])
		}
	}
	if !slices.IsSortedFunc(want, func(a, b time.Time) int { return a.Compare(b) }) {
		t.Errorf("repeats did not run in rounds: starts by round %v", want)
	}
	var sum struct {
		Scenarios []struct {
			Scenario string
			Repeats  []struct{ Repeat int } `json:"repeats"`
			Spread   *struct{ Repeats int } `json:"spread"`
		} `json:"scenarios"`
	}
	if err := result.ReadJSON(filepath.Join(dir, "summary.json"), &sum); err != nil {
		t.Fatal(err)
	}
	for _, s := range sum.Scenarios {
		if len(s.Repeats) != n || s.Repeats[n-1].Repeat != n || s.Spread == nil || s.Spread.Repeats != n {
			t.Errorf("summary.json %s: %d repeats, spread %+v; want %d", s.Scenario, len(s.Repeats), s.Spread, n)
		}
	}
	for _, f := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "min–max of 3") {
			t.Errorf("%s does not show the spread of the repeats: %v", f, err)
		}
	}
}

func TestRunRepeatFlag(t *testing.T) {
	dir := t.TempDir()
	file := repeatFile(t, dir, "http://127.0.0.1:9")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--repeat", "0"}, exitUsage, "runner run: --repeat 0: repeat must be 1 to 100"},
		{[]string{"--repeat", "101"}, exitUsage, "repeat must be 1 to 100"},
		{[]string{"--repeat", "many"}, exitUsage, `invalid value "many" for flag -repeat`},
		{[]string{"--repeat", "4", "--dry-run"}, exitOK, "; 4 times, in rounds with the other scenarios"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(append([]string{file, "--out", filepath.Join(dir, "runs")}, c.args...), &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String()+stderr.String(), c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.want, stdout.String(), stderr.String())
		}
	}
}
