package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompareFlags(t *testing.T) {
	o := DefaultCompareOptions
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	o.TestFlags(fs)
	o.ErrorRateFlag(fs)
	if err := fs.Parse([]string{"--max-p99-increase", "20%", "--max-throughput-drop", "0.5%", "--max-error-rate", "2%", "--alpha", "0.1"}); err != nil {
		t.Fatal(err)
	}
	if o.MaxP99Increase != 0.2 || o.MaxThroughputDrop != 0.005 || o.MaxErrorRate != 0.02 || o.Alpha != 0.1 {
		t.Errorf("options = %+v", o)
	}
	if got := fs.Lookup("max-p99-increase").Value.String(); got != "20%" {
		t.Errorf("--max-p99-increase prints as %q, want 20%%", got)
	}
	if err := fs.Parse([]string{"--max-error-rate", "2"}); err == nil || !strings.Contains(err.Error(), "not a percentage") {
		t.Errorf("a rate without %% sign: %v", err)
	}
	for _, tt := range []struct {
		alpha float64
		ok    bool
	}{{0.05, true}, {1, true}, {0, false}, {-0.1, false}, {1.5, false}} {
		o.Alpha = tt.alpha
		if err := o.CheckAlpha(); (err == nil) != tt.ok {
			t.Errorf("CheckAlpha(%g) = %v, want ok %v", tt.alpha, err, tt.ok)
		}
	}
}

func TestWriteComparisonAndHistory(t *testing.T) {
	dir := t.TempDir()
	run := historyRun(t, dir, "w-1", time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), "replicas-r2-cpu1_5-mem1000m-client-u500s50", 1)
	r, _, err := ReadResults(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(r, r, DefaultCompareOptions).WriteHTML(filepath.Join(dir, "compare.html")); err != nil {
		t.Fatal(err)
	}
	if err := Compare(r, r, DefaultCompareOptions).WriteHTML(filepath.Join(dir, "none", "compare.html")); err == nil || !strings.Contains(err.Error(), "cannot write the HTML comparison") {
		t.Errorf("WriteHTML into a missing folder: %v", err)
	}
	h, err := ReadHistory([]string{run}, DefaultCompareOptions)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := h.WriteMarkdown("", &stdout); err != nil || stdout.Len() == 0 {
		t.Fatalf("WriteMarkdown to stdout: %v, %d bytes", err, stdout.Len())
	}
	md := filepath.Join(dir, "out", "history.md")
	if err := h.WriteMarkdown(md, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(md); err != nil || !bytes.Equal(b, stdout.Bytes()) {
		t.Errorf("history.md differs from what stdout got: %v", err)
	}
	if err := h.WriteHTML(filepath.Join(dir, "history.html")); err != nil {
		t.Fatal(err)
	}
}

func TestCompareRuns(t *testing.T) {
	dir := t.TempDir()
	run := historyRun(t, dir, "w-1", time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), "replicas-r2-cpu1_5-mem1000m-client-u500s50", 1)
	c, _, err := CompareRuns(run, run, DefaultCompareOptions)
	if err != nil || len(c.Deltas) == 0 || c.Regressions() != 0 {
		t.Fatalf("a run against itself: %+v, %v", c, err)
	}
	missing := filepath.Join(dir, "none")
	if _, _, err := CompareRuns(run, missing, DefaultCompareOptions); err == nil || !strings.Contains(err.Error(), "cannot read "+missing) {
		t.Errorf("a missing NEW: %v", err)
	}
}
