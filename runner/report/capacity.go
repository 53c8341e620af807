package report

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// RuleCapacity is the finding rule of capacity searches.
const RuleCapacity = "capacity"

// modelSearch is the load model of capacity-search scenarios.
const modelSearch = "search"

// gib is the memory unit of the per-memory capacity: Docker reads 1G as 1 GiB.
const gib = 1 << 30

// searched reports whether o is a capacity search that produced a capacity.
func searched(o result.Outcome) bool { return o.Load.Capacity != nil }

// capacityPerCPU is the capacity divided by the CPU limit of all replicas; false
// when the CPUs are unlimited.
func capacityPerCPU(o result.Outcome) (float64, bool) {
	c := configOf(o.Scenario)
	if o.Load.Capacity == nil || c.CPUs <= 0 || c.Replicas <= 0 {
		return 0, false
	}
	return o.Load.Capacity.RPS / c.totalCPUs(), true
}

// capacityPerGiB is the capacity divided by the memory limit of all replicas in
// GiB; false when the memory is unlimited.
func capacityPerGiB(o result.Outcome) (float64, bool) {
	c := configOf(o.Scenario)
	if o.Load.Capacity == nil || c.MemoryBytes <= 0 || c.Replicas <= 0 {
		return 0, false
	}
	return o.Load.Capacity.RPS / (c.totalMem() / gib), true
}

// capacityLabel is "238/s", "≥ 1000/s" (a lower bound) or "< 50/s" (none found).
func capacityLabel(c *result.Capacity) string {
	switch {
	case c.RPS == 0:
		return "< " + rpsLabel(c.FromRPS)
	case c.LowerBound:
		return "≥ " + rpsLabel(c.RPS)
	}
	return rpsLabel(c.RPS)
}

// stepsLabel lists the steps in order, e.g. "50 ✓ · 100 ✓ · 200 ✗ · 150 ✓".
func stepsLabel(c *result.Capacity) string {
	parts := make([]string, len(c.Steps))
	for i, s := range c.Steps {
		mark := "✓"
		if !s.Pass {
			mark = "✗"
			if s.Shortfall {
				mark = "✗ short"
			}
		}
		parts[i] = fnum(round(s.RateRPS, 1)) + " " + mark
	}
	return strings.Join(parts, " · ")
}

// Capacity states what the capacity searches found: the configuration with the
// highest capacity at the SLO, the ones that serve the most per CPU and per GiB of
// memory limit, and every capacity that is only a bound (with the reason).
func Capacity(outcomes []result.Outcome) []Finding {
	var all []result.Outcome
	for _, o := range outcomes {
		if searched(o) {
			all = append(all, o)
		}
	}
	if len(all) == 0 {
		return nil
	}
	var out []Finding
	var found []result.Outcome
	for _, o := range all {
		if o.Load.Capacity.RPS > 0 {
			found = append(found, o)
		}
	}
	if len(found) == 0 {
		ids := make([]string, len(all))
		for i, o := range all {
			ids[i] = o.Scenario.ID
		}
		out = append(out, Finding{Rule: RuleCapacity, Text: fmt.Sprintf("No configuration met the SLO at the lowest rate searched (%s), so no capacity was found; search from a lower rate or relax the SLO.",
			rpsLabel(all[0].Load.Capacity.FromRPS)), Scenarios: ids})
	} else {
		top := slices.MaxFunc(found, func(a, b result.Outcome) int {
			return cmp.Or(cmp.Compare(a.Load.Capacity.RPS, b.Load.Capacity.RPS), strings.Compare(b.Scenario.ID, a.Scenario.ID))
		})
		var sb strings.Builder
		fmt.Fprintf(&sb, "The highest capacity at the SLO was %s with %s (`%s`", capacityLabel(top.Load.Capacity), configOf(top.Scenario), top.Scenario.ID)
		if v, ok := capacityPerCPU(top); ok {
			fmt.Fprintf(&sb, ", %s per CPU", rpsLabel(v))
		}
		sb.WriteString(").")
		ids := []string{top.Scenario.ID}
		best := func(per func(result.Outcome) (float64, bool), unit string) {
			var cands []result.Outcome
			for _, o := range found {
				if _, ok := per(o); ok {
					cands = append(cands, o)
				}
			}
			if len(cands) < 2 {
				return
			}
			b := slices.MaxFunc(cands, func(x, y result.Outcome) int {
				vx, _ := per(x)
				vy, _ := per(y)
				return cmp.Or(cmp.Compare(vx, vy), strings.Compare(y.Scenario.ID, x.Scenario.ID))
			})
			w := slices.MinFunc(cands, func(x, y result.Outcome) int {
				vx, _ := per(x)
				vy, _ := per(y)
				return cmp.Or(cmp.Compare(vx, vy), strings.Compare(x.Scenario.ID, y.Scenario.ID))
			})
			vb, _ := per(b)
			vw, _ := per(w)
			if vw > 0 && vb > vw {
				fmt.Fprintf(&sb, " %s, %s served the most: %s (%.1f× the least, %s with %s).", unit, configOf(b.Scenario), rpsLabel(vb), vb/vw, configOf(w.Scenario), rpsLabel(vw))
			} else {
				fmt.Fprintf(&sb, " %s, every configuration served %s.", unit, rpsLabel(vb))
			}
			if !slices.Contains(ids, b.Scenario.ID) {
				ids = append(ids, b.Scenario.ID)
			}
		}
		best(capacityPerCPU, "Per CPU of limit")
		best(capacityPerGiB, "Per GiB of memory limit")
		out = append(out, Finding{Rule: RuleCapacity, Text: sb.String(), Scenarios: ids})
	}
	for _, o := range all {
		c := o.Load.Capacity
		if c.LowerBound || c.RPS == 0 || !c.Converged {
			out = append(out, Finding{Rule: RuleCapacity, Text: fmt.Sprintf("`%s` (%s): capacity %s: %s.",
				o.Scenario.ID, configOf(o.Scenario), capacityLabel(c), strings.TrimSuffix(c.Reason, ".")), Scenarios: []string{o.Scenario.ID}})
		}
	}
	return out
}

// capacityTable renders the capacity at SLO of every capacity search.
func capacityTable(b *bytes.Buffer, d *Data) error {
	header := []string{"scenario", "configuration", "capacity", "per CPU", "per GiB memory", "steps (rate/s, ✓ met the SLO)"}
	var rows [][]string
	for _, sc := range d.Scenarios {
		o := sc.Outcome
		c := o.Load.Capacity
		if c == nil {
			continue
		}
		perCPU, perGiB := "–", "–"
		if v, ok := capacityPerCPU(o); ok {
			perCPU = rpsLabel(v)
		}
		if v, ok := capacityPerGiB(o); ok {
			perGiB = rpsLabel(v)
		}
		rows = append(rows, []string{code(o.Scenario.ID), configOf(o.Scenario).String(), capacityLabel(c), perCPU, perGiB, stepsLabel(c)})
	}
	return table(b, header, rows)
}

// hasCapacity reports whether any scenario of d is a capacity search with results.
func hasCapacity(d *Data) bool {
	return slices.ContainsFunc(d.Scenarios, func(s Scenario) bool { return searched(s.Outcome) })
}

// writeCapacitySteps lists the steps of a capacity search in its scenario section.
func writeCapacitySteps(b *bytes.Buffer, c *result.Capacity) {
	fmt.Fprintf(b, "- Capacity at SLO: **%s** (searched %s to %s, precision %s): %s.\n", capacityLabel(c), rpsLabel(c.FromRPS), rpsLabel(c.ToRPS),
		pctLabel(c.Precision), strings.TrimSuffix(c.Reason, "."))
	for i, s := range c.Steps {
		verdict := "met the SLO"
		if !s.Pass {
			verdict = "missed: " + cmp.Or(strings.Join(s.Failures, ", "), "failed")
		}
		fmt.Fprintf(b, "  %d. %s: sent %s, p50 %s · p95 %s · p99 %s ms, %s errors; %s", i+1, rpsLabel(s.RateRPS), rpsLabel(s.AchievedRPS),
			msLabel(s.P50), msLabel(s.P95), msLabel(s.P99), pctLabel(s.ErrorRatio), verdict)
		if s.ResultsFile != "" {
			fmt.Fprintf(b, " (%s)", code(s.ResultsFile))
		}
		b.WriteString(".\n")
	}
}
