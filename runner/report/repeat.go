package report

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/stats"
)

// RepeatColumns are the repeat columns of results.csv, at the end of the header:
// how many times the scenario ran, and the confidence interval (see Spread) of
// its median p99 and throughput. The intervals are empty for a scenario that
// ran once or measured in fewer than two repeats.
var RepeatColumns = []string{"repeats", "p99_ms_ci_low", "p99_ms_ci_high", "throughput_rps_ci_low", "throughput_rps_ci_high"}

// SpreadAlpha is the significance level of the intervals of results.csv: 95%.
const SpreadAlpha = 0.05

// Spread is how much a repeated scenario's p99 and throughput varied over its
// repeats: the order-statistic 95% confidence interval of the median from 6
// measured repeats on (stats.MedianCI), else the range from the lowest to the
// highest, whose coverage of the median is only 1 - 2^(1-n).
type Spread struct {
	// Repeats is the number of repeats that measured requests (the intervals'
	// sample); the outcome may have more that failed.
	Repeats int
	// P99Ms and ThroughputRPS are the intervals, Median their medians.
	P99Ms, ThroughputRPS stats.Interval
}

// spreadOf is the spread of o over its repeats; ok is false for a scenario
// that ran once or measured in fewer than two repeats.
func spreadOf(o result.Outcome) (Spread, bool) {
	var p99, rps []float64
	for _, r := range o.Repeats {
		if r.Status == result.StatusOK && r.Load.Requests > 0 {
			p99 = append(p99, msOf(r.Load.Latency.P99))
			rps = append(rps, r.Load.ThroughputRPS)
		}
	}
	if len(p99) < 2 {
		return Spread{}, false
	}
	return Spread{Repeats: len(p99), P99Ms: stats.MedianCI(p99, SpreadAlpha), ThroughputRPS: stats.MedianCI(rps, SpreadAlpha)}, true
}

// Method says which interval the spread is: "95% CI" or "min–max".
func (s Spread) Method() string {
	if s.P99Ms.Exact {
		return fmt.Sprintf("%.0f%% CI", 100*(1-SpreadAlpha))
	}
	return "min–max"
}

// repeatRecord is the RepeatColumns cells of o.
func repeatRecord(o result.Outcome) []string {
	n := max(len(o.Repeats), 1)
	s, ok := spreadOf(o)
	if !ok {
		return []string{strconv.Itoa(n), "", "", "", ""}
	}
	// The bounds are repeats' values: the same precision as their own cells.
	return []string{strconv.Itoa(n), ffix(s.P99Ms.Lo, 3), ffix(s.P99Ms.Hi, 3), ffix(s.ThroughputRPS.Lo, 2), ffix(s.ThroughputRPS.Hi, 2)}
}

// spreadCell is a block table's line of a repeated scenario's spread, e.g.
// "p99 140–160 · 1010–1090/s (min–max of 5)"; empty for one repeat.
func spreadCell(o result.Outcome) string {
	s, ok := spreadOf(o)
	if !ok {
		return ""
	}
	return fmt.Sprintf("<br>p99 %s–%s · %s–%s (%s of %d)", msLabel(fromMs(s.P99Ms.Lo)), msLabel(fromMs(s.P99Ms.Hi)),
		rpsNum(s.ThroughputRPS.Lo), rpsLabel(s.ThroughputRPS.Hi), s.Method(), s.Repeats)
}

// rpsNum is rpsLabel without its unit.
func rpsNum(v float64) string {
	l := rpsLabel(v)
	return l[:len(l)-2]
}

// fromMs turns milliseconds back into a duration, for msLabel.
func fromMs(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// repeated reports whether a scenario of the block ran more than once.
func (bl *block) repeated() bool {
	for _, cells := range bl.Cells {
		for _, scs := range cells {
			for _, sc := range scs {
				if len(sc.Outcome.Repeats) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// writeRepeats lists the repeats of a scenario that ran more than once, with
// the spread of their p99 and throughput.
func writeRepeats(b *bytes.Buffer, o result.Outcome) {
	if len(o.Repeats) == 0 {
		return
	}
	var parts []string
	for i, r := range o.Repeats {
		k := cmp.Or(r.Repeat, i+1)
		if r.Status != result.StatusOK || r.Load.Requests == 0 {
			parts = append(parts, fmt.Sprintf("%d: %s", k, cmp.Or(r.Status, result.StatusFailed)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%d: p99 %s ms, %s", k, msLabel(r.Load.Latency.P99), rpsLabel(r.Load.ThroughputRPS)))
	}
	fmt.Fprintf(b, "- Repeats: %s.\n", strings.Join(parts, "; "))
	if s, ok := spreadOf(o); ok {
		fmt.Fprintf(b, "- Spread over %d repeats (%s, %.1f%% coverage of the median): p99 %s–%s ms, throughput %s–%s.\n", s.Repeats, s.Method(),
			100*s.P99Ms.Confidence, msLabel(fromMs(s.P99Ms.Lo)), msLabel(fromMs(s.P99Ms.Hi)), rpsNum(s.ThroughputRPS.Lo), rpsLabel(s.ThroughputRPS.Hi))
	}
}
