package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// Metrics are the status and error figures of one scenario that compare judges by
// rule, not by test. NaN means the value is not in the file.
type Metrics struct {
	Status    string
	Requests  float64
	ErrorRate float64
	// P99 and ThroughputRPS are the results.csv values, shown when not tested.
	P99, ThroughputRPS float64
}

// Delta is one scenario present on both sides.
type Delta struct {
	Scenario  string
	Base, New Metrics
	// Tests are the metrics both sides have, in report order.
	Tests []Test
	// Regressions say what NEW broke (judged metrics, status, error rate); empty
	// when nothing.
	Regressions []string
	// Improvements name the judged metrics that improved significantly.
	Improvements []string
	// NotCompared is true when neither side completed, so no threshold applies.
	NotCompared bool
	// Config names the configuration columns whose values differ.
	Config []string
	// Note explains a verdict that is not a plain pass or regression.
	Note string
}

// Verdict is the scenario's verdict over its judged metrics: regression,
// improvement, no difference or not enough data.
func (d Delta) Verdict() string {
	switch {
	case len(d.Regressions) > 0:
		return VerdictRegression
	case d.NotCompared:
		return VerdictTooFew
	case len(d.Improvements) > 0:
		return VerdictImprovement
	}
	for _, t := range d.Tests {
		if t.Judged && t.Verdict == VerdictSame {
			return VerdictSame
		}
	}
	return VerdictTooFew
}

// Comparison is the result of Compare.
type Comparison struct {
	Base, New string
	Options   CompareOptions
	// Deltas are the scenarios present on both sides, in NEW's order.
	Deltas []Delta
	// OnlyBase and OnlyNew are scenarios present on one side only.
	OnlyBase, OnlyNew []string
	// ColumnsOnlyBase and ColumnsOnlyNew are the columns of one side only, which
	// were not compared; Unknown are shared columns compare has no test for.
	ColumnsOnlyBase, ColumnsOnlyNew, Unknown []string
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

// configColumns are the columns that describe a scenario rather than measure it.
var configColumns = []string{"scenario", "replicas", "cpus", "memory_bytes", "balancer", "users", "spawn_rate", "rate",
	"duration_s", "block", "think", "warmup_s", "requested_rps", "search", "advisory"}

// ruleColumns are judged by rule (status, error rate) or only shown.
var ruleColumns = []string{"status", "error", "requests", "errors", "output_tokens", "slo_pass", "slo_failures", "oom_kills", "restarts",
	"shortfall", "generator_cpu_s", "capacity_steps", "capacity_lower_bound", "repeats", "side_oom_kills", "side_restarts"}

// Compare compares NEW with BASE scenario by scenario, on the columns both
// results files have: the others are named in the Comparison, whatever their
// number. Each metric column is tested (see Test): with repeats on both sides by
// a Mann–Whitney U test and a Hodges–Lehmann interval over the repeats, with one
// repeat by a block bootstrap over the per-second samples. A metric regresses
// when its change is significant (p < Alpha) and beyond its threshold.
func Compare(base, new *Results, o CompareOptions) *Comparison {
	c := &Comparison{Base: base.Source, New: new.Source, Options: o}
	var shared []string
	for _, h := range base.Header {
		if slices.Contains(new.Header, h) {
			shared = append(shared, h)
		} else {
			c.ColumnsOnlyBase = append(c.ColumnsOnlyBase, h)
		}
	}
	for _, h := range new.Header {
		if !slices.Contains(base.Header, h) {
			c.ColumnsOnlyNew = append(c.ColumnsOnlyNew, h)
		}
	}
	var ms []metric
	for _, h := range shared {
		i := metricIndex(h)
		switch {
		case i >= 0:
			ms = append(ms, metrics[i])
		case !slices.Contains(configColumns, h) && !slices.Contains(ruleColumns, h) && !strings.HasSuffix(h, "_ci_low") && !strings.HasSuffix(h, "_ci_high"):
			c.Unknown = append(c.Unknown, h)
		}
	}
	slices.SortStableFunc(ms, func(a, b metric) int { return metricIndex(a.col) - metricIndex(b.col) })
	for _, id := range new.IDs {
		if _, ok := base.Rows[id]; !ok {
			c.OnlyNew = append(c.OnlyNew, id)
			continue
		}
		b := &scenarioData{cells: base.Rows[id], samples: base.Samples[id]}
		n := &scenarioData{cells: new.Rows[id], samples: new.Samples[id]}
		c.Deltas = append(c.Deltas, compareRow(id, b, n, ms, shared, o))
	}
	for _, id := range base.IDs {
		if _, ok := new.Rows[id]; !ok {
			c.OnlyBase = append(c.OnlyBase, id)
		}
	}
	return c
}

func metricIndex(col string) int {
	return slices.IndexFunc(metrics, func(m metric) bool { return m.col == col })
}

func metricsOf(row map[string]string) Metrics {
	num := func(col string) float64 {
		v, err := strconv.ParseFloat(row[col], 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	m := Metrics{Status: row["status"], Requests: num("requests"), ErrorRate: math.NaN(), P99: num("p99_ms"), ThroughputRPS: num("throughput_rps")}
	if m.Requests > 0 {
		m.ErrorRate = num("errors") / m.Requests
	}
	_, hasStatus := row["status"]
	_, hasRequests := row["requests"]
	if m.Status == "" {
		m.Status = result.StatusFailed
		// Without status and requests columns, a row with a latency or
		// throughput value was measured.
		if m.Requests > 0 || (!hasStatus && !hasRequests && !(math.IsNaN(m.P99) && math.IsNaN(m.ThroughputRPS))) {
			m.Status = result.StatusOK
		}
	}
	return m
}

// compareRow compares one scenario.
func compareRow(id string, bd, nd *scenarioData, ms []metric, shared []string, o CompareOptions) Delta {
	b, n := metricsOf(bd.cells), metricsOf(nd.cells)
	d := Delta{Scenario: id, Base: b, New: n}
	for _, col := range configColumns {
		if col != "scenario" && slices.Contains(shared, col) && bd.cells[col] != nd.cells[col] {
			d.Config = append(d.Config, fmt.Sprintf("%s %s → %s", col, orDash(bd.cells[col]), orDash(nd.cells[col])))
		}
	}
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
	capacity := !math.IsNaN(bd.row("capacity_rps")) && !math.IsNaN(nd.row("capacity_rps"))
	for _, m := range ms {
		if capacity && m.judged && m.col != "capacity_rps" {
			// A capacity search's latency and throughput are those of its highest
			// passing step, which moves with the capacity: the capacity is judged.
			m.judged = false
		}
		if math.IsNaN(bd.row(m.col)) && math.IsNaN(nd.row(m.col)) {
			continue
		}
		t := testMetric(m, bd, nd, o)
		d.Tests = append(d.Tests, t)
		if !t.Judged {
			continue
		}
		switch t.Verdict {
		case VerdictRegression:
			r := fmt.Sprintf("%s %s %s", metricLabel(m.col), signedPct(t.Change), thresholdLabel(m, o.Thresholds))
			if !math.IsNaN(t.P) {
				r += fmt.Sprintf(" (p %s)", pLabel(t.P))
			}
			d.Regressions = append(d.Regressions, r)
		case VerdictImprovement:
			d.Improvements = append(d.Improvements, fmt.Sprintf("%s %s", metricLabel(m.col), signedPct(t.Change)))
		}
	}
	if r := errorRule(b, n, o.Thresholds); r != "" {
		d.Regressions = append(d.Regressions, r)
	}
	return d
}

// errorRule applies MaxErrorRate; it returns the regression, or "".
func errorRule(b, n Metrics, th Thresholds) string {
	e := n.ErrorRate
	if !(e > th.MaxErrorRate) {
		return ""
	}
	switch be := b.ErrorRate; {
	case math.IsNaN(be) || be <= th.MaxErrorRate:
		return fmt.Sprintf("error rate %s > %s", pctLabel(e), pctLabel(th.MaxErrorRate))
	case e > be+th.MaxErrorRate:
		return fmt.Sprintf("error rate %s > BASE %s + %s", pctLabel(e), pctLabel(be), pctLabel(th.MaxErrorRate))
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// metricLabel is a column's name in verdicts: "p99" for p99_ms.
func metricLabel(col string) string {
	switch col {
	case "throughput_rps":
		return "throughput"
	case "capacity_rps":
		return "capacity"
	}
	return strings.TrimSuffix(col, "_ms")
}

// thresholdLabel is "> +10.0%" for a latency metric, "< -5.0%" for a rate.
func thresholdLabel(m metric, th Thresholds) string {
	if m.higher {
		return "< -" + pctLabel(th.MaxThroughputDrop)
	}
	if m.latency {
		return "> +" + pctLabel(th.MaxP99Increase)
	}
	return "> +" + pctLabel(th.MaxThroughputDrop)
}

// pLabel formats a p-value.
func pLabel(p float64) string {
	switch {
	case math.IsNaN(p):
		return "–"
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}
