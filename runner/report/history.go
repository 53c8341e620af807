package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/chart"
	"github.com/infergrid/runner/runner/result"
)

// HistoryRun is one run directory of a history.
type HistoryRun struct {
	// Dir is the run directory as given.
	Dir string
	// ID, Started and GitCommit come from run.json (ID falls back to the folder name).
	ID        string
	Started   time.Time
	GitCommit string
	// Results are its results.csv and samples.
	Results *Results
}

// ChangePoint is a significant change of a judged metric between two
// consecutive runs of a history.
type ChangePoint struct {
	Scenario, Metric string
	// Run is the index in History.Runs of the first run after the change.
	Run int
	// Test compares run Run-1 with run Run.
	Test Test
	// Confirmed is true when run Run+1 differs from run Run-1 the same way; a
	// change the next run does not confirm is likely a one-run blip.
	Confirmed bool
	// Last is true when Run is the latest run, so nothing can confirm it yet.
	Last bool
}

// History is the trend of many runs of the same scenario file.
type History struct {
	Options CompareOptions
	// Runs are in the order they started.
	Runs []HistoryRun
	// Scenarios are every scenario of any run, in the order first seen.
	Scenarios []string
	// Changes are the change points, by run then scenario.
	Changes []ChangePoint
	// Problems name the files that could not be read.
	Problems []string
}

// ReadHistory reads run directories (nightly runs of one scenario file), orders
// them by start time, and finds the change points of their judged metrics: a
// consecutive pair whose comparison (see Compare) is a regression or an
// improvement, confirmed when the run after still differs from the run before.
func ReadHistory(dirs []string, o CompareOptions) (*History, error) {
	h := &History{Options: o}
	for _, dir := range dirs {
		r, problems, err := ReadResults(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		for _, p := range problems {
			h.Problems = append(h.Problems, dir+": "+p)
		}
		run := HistoryRun{Dir: dir, ID: filepath.Base(filepath.Clean(dir)), Results: r}
		var meta result.Run
		if readJSON(filepath.Join(dir, RunFile), &meta) == nil {
			run.ID = cmp.Or(meta.ID, run.ID)
			run.Started, run.GitCommit = meta.Started, meta.GitCommit
		}
		h.Runs = append(h.Runs, run)
	}
	slices.SortStableFunc(h.Runs, func(a, b HistoryRun) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	for _, run := range h.Runs {
		for _, id := range run.Results.IDs {
			if !slices.Contains(h.Scenarios, id) {
				h.Scenarios = append(h.Scenarios, id)
			}
		}
	}
	h.findChanges()
	return h, nil
}

// findChanges compares each run with the one before, and the run after with it.
func (h *History) findChanges() {
	for i := 1; i < len(h.Runs); i++ {
		c := Compare(h.Runs[i-1].Results, h.Runs[i].Results, h.Options)
		var next *Comparison
		if i+1 < len(h.Runs) {
			next = Compare(h.Runs[i-1].Results, h.Runs[i+1].Results, h.Options)
		}
		for _, d := range c.Deltas {
			for _, t := range d.Tests {
				if !t.Judged || (t.Verdict != VerdictRegression && t.Verdict != VerdictImprovement) {
					continue
				}
				cp := ChangePoint{Scenario: d.Scenario, Metric: t.Metric, Run: i, Test: t, Last: next == nil}
				if next != nil {
					cp.Confirmed = next.verdictOf(d.Scenario, t.Metric) == t.Verdict
				}
				h.Changes = append(h.Changes, cp)
			}
		}
	}
}

// verdictOf is the verdict of one scenario's metric, or "".
func (c *Comparison) verdictOf(scenario, metric string) string {
	for _, d := range c.Deltas {
		if d.Scenario != scenario {
			continue
		}
		for _, t := range d.Tests {
			if t.Metric == metric {
				return t.Verdict
			}
		}
	}
	return ""
}

// historyColumns are the metrics the history tabulates and charts.
var historyColumns = []struct{ col, label string }{{"p99_ms", "p99 ms"}, {"throughput_rps", "throughput /s"}, {"capacity_rps", "capacity /s"}}

// Markdown writes the trend report: the runs, the change points, and one table
// per scenario with a row per run.
func (h *History) Markdown(w io.Writer) error {
	b, _, err := h.render()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// HTML writes the trend report as a self-contained HTML page, with a chart of
// p99 latency and throughput over the runs for each scenario.
func (h *History) HTML(w io.Writer) error {
	md, charts, err := h.render()
	if err != nil {
		return err
	}
	return page(w, "History of "+h.name(), md, charts)
}

func (h *History) name() string {
	if len(h.Runs) == 0 {
		return "no run"
	}
	id := h.Runs[0].ID
	if i := strings.LastIndex(id, "-"); i > 0 {
		return id[:i]
	}
	return id
}

// render is the Markdown, and the charts the HTML page draws in place of its
// image links.
func (h *History) render() ([]byte, map[string][]chart.Chart, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# History of %s: %s\n\n", code(h.name()), plural(len(h.Runs), "run", "runs"))
	fmt.Fprintf(&b, "Each run is compared with the one before it, as `runner compare` does (p < %g and beyond the thresholds: p99 +%s, throughput or capacity -%s). A change point is **confirmed** when the run after it still differs from the run before it the same way; an unconfirmed one is likely a one-run blip.\n\n",
		h.Options.Alpha, pctLabel(h.Options.MaxP99Increase), pctLabel(h.Options.MaxThroughputDrop))
	var rows [][]string
	for i, r := range h.Runs {
		rows = append(rows, []string{strconv.Itoa(i + 1), code(r.ID), timeCell(r.Started), code(shortCommit(r.GitCommit)), strconv.Itoa(len(r.Results.IDs))})
	}
	if err := table(&b, []string{"#", "run", "started", "commit", "scenarios"}, rows); err != nil {
		return nil, nil, err
	}
	b.WriteString("\n## Change points\n\n")
	if len(h.Changes) == 0 {
		b.WriteString("None: no judged metric changed significantly between two consecutive runs.\n")
	}
	for _, c := range h.Changes {
		fmt.Fprintf(&b, "- run %d (%s), %s, %s: %s %s (%s)\n", c.Run+1, code(h.Runs[c.Run].ID), code(c.Scenario),
			metricLabel(c.Metric), c.Test.Verdict, changeLabel(c.Test), confirmLabel(c))
	}
	charts := map[string][]chart.Chart{}
	for _, id := range h.Scenarios {
		if err := h.scenarioSection(&b, id, charts); err != nil {
			return nil, nil, err
		}
	}
	if len(h.Problems) > 0 {
		b.WriteString("\n## Problems\n\n")
		for _, p := range h.Problems {
			b.WriteString("- " + p + "\n")
		}
	}
	return b.Bytes(), charts, nil
}

func confirmLabel(c ChangePoint) string {
	switch {
	case c.Confirmed:
		return "confirmed by the next run"
	case c.Last:
		return "latest run, not confirmed yet"
	}
	return "not confirmed by the next run"
}

// scenarioSection writes one scenario's table and registers its charts.
func (h *History) scenarioSection(b *bytes.Buffer, id string, charts map[string][]chart.Chart) error {
	fmt.Fprintf(b, "\n## %s\n\n", code(id))
	var cols []int
	for i, hc := range historyColumns {
		if slices.ContainsFunc(h.Runs, func(r HistoryRun) bool { return !math.IsNaN(cellOf(r, id, hc.col)) }) {
			cols = append(cols, i)
		}
	}
	header := []string{"#", "run"}
	names := make([]string, len(h.Runs))
	var cs []chart.Chart
	for _, i := range cols {
		header = append(header, historyColumns[i].label)
		c := chart.Chart{ID: id + "/" + historyColumns[i].col, Title: id + ": " + historyColumns[i].label, XLabel: "run", YLabel: historyColumns[i].label, XNames: names}
		s := chart.Series{Name: historyColumns[i].label}
		for j, r := range h.Runs {
			names[j] = strconv.Itoa(j + 1)
			v := cellOf(r, id, historyColumns[i].col)
			s.Points = append(s.Points, chart.Point{X: float64(j), Y: v, Label: fmt.Sprintf("run %d %s: %s", j+1, r.ID, chart.Num(v))})
		}
		c.Series = []chart.Series{s}
		if c.HasData() {
			cs = append(cs, c)
		}
	}
	header = append(header, "error rate", "change")
	var rows [][]string
	for j, r := range h.Runs {
		row := []string{strconv.Itoa(j + 1), code(r.ID)}
		for _, i := range cols {
			row = append(row, numOrDash(cellOf(r, id, historyColumns[i].col)))
		}
		row = append(row, errorRateCell(r, id), h.changeCell(id, j))
		rows = append(rows, row)
	}
	if err := table(b, header, rows); err != nil {
		return err
	}
	if len(cs) > 0 {
		p := "history-" + strconv.Itoa(len(charts)+1) + ".png"
		charts[p] = cs
		fmt.Fprintf(b, "\n![%s over the runs](%s)\n", id, p)
	}
	return nil
}

// changeCell lists the change points of a scenario at run j.
func (h *History) changeCell(id string, j int) string {
	var parts []string
	for _, c := range h.Changes {
		if c.Scenario == id && c.Run == j {
			mark := "▲" // the value rose
			if c.Test.Change < 0 {
				mark = "▼"
			}
			s := fmt.Sprintf("%s %s %s %s", mark, metricLabel(c.Metric), c.Test.Verdict, signedPct(c.Test.Change))
			if !c.Confirmed {
				s += " (unconfirmed)"
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func cellOf(r HistoryRun, id, col string) float64 {
	row, ok := r.Results.Rows[id]
	if !ok {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(row[col], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func errorRateCell(r HistoryRun, id string) string {
	row, ok := r.Results.Rows[id]
	if !ok {
		return "–"
	}
	if m := metricsOf(row); !math.IsNaN(m.ErrorRate) {
		return pctLabel(m.ErrorRate)
	}
	return "–"
}

func numOrDash(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
