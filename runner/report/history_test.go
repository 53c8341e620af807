package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// historyRun copies the committed workshop run into dir/name, started at
// start, with the p99 of every second (and of results.csv) of scenario id
// multiplied by slow.
func historyRun(t *testing.T, dir, name string, start time.Time, id string, slow float64) string {
	t.Helper()
	run := filepath.Join(dir, name)
	if err := os.CopyFS(run, os.DirFS("../../reports/workshop5")); err != nil {
		t.Fatal(err)
	}
	var meta result.Run
	if err := readJSON(filepath.Join(run, RunFile), &meta); err != nil {
		t.Fatal(err)
	}
	meta.ID, meta.Started = name, start
	if err := result.WriteJSON(filepath.Join(run, RunFile), meta); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(run, ResultsFile)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(run, ScenariosDir, id, OutcomeFile)
	var o result.Outcome
	if err := readJSON(p, &o); err != nil {
		t.Fatal(err)
	}
	for i := range o.Load.Series {
		o.Load.Series[i].P99 = time.Duration(float64(o.Load.Series[i].P99) * slow)
	}
	o.Load.Latency.P99 = time.Duration(float64(o.Load.Latency.P99) * slow)
	b, _ := json.Marshal(o)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestHistory(t *testing.T) {
	dir := t.TempDir()
	id := "replicas-r2-cpu1_5-mem1000m-client-u500s50"
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// Three times slower: the committed study's per-second p99 is noisy
	// (it ran on a busy machine), and a smaller shift is not significant
	// over its seconds, which is the point of the test.
	runs := []string{
		historyRun(t, dir, "w-4", t0.Add(3*day), id, 3),
		historyRun(t, dir, "w-1", t0, id, 1),
		historyRun(t, dir, "w-3", t0.Add(2*day), id, 3),
		historyRun(t, dir, "w-2", t0.Add(day), id, 1),
	}
	h, err := ReadHistory(runs, DefaultCompareOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"w-1", "w-2", "w-3", "w-4"} {
		if h.Runs[i].ID != want {
			t.Errorf("run %d is %s, want %s (by start time)", i+1, h.Runs[i].ID, want)
		}
	}
	if len(h.Changes) != 1 {
		t.Fatalf("change points %+v, want one", h.Changes)
	}
	c := h.Changes[0]
	if c.Scenario != id || c.Metric != "p99_ms" || c.Run != 2 || !c.Confirmed || c.Test.Verdict != VerdictRegression {
		t.Errorf("change point %+v, want a confirmed p99 regression of %s at run 3", c, id)
	}
	var md, html bytes.Buffer
	if err := h.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# History of `w`: 4 runs", "- run 3 (`w-3`), `" + id + "`, p99: regression +200.0%", "confirmed by the next run", "▲ p99 regression +200.0%"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := h.HTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<svg") || strings.Contains(html.String(), "<script src") {
		t.Errorf("the HTML page has no inline chart, or loads a script")
	}
}
