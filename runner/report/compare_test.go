package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/stats"
)

// csvOf builds a results.csv with the real header from rows of
// scenario:status:requests:errors:p99:throughput[:capacity].
func csvOf(t *testing.T, rows ...string) *Results {
	t.Helper()
	var b strings.Builder
	b.WriteString(strings.Join(Columns, ",") + "\n")
	for _, r := range rows {
		f := strings.Split(r, ":")
		cells := make(map[string]string)
		cells["scenario"], cells["status"], cells["requests"], cells["errors"], cells["p99_ms"], cells["throughput_rps"] = f[0], f[1], f[2], f[3], f[4], f[5]
		cells["p50_ms"], cells["p95_ms"] = f[4], f[4]
		if len(f) > 6 {
			cells["capacity_rps"] = f[6]
		}
		rec := make([]string, len(Columns))
		for i, c := range Columns {
			rec[i] = cells[c]
		}
		b.WriteString(strings.Join(rec, ",") + "\n")
	}
	res, err := ParseResults(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// thresholdsOnly are options without significance tests: one value per side.
func thresholdsOnly(th Thresholds) CompareOptions {
	o := DefaultCompareOptions
	o.Thresholds, o.Alpha = th, 1
	return o
}

// TestCompareThresholds checks the thresholds alone (alpha 1), on one value per side.
func TestCompareThresholds(t *testing.T) {
	tests := []struct {
		name      string
		base, new string
		th        Thresholds
		want      []string // regressions of the one scenario
	}{
		{name: "same numbers", base: "s:ok:1000:0:100:50", new: "s:ok:1000:0:100:50", th: DefaultThresholds},
		{name: "p99 within 10%", base: "s:ok:1000:0:100:50", new: "s:ok:1000:0:109.9:50", th: DefaultThresholds},
		{name: "p99 over 10%", base: "s:ok:1000:0:100:50", new: "s:ok:1000:0:111:50", th: DefaultThresholds, want: []string{"p99 +11.0% > +10.0%"}},
		{name: "p99 over a looser threshold passes", base: "s:ok:1000:0:100:50", new: "s:ok:1000:0:111:50", th: Thresholds{MaxP99Increase: 0.2, MaxThroughputDrop: 0.05, MaxErrorRate: 0.01}},
		{name: "p99 faster is fine", base: "s:ok:1000:0:100:50", new: "s:ok:1000:0:50:50", th: DefaultThresholds},
		{name: "throughput drop within 5%", base: "s:ok:1000:0:100:100", new: "s:ok:1000:0:100:95.5", th: DefaultThresholds},
		{name: "throughput drop over 5%", base: "s:ok:1000:0:100:100", new: "s:ok:1000:0:100:90", th: DefaultThresholds, want: []string{"throughput -10.0% < -5.0%"}},
		{name: "throughput gain is fine", base: "s:ok:1000:0:100:100", new: "s:ok:1000:0:100:200", th: DefaultThresholds},
		{name: "error rate over 1%", base: "s:ok:1000:0:100:100", new: "s:ok:1000:20:100:100", th: DefaultThresholds, want: []string{"error rate 2.0% > 1.0%"}},
		{name: "error rate at 1% passes", base: "s:ok:1000:0:100:100", new: "s:ok:1000:10:100:100", th: DefaultThresholds},
		{name: "base already over, small rise passes", base: "s:ok:1000:50:100:100", new: "s:ok:1000:55:100:100", th: DefaultThresholds},
		{name: "base already over, big rise fails", base: "s:ok:1000:50:100:100", new: "s:ok:1000:80:100:100", th: DefaultThresholds, want: []string{"error rate 8.0% > BASE 5.0% + 1.0%"}},
		{name: "zero thresholds fail any worsening", base: "s:ok:1000:0:100:100", new: "s:ok:1000:1:101:99", th: Thresholds{}, want: []string{"p99 +1.0% > +0.0%", "throughput -1.0% < -0.0%", "error rate 0.1% > 0.0%"}},
		{name: "ok to failed", base: "s:ok:1000:0:100:100", new: "s:failed:0:0::", th: DefaultThresholds, want: []string{"status ok → failed"}},
		{name: "failed on both sides", base: "s:failed:0:0::", new: "s:failed:0:0::", th: DefaultThresholds},
		{name: "fixed", base: "s:failed:0:0::", new: "s:ok:1000:0:100:100", th: DefaultThresholds},
		{name: "capacity within 5%", base: "s:ok:1000:0:100:100:600", new: "s:ok:1000:0:300:96:580", th: DefaultThresholds},
		{name: "capacity drop over 5%: latency and throughput of the best step are not judged", base: "s:ok:1000:0:100:100:600", new: "s:ok:1000:0:300:10:500", th: DefaultThresholds, want: []string{"capacity -16.7% < -5.0%"}},
		{name: "capacity gain is fine", base: "s:ok:1000:0:100:100:500", new: "s:ok:1000:0:100:100:700", th: DefaultThresholds},
		{name: "several at once", base: "s:ok:1000:0:100:100", new: "s:ok:1000:100:300:10", th: DefaultThresholds, want: []string{"p99 +200.0% > +10.0%", "throughput -90.0% < -5.0%", "error rate 10.0% > 1.0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(csvOf(t, tt.base), csvOf(t, tt.new), thresholdsOnly(tt.th))
			if len(c.Deltas) != 1 {
				t.Fatalf("%d deltas, want 1", len(c.Deltas))
			}
			if got := c.Deltas[0].Regressions; !slices.Equal(got, tt.want) {
				t.Errorf("regressions = %q, want %q", got, tt.want)
			}
			if both := strings.HasPrefix(tt.base, "s:failed") && strings.HasPrefix(tt.new, "s:failed"); c.Deltas[0].NotCompared != both {
				t.Errorf("NotCompared = %v, want %v", c.Deltas[0].NotCompared, both)
			}
			if want := min(len(tt.want), 1); c.Regressions() != want {
				t.Errorf("Regressions() = %d, want %d", c.Regressions(), want)
			}
		})
	}
}

func TestCompareOneSided(t *testing.T) {
	base := csvOf(t, "a:ok:10:0:1:1", "gone:ok:10:0:1:1")
	new := csvOf(t, "fresh:ok:10:0:1:1", "a:ok:10:0:1:1")
	c := Compare(base, new, thresholdsOnly(DefaultThresholds))
	if !slices.Equal(c.OnlyBase, []string{"gone"}) || !slices.Equal(c.OnlyNew, []string{"fresh"}) || c.Regressions() != 0 || len(c.Deltas) != 1 {
		t.Errorf("OnlyBase %q, OnlyNew %q, deltas %d, regressions %d", c.OnlyBase, c.OnlyNew, len(c.Deltas), c.Regressions())
	}
	var b bytes.Buffer
	if err := c.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Only in BASE (not compared): `gone`.", "Only in NEW (not compared): `fresh`.", "No regression in 1 scenario.", "| `a`"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCompareColumns(t *testing.T) {
	base, err := ParseResults(strings.NewReader("scenario,p99_ms,old,requests,errors\na,100,x,10,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	new, err := ParseResults(strings.NewReader("scenario,fresh,p99_ms,requests,errors\na,y,150,10,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	base.Source, new.Source = "base.csv", "new.csv"
	c := Compare(base, new, thresholdsOnly(DefaultThresholds))
	if !slices.Equal(c.ColumnsOnlyBase, []string{"old"}) || !slices.Equal(c.ColumnsOnlyNew, []string{"fresh"}) {
		t.Errorf("ColumnsOnlyBase %q, ColumnsOnlyNew %q", c.ColumnsOnlyBase, c.ColumnsOnlyNew)
	}
	if c.Regressions() != 1 || len(c.Deltas[0].Tests) != 1 {
		t.Errorf("p99 +50%% on the shared column: %d regressions, tests %+v", c.Regressions(), c.Deltas[0].Tests)
	}
	var b bytes.Buffer
	if err := c.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Columns only in BASE (not compared): `old`.", "Columns only in NEW (not compared): `fresh`."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

func TestParseResultsErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"no scenario":  "a,b\n1,2\n",
		"short row":    "scenario,b\nx\n",
		"duplicate id": "scenario,b\nx,1\nx,2\n",
	} {
		if _, err := ParseResults(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadResultsFromRunDir(t *testing.T) {
	dir := fixture(t) // no results.csv yet: built from the outcomes
	r, problems, err := ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || !strings.Contains(problems[0], "results.csv: missing") {
		t.Errorf("problems = %q, want results.csv missing first", problems)
	}
	if len(r.IDs) != 10 || !slices.Equal(r.Header, Columns) {
		t.Errorf("%d rows, header %q", len(r.IDs), r.Header)
	}
	var b bytes.Buffer
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteResults(&b, d.Scenarios); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, problems, err := ReadResults(dir)
	if err != nil || len(problems) != 0 {
		t.Fatalf("err %v, problems %q", err, problems)
	}
	c := Compare(r, fromFile, DefaultCompareOptions)
	if c.Regressions() != 0 || len(c.Deltas) != 10 {
		t.Errorf("a run compared with itself: %d deltas, %d regressions", len(c.Deltas), c.Regressions())
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10%", 0.10, true}, {"0.5%", 0.005, true}, {" 0% ", 0, true}, {"150%", 1.5, true},
		{"10", 0, false}, {"0.1", 0, false}, {"-5%", 0, false}, {"abc%", 0, false}, {"%", 0, false}, {"NaN%", 0, false},
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCompareMarkdownGolden(t *testing.T) {
	base := csvOf(t, "steady:ok:1000:0:100:50", "slower:ok:1000:0:100:50", "broke:ok:1000:0:100:50", "dead:failed:0:0::", "gone:ok:1:0:1:1")
	new := csvOf(t, "steady:ok:1000:0:104:51", "slower:ok:1000:30:180:40", "broke:failed:0:0::", "dead:failed:0:0::", "fresh:ok:1:0:1:1")
	base.Source, new.Source = "runs/base/results.csv", "runs/new/results.csv"
	c := Compare(base, new, thresholdsOnly(DefaultThresholds))
	var b bytes.Buffer
	if err := c.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.md.golden", b.Bytes())
	if c.Regressions() != 2 {
		t.Errorf("Regressions() = %d, want 2", c.Regressions())
	}
}

// samplesCSV is one scenario "s" whose row holds the medians of p99 and rps, and
// whose samples are those repeats.
func samplesCSV(t *testing.T, p99, rps []float64) *Results {
	t.Helper()
	r := csvOf(t, fmt.Sprintf("s:ok:1000:0:%g:%g", stats.Median(p99), stats.Median(rps)))
	s := &Samples{}
	for i := range p99 {
		s.Repeats = append(s.Repeats, map[string]float64{"p99_ms": p99[i], "p50_ms": p99[i] / 2, "p95_ms": p99[i], "throughput_rps": rps[i]})
	}
	r.Samples["s"] = s
	return r
}

func scaled(v []float64, f float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * f
	}
	return out
}

// TestCompareRepeats checks the verdicts of the tests over repeats.
func TestCompareRepeats(t *testing.T) {
	p99 := []float64{100, 103, 98, 101, 99.5}
	rps := []float64{500, 495, 505, 498, 502}
	tests := []struct {
		name          string
		base, new     *Results
		p99, rps      string // verdicts
		scenario      string
		regressions   int
		noteSubstring string
	}{
		{"same numbers", samplesCSV(t, p99, rps), samplesCSV(t, p99, rps), VerdictSame, VerdictSame, VerdictSame, 0, ""},
		{"p99 20% slower", samplesCSV(t, p99, rps), samplesCSV(t, scaled(p99, 1.2), rps), VerdictRegression, VerdictSame, VerdictRegression, 1, ""},
		{"p99 3% slower, 10% threshold", samplesCSV(t, p99, rps), samplesCSV(t, scaled(p99, 1.03), rps), VerdictSame, VerdictSame, VerdictSame, 0, ""},
		{"p99 30% faster, throughput 20% up", samplesCSV(t, p99, rps), samplesCSV(t, scaled(p99, 0.7), scaled(rps, 1.2)), VerdictImprovement, VerdictImprovement, VerdictImprovement, 0, ""},
		{"throughput 10% down", samplesCSV(t, p99, rps), samplesCSV(t, p99, scaled(rps, 0.9)), VerdictSame, VerdictRegression, VerdictRegression, 1, ""},
		{"3 repeats cannot be significant", samplesCSV(t, p99[:3], rps[:3]), samplesCSV(t, scaled(p99[:3], 2), rps[:3]), VerdictTooFew, VerdictTooFew, VerdictTooFew, 0, "no test can reach p < 0.05"},
		{"overlapping 20% with huge spread is not significant", samplesCSV(t, []float64{50, 150, 80, 120, 100}, rps), samplesCSV(t, []float64{60, 180, 96, 144, 120}, rps), VerdictSame, VerdictSame, VerdictSame, 0, ""},
		{"one side has no samples", csvOf(t, "s:ok:1000:0:100:500"), samplesCSV(t, scaled(p99, 2), rps), VerdictTooFew, VerdictTooFew, VerdictTooFew, 0, "pass run directories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.base, tt.new, DefaultCompareOptions)
			d := c.Deltas[0]
			got := map[string]Test{}
			for _, x := range d.Tests {
				got[x.Metric] = x
			}
			if got["p99_ms"].Verdict != tt.p99 || got["throughput_rps"].Verdict != tt.rps {
				t.Errorf("p99 %+v\nthroughput %+v", got["p99_ms"], got["throughput_rps"])
			}
			if d.Verdict() != tt.scenario || c.Regressions() != tt.regressions {
				t.Errorf("scenario verdict %q, %d regressions; want %q, %d", d.Verdict(), c.Regressions(), tt.scenario, tt.regressions)
			}
			if !strings.Contains(got["p99_ms"].Note, tt.noteSubstring) {
				t.Errorf("p99 note %q lacks %q", got["p99_ms"].Note, tt.noteSubstring)
			}
			if p := got["p99_ms"]; p.Method == MethodRepeats && !(p.Lo <= p.Change && p.Change <= p.Hi) {
				t.Errorf("interval [%v, %v] misses the estimate %v", p.Lo, p.Hi, p.Change)
			}
		})
	}
}

// secondsCSV is one scenario with one repeat whose per-second p99 and
// throughput follow a fixed wiggle around p99 and rps.
func secondsCSV(t *testing.T, p99, rps float64) *Results {
	t.Helper()
	r := csvOf(t, fmt.Sprintf("s:ok:1000:0:%g:%g", p99, rps))
	var series []result.Second
	for i := range 20 {
		w := float64(i%5-2) / 100 // -2%..+2%
		series = append(series, result.Second{T: i, Requests: uint64(rps * (1 - w)), P50: time.Duration(p99 / 2 * (1 + w) * float64(time.Millisecond)), P99: time.Duration(p99 * (1 + w) * float64(time.Millisecond))})
	}
	r.Samples["s"] = &Samples{Repeats: []map[string]float64{{"p99_ms": p99, "throughput_rps": rps}}, Seconds: [][]result.Second{series}}
	return r
}

// TestCompareOneRepeat checks the bootstrap over per-second samples.
func TestCompareOneRepeat(t *testing.T) {
	tests := []struct {
		name     string
		new      *Results
		p99, rps string
	}{
		{"same", secondsCSV(t, 100, 500), VerdictSame, VerdictSame},
		{"p99 20% slower", secondsCSV(t, 120, 500), VerdictRegression, VerdictSame},
		{"p99 3% slower", secondsCSV(t, 103, 500), VerdictSame, VerdictSame},
		{"throughput 10% down", secondsCSV(t, 100, 450), VerdictSame, VerdictRegression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(secondsCSV(t, 100, 500), tt.new, DefaultCompareOptions)
			got := map[string]Test{}
			for _, x := range c.Deltas[0].Tests {
				got[x.Metric] = x
			}
			if got["p99_ms"].Verdict != tt.p99 || got["throughput_rps"].Verdict != tt.rps || got["p99_ms"].Method != MethodSeconds {
				t.Errorf("p99 %+v\nthroughput %+v", got["p99_ms"], got["throughput_rps"])
			}
			var b bytes.Buffer
			if err := c.Markdown(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "**One repeat**") {
				t.Errorf("the report does not say one repeat is weaker:\n%s", b.String())
			}
		})
	}
}

// TestCompareOldBaseline compares the committed workshop report (results.csv of
// 36 columns) with the same run read with today's columns: it must compare the
// shared columns, name the new ones, and find nothing.
func TestCompareOldBaseline(t *testing.T) {
	old := "../../reports/workshop5"
	base, _, err := ReadResults(old)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(old)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ResultsFile)); err != nil {
		t.Fatal(err)
	}
	new, _, err := ReadResults(dir) // rebuilt from the outcomes with today's Columns
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Header) >= len(new.Header) {
		t.Fatalf("the baseline has %d columns, today's %d: not an older file", len(base.Header), len(new.Header))
	}
	c := Compare(base, new, DefaultCompareOptions)
	if len(c.Deltas) != len(base.IDs) || c.Regressions() != 0 || len(c.ColumnsOnlyNew) == 0 || len(c.ColumnsOnlyBase) != 0 {
		t.Errorf("%d deltas of %d, %d regressions, only new %q, only base %q", len(c.Deltas), len(base.IDs), c.Regressions(), c.ColumnsOnlyNew, c.ColumnsOnlyBase)
	}
	for _, col := range RepeatColumns {
		if !slices.Contains(c.ColumnsOnlyNew, col) {
			t.Errorf("the repeat column %s is not named among NEW's own %q", col, c.ColumnsOnlyNew)
		}
	}
	for _, d := range c.Deltas {
		if d.Verdict() == VerdictRegression || d.Verdict() == VerdictImprovement {
			t.Errorf("%s: %s with itself", d.Scenario, d.Verdict())
		}
	}
}
