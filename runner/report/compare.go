package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// Results is a results.csv read back: its header and its rows by scenario.
type Results struct {
	// Source is the file (or run directory) it was read from.
	Source string
	// Header is the CSV header.
	Header []string
	// IDs are the scenarios in file order.
	IDs []string
	// Rows maps a scenario to its cells by column name.
	Rows map[string]map[string]string
}

// ReadResults reads path: a results.csv file, or a run directory, whose
// results.csv is read when present and otherwise built from its outcomes (the
// problems met doing so are returned).
func ReadResults(path string) (*Results, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	var problems []string
	source := path
	if st.IsDir() {
		source = filepath.Join(path, ResultsFile)
		data, err = os.ReadFile(source)
		if errors.Is(err, os.ErrNotExist) {
			d, rerr := Read(path)
			if rerr != nil {
				return nil, nil, rerr
			}
			problems = append(problems, fmt.Sprintf("%s: missing; built from the outcomes of %s", source, path))
			problems = append(problems, d.Problems...)
			var b bytes.Buffer
			if err := WriteResults(&b, d.Scenarios); err != nil {
				return nil, problems, err
			}
			data, err, source = b.Bytes(), nil, path
		}
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, problems, err
	}
	r, err := ParseResults(bytes.NewReader(data))
	if err != nil {
		return nil, problems, fmt.Errorf("%s: %w", source, err)
	}
	r.Source = source
	return r, problems, nil
}

// ParseResults parses results.csv content.
func ParseResults(rd io.Reader) (*Results, error) {
	cr := csv.NewReader(rd)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file, no header")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !slices.Contains(header, "scenario") {
		return nil, fmt.Errorf("no scenario column in the header %q", strings.Join(header, ","))
	}
	r := &Results{Header: header, Rows: map[string]map[string]string{}}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		id := row["scenario"]
		if _, dup := r.Rows[id]; dup {
			return nil, fmt.Errorf("line %d: scenario %q appears twice", line, id)
		}
		r.IDs = append(r.IDs, id)
		r.Rows[id] = row
	}
}

// ColumnsError says that two results files do not have the same columns.
type ColumnsError struct {
	Base, New string
	// OnlyBase and OnlyNew are the columns found on one side only; both are
	// empty when the same columns come in a different order.
	OnlyBase, OnlyNew []string
}

func (e *ColumnsError) Error() string {
	var parts []string
	if len(e.OnlyBase) > 0 {
		parts = append(parts, fmt.Sprintf("only in %s: %s", e.Base, strings.Join(e.OnlyBase, ", ")))
	}
	if len(e.OnlyNew) > 0 {
		parts = append(parts, fmt.Sprintf("only in %s: %s", e.New, strings.Join(e.OnlyNew, ", ")))
	}
	if len(parts) == 0 {
		parts = append(parts, "the same columns in a different order")
	}
	return "the results files have different columns (" + strings.Join(parts, "; ") + "); rebuild the older one with `runner report RUN_DIR`"
}

// Thresholds decide what counts as a regression. Ratios are 0..1 (0.10 = 10%).
type Thresholds struct {
	// MaxP99Increase is the largest allowed relative increase of p99 latency.
	MaxP99Increase float64
	// MaxThroughputDrop is the largest allowed relative drop of throughput.
	MaxThroughputDrop float64
	// MaxErrorRate is the highest allowed error rate of NEW; where BASE already
	// exceeded it, NEW may not exceed BASE's rate by more than it.
	MaxErrorRate float64
}

// DefaultThresholds are the defaults of `runner compare`.
var DefaultThresholds = Thresholds{MaxP99Increase: 0.10, MaxThroughputDrop: 0.05, MaxErrorRate: 0.01}

// Metrics are the numbers of one scenario that compare looks at. NaN means the
// value is not in the file (e.g. no request was measured).
type Metrics struct {
	Status                   string
	Requests                 float64
	P50, P95, P99            float64
	ThroughputRPS, ErrorRate float64
	// CapacityRPS is a capacity search's capacity at SLO; NaN for other scenarios.
	CapacityRPS float64
}

// Delta is one scenario present on both sides.
type Delta struct {
	Scenario  string
	Base, New Metrics
	// Regressions say which thresholds NEW broke; empty when none.
	Regressions []string
	// NotCompared is true when neither side completed, so no threshold applies.
	NotCompared bool
	// Note explains a verdict that is not a plain pass or regression.
	Note string
}

// Comparison is the result of Compare.
type Comparison struct {
	Base, New  string
	Thresholds Thresholds
	// Deltas are the scenarios present on both sides, in NEW's order.
	Deltas []Delta
	// OnlyBase and OnlyNew are scenarios present on one side only.
	OnlyBase, OnlyNew []string
}

// Regressions counts the scenarios with at least one regression.
func (c *Comparison) Regressions() int {
	n := 0
	for _, d := range c.Deltas {
		if len(d.Regressions) > 0 {
			n++
		}
	}
	return n
}

// Compare compares NEW with BASE scenario by scenario. It fails with a
// *ColumnsError when their columns differ.
func Compare(base, new *Results, th Thresholds) (*Comparison, error) {
	if !slices.Equal(base.Header, new.Header) {
		e := &ColumnsError{Base: base.Source, New: new.Source}
		for _, h := range base.Header {
			if !slices.Contains(new.Header, h) {
				e.OnlyBase = append(e.OnlyBase, h)
			}
		}
		for _, h := range new.Header {
			if !slices.Contains(base.Header, h) {
				e.OnlyNew = append(e.OnlyNew, h)
			}
		}
		return nil, e
	}
	c := &Comparison{Base: base.Source, New: new.Source, Thresholds: th}
	for _, id := range new.IDs {
		b, ok := base.Rows[id]
		if !ok {
			c.OnlyNew = append(c.OnlyNew, id)
			continue
		}
		c.Deltas = append(c.Deltas, compareRow(id, metricsOf(b), metricsOf(new.Rows[id]), th))
	}
	for _, id := range base.IDs {
		if _, ok := new.Rows[id]; !ok {
			c.OnlyBase = append(c.OnlyBase, id)
		}
	}
	return c, nil
}

func metricsOf(row map[string]string) Metrics {
	num := func(col string) float64 {
		v, err := strconv.ParseFloat(row[col], 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	m := Metrics{
		Status: row["status"], Requests: num("requests"),
		P50: num("p50_ms"), P95: num("p95_ms"), P99: num("p99_ms"),
		ThroughputRPS: num("throughput_rps"), ErrorRate: math.NaN(), CapacityRPS: num("capacity_rps"),
	}
	if m.Requests > 0 {
		m.ErrorRate = num("errors") / m.Requests
	}
	if m.Status == "" {
		m.Status = result.StatusFailed
		if m.Requests > 0 {
			m.Status = result.StatusOK
		}
	}
	return m
}

// compareRow applies the thresholds to one scenario.
func compareRow(id string, b, n Metrics, th Thresholds) Delta {
	d := Delta{Scenario: id, Base: b, New: n}
	bok, nok := b.Status == result.StatusOK, n.Status == result.StatusOK
	switch {
	case bok && !nok:
		d.Regressions = append(d.Regressions, fmt.Sprintf("status %s → %s", b.Status, n.Status))
		return d
	case !bok && !nok:
		d.NotCompared = true
		d.Note = fmt.Sprintf("%s in BASE and NEW", n.Status)
		return d
	case !bok:
		d.Note = fmt.Sprintf("%s in BASE, %s now", b.Status, n.Status)
	}
	if !math.IsNaN(b.CapacityRPS) && !math.IsNaN(n.CapacityRPS) {
		// A capacity search: its latency and throughput are those of the highest
		// passing step, which moves with the capacity; the capacity is what to hold.
		if r := change(b.CapacityRPS, n.CapacityRPS); b.CapacityRPS > 0 && -r > th.MaxThroughputDrop {
			d.Regressions = append(d.Regressions, fmt.Sprintf("capacity %s < -%s", signedPct(r), pctLabel(th.MaxThroughputDrop)))
		}
	} else {
		if r := change(b.P99, n.P99); b.P99 > 0 && r > th.MaxP99Increase {
			d.Regressions = append(d.Regressions, fmt.Sprintf("p99 %s > +%s", signedPct(r), pctLabel(th.MaxP99Increase)))
		}
		if r := change(b.ThroughputRPS, n.ThroughputRPS); b.ThroughputRPS > 0 && -r > th.MaxThroughputDrop {
			d.Regressions = append(d.Regressions, fmt.Sprintf("throughput %s < -%s", signedPct(r), pctLabel(th.MaxThroughputDrop)))
		}
	}
	if e := n.ErrorRate; e > th.MaxErrorRate {
		switch be := b.ErrorRate; {
		case math.IsNaN(be) || be <= th.MaxErrorRate:
			d.Regressions = append(d.Regressions, fmt.Sprintf("error rate %s > %s", pctLabel(e), pctLabel(th.MaxErrorRate)))
		case e > be+th.MaxErrorRate:
			d.Regressions = append(d.Regressions, fmt.Sprintf("error rate %s > BASE %s + %s", pctLabel(e), pctLabel(be), pctLabel(th.MaxErrorRate)))
		}
	}
	return d
}

// Markdown writes the comparison: a table of the scenarios on both sides with
// their deltas and verdicts, the scenarios on one side only, and a verdict line.
func (c *Comparison) Markdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Compare `%s` → `%s`\n\n", c.Base, c.New)
	fmt.Fprintf(&b, "Thresholds: p99 increase ≤ %s, throughput drop ≤ %s, error rate ≤ %s.\n\n",
		pctLabel(c.Thresholds.MaxP99Increase), pctLabel(c.Thresholds.MaxThroughputDrop), pctLabel(c.Thresholds.MaxErrorRate))
	if len(c.Deltas) > 0 {
		header := []string{"scenario", "p50 ms", "p95 ms", "p99 ms", "throughput /s", "error rate", "verdict"}
		var rows [][]string
		for _, d := range c.Deltas {
			verdict := "ok"
			if d.NotCompared {
				verdict = "not compared"
			}
			if len(d.Regressions) > 0 {
				verdict = "**regression**: " + strings.Join(d.Regressions, "; ")
			}
			if d.Note != "" {
				verdict += " (" + d.Note + ")"
			}
			rows = append(rows, []string{code(d.Scenario),
				deltaCell(d.Base.P50, d.New.P50, 2), deltaCell(d.Base.P95, d.New.P95, 2), deltaCell(d.Base.P99, d.New.P99, 2),
				deltaCell(d.Base.ThroughputRPS, d.New.ThroughputRPS, 1), rateCell(d.Base.ErrorRate, d.New.ErrorRate), verdict})
		}
		if err := table(&b, header, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	} else {
		b.WriteString("No scenario is present on both sides.\n\n")
	}
	list := func(label string, ids []string) {
		if len(ids) == 0 {
			return
		}
		quoted := make([]string, len(ids))
		for i, id := range ids {
			quoted[i] = code(id)
		}
		fmt.Fprintf(&b, "%s (not compared): %s.\n\n", label, strings.Join(quoted, ", "))
	}
	list("Only in BASE", c.OnlyBase)
	list("Only in NEW", c.OnlyNew)
	if n := c.Regressions(); n > 0 {
		fmt.Fprintf(&b, "**%s of %d.**\n", plural(n, "regression", "regressions"), len(c.Deltas))
	} else {
		fmt.Fprintf(&b, "No regression in %s.\n", plural(len(c.Deltas), "scenario", "scenarios"))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// deltaCell is "base → new (+x%)".
func deltaCell(b, n float64, prec int) string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	s := f(b) + " → " + f(n)
	if r := change(b, n); !math.IsNaN(b) && !math.IsNaN(n) && !math.IsNaN(r) {
		s += " (" + signedPct(r) + ")"
	}
	return s
}

func rateCell(b, n float64) string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return pctLabel(v)
	}
	return f(b) + " → " + f(n)
}

// ParsePercent reads a threshold written as a percentage, e.g. "10%" or "0.5%",
// and returns it as a ratio (0.10, 0.005).
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q is not a percentage: write it with a %% sign, e.g. 10%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a percentage of 0 or more, e.g. 10%%", s)
	}
	return v / 100, nil
}
