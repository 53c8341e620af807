package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
			c, err := Compare(csvOf(t, tt.base), csvOf(t, tt.new), tt.th)
			if err != nil {
				t.Fatal(err)
			}
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
	c, err := Compare(base, new, DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
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
	base, err := ParseResults(strings.NewReader("scenario,p99_ms,old\na,1,x\n"))
	if err != nil {
		t.Fatal(err)
	}
	new, err := ParseResults(strings.NewReader("scenario,p99_ms,fresh\na,1,y\n"))
	if err != nil {
		t.Fatal(err)
	}
	base.Source, new.Source = "base.csv", "new.csv"
	_, err = Compare(base, new, DefaultThresholds)
	var ce *ColumnsError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ColumnsError", err)
	}
	if !slices.Equal(ce.OnlyBase, []string{"old"}) || !slices.Equal(ce.OnlyNew, []string{"fresh"}) {
		t.Errorf("OnlyBase %q, OnlyNew %q", ce.OnlyBase, ce.OnlyNew)
	}
	if msg := err.Error(); !strings.Contains(msg, "only in base.csv: old") || !strings.Contains(msg, "only in new.csv: fresh") {
		t.Errorf("message %q does not name the columns", msg)
	}
	reordered, _ := ParseResults(strings.NewReader("p99_ms,scenario,old\n1,a,x\n"))
	if _, err := Compare(base, reordered, DefaultThresholds); !errors.As(err, &ce) || !strings.Contains(err.Error(), "different order") {
		t.Errorf("reordered columns: err = %v", err)
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
	c, err := Compare(r, fromFile, DefaultThresholds)
	if err != nil || c.Regressions() != 0 || len(c.Deltas) != 10 {
		t.Errorf("a run compared with itself: err %v, %d deltas, %d regressions", err, len(c.Deltas), c.Regressions())
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
	c, err := Compare(base, new, DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.md.golden", b.Bytes())
	if c.Regressions() != 2 {
		t.Errorf("Regressions() = %d, want 2", c.Regressions())
	}
}
