package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Markdown writes the comparison: how it tested, a table of the scenarios on both
// sides with their judged metrics and verdicts, every tested metric in detail, the
// scenarios and columns that could not be compared, and a verdict line.
func (c *Comparison) Markdown(w io.Writer) error {
	var b bytes.Buffer
	o := c.Options
	fmt.Fprintf(&b, "# Compare `%s` → `%s`\n\n", c.Base, c.New)
	fmt.Fprintf(&b, "Thresholds: p99 increase ≤ %s, throughput (or capacity) drop ≤ %s, error rate ≤ %s.",
		pctLabel(o.MaxP99Increase), pctLabel(o.MaxThroughputDrop), pctLabel(o.MaxErrorRate))
	if o.Alpha >= 1 {
		b.WriteString(" Significance is not tested (alpha 1): the thresholds alone decide.\n\n")
	} else {
		fmt.Fprintf(&b, " A change is a regression only when it is significant (p < %g) and beyond its threshold; intervals are %g%% confidence intervals of the relative change.\n\n", o.Alpha, 100*(1-o.Alpha))
	}
	writeMethods(&b, c)
	if len(c.Deltas) > 0 {
		if err := compareTable(&b, c); err != nil {
			return err
		}
	} else {
		b.WriteString("No scenario is present on both sides.\n\n")
	}
	list := func(label string, ids []string, quote bool) {
		if len(ids) == 0 {
			return
		}
		q := slices.Clone(ids)
		for i := range q {
			if quote {
				q[i] = code(q[i])
			}
		}
		fmt.Fprintf(&b, "%s (not compared): %s.\n\n", label, strings.Join(q, ", "))
	}
	list("Only in BASE", c.OnlyBase, true)
	list("Only in NEW", c.OnlyNew, true)
	list("Columns only in BASE", c.ColumnsOnlyBase, true)
	list("Columns only in NEW", c.ColumnsOnlyNew, true)
	list("Columns without a test", c.Unknown, true)
	if n := c.Regressions(); n > 0 {
		fmt.Fprintf(&b, "**%s of %d.**\n", plural(n, "regression", "regressions"), len(c.Deltas))
	} else {
		fmt.Fprintf(&b, "No regression in %s.\n", plural(len(c.Deltas), "scenario", "scenarios"))
	}
	if err := detailTable(&b, c); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeMethods says which tests were used, and warns when one repeat made them weaker.
func writeMethods(b *bytes.Buffer, c *Comparison) {
	used := map[string]int{}
	for _, d := range c.Deltas {
		for _, t := range d.Tests {
			if t.Judged {
				used[t.Method]++
			}
		}
	}
	if used[MethodRepeats] > 0 {
		fmt.Fprintf(b, "Tested over repeats (%d judged metrics): Mann–Whitney U test of the repeats' values, Hodges–Lehmann estimate and interval of the ratio NEW/BASE.\n\n", used[MethodRepeats])
	}
	if used[MethodSeconds] > 0 {
		fmt.Fprintf(b, "**One repeat** (%d judged metrics): a block bootstrap over the per-second samples of the measured window. This is weaker: it sees the noise within a run, not the noise between runs (a stack brought up again lands differently), so it finds more false regressions. Run both sides with `--repeat 5` for a verdict you can trust.\n\n", used[MethodSeconds])
	}
	if used[MethodNone] > 0 && c.Options.Alpha < 1 {
		fmt.Fprintf(b, "%d judged metrics had not enough data for a test (see the notes below).\n\n", used[MethodNone])
	}
}

func compareTable(b *bytes.Buffer, c *Comparison) error {
	header := []string{"scenario", "p99 ms", "throughput /s", "error rate", "verdict"}
	var rows [][]string
	for _, d := range c.Deltas {
		verdict := d.Verdict()
		switch {
		case len(d.Regressions) > 0:
			verdict = "**regression**: " + strings.Join(d.Regressions, "; ")
		case len(d.Improvements) > 0:
			verdict += ": " + strings.Join(d.Improvements, "; ")
		}
		if d.Note != "" {
			verdict += " (" + d.Note + ")"
		}
		if len(d.Config) > 0 {
			verdict += " (configuration differs: " + strings.Join(d.Config, ", ") + ")"
		}
		rows = append(rows, []string{code(d.Scenario), testCell(d, "p99_ms", 2), testCell(d, "throughput_rps", 1),
			rateCell(d.Base.ErrorRate, d.New.ErrorRate), verdict})
	}
	if err := table(b, header, rows); err != nil {
		return err
	}
	b.WriteString("\n")
	return nil
}

// testCell is "base → new (+x% [lo, hi], p 0.01)" for one tested column.
func testCell(d Delta, col string, prec int) string {
	i := slices.IndexFunc(d.Tests, func(t Test) bool { return t.Metric == col })
	t := Test{Change: math.NaN()}
	switch {
	case i >= 0:
		t = d.Tests[i]
	case col == "p99_ms":
		t.Base, t.New = d.Base.P99, d.New.P99
	default:
		t.Base, t.New = d.Base.ThroughputRPS, d.New.ThroughputRPS
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	s := f(t.Base) + " → " + f(t.New)
	if e := changeLabel(t); e != "" {
		s += " (" + e + ")"
	}
	return s
}

// changeLabel is "+x% [lo, hi], p 0.01", as much of it as is known.
func changeLabel(t Test) string {
	if math.IsNaN(t.Change) {
		return ""
	}
	s := signedPct(t.Change)
	if !math.IsNaN(t.Lo) && !math.IsNaN(t.Hi) {
		s += " [" + signedPct(t.Lo) + ", " + signedPct(t.Hi) + "]"
	}
	if !math.IsNaN(t.P) {
		s += ", p " + pLabel(t.P)
	}
	return s
}

// detailTable lists every tested metric of every scenario.
func detailTable(b *bytes.Buffer, c *Comparison) error {
	var rows [][]string
	for _, d := range c.Deltas {
		for _, t := range d.Tests {
			name := t.Metric
			if t.Judged {
				name = "**" + name + "**"
			}
			method := t.Method
			if t.Samples != "" {
				method += ", " + t.Samples
			}
			rows = append(rows, []string{code(d.Scenario), name, numCell(t.Base), numCell(t.New), changeLabel(t), method, t.Verdict, t.Note})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	b.WriteString("\n## Every metric\n\nJudged metrics are in bold; the others are shown with the same test and the threshold of their kind (latency and resources: the p99 one; rates: the throughput one), and do not change the exit status.\n\n")
	return table(b, []string{"scenario", "metric", "BASE", "NEW", "change [CI], p", "test", "verdict", "note"}, rows)
}

func numCell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
