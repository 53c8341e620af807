package report

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// cells maps results.csv's columns to o's cells.
func cells(o result.Outcome) map[string]string {
	rec := Record(o)
	m := map[string]string{}
	for i, c := range Columns {
		m[c] = rec[i]
	}
	return m
}

func TestRepeatColumns(t *testing.T) {
	// Ten repeats in a shuffled order: the 95% interval of the median is the
	// 2nd and 9th order statistics (binomial ranks).
	p99s := []float64{131, 104, 122, 150, 101, 117, 126, 109, 140, 113}
	var reps []result.Outcome
	for k, v := range p99s {
		reps = append(reps, result.Outcome{Scenario: result.Scenario{ID: "s", Repeat: 10}, Status: result.StatusOK, Repeat: k + 1,
			Load: result.Load{Requests: 1000, SuccessRatio: 1, ThroughputRPS: 2000 - 5*v, Latency: result.Latency{P99: time.Duration(v * float64(time.Millisecond))}}})
	}
	// An eleventh that failed counts in repeats but not in the interval.
	reps = append(reps, result.Outcome{Scenario: reps[0].Scenario, Status: result.StatusFailed, Error: "boom", Repeat: 11})
	c := cells(result.Median(reps))
	sorted := slices.Clone(p99s)
	slices.Sort(sorted)
	num := func(col string) float64 {
		v, err := strconv.ParseFloat(c[col], 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", col, c[col], err)
		}
		return v
	}
	if c["repeats"] != "11" {
		t.Errorf("repeats = %q, want 11", c["repeats"])
	}
	if got, want := num("p99_ms"), (sorted[4]+sorted[5])/2; got != want {
		t.Errorf("p99_ms = %v, want the median %v", got, want)
	}
	if lo, hi := num("p99_ms_ci_low"), num("p99_ms_ci_high"); lo != sorted[1] || hi != sorted[8] {
		t.Errorf("p99 interval %v..%v, want the 2nd and 9th of %v", lo, hi, sorted)
	}
	lo, med, hi := num("throughput_rps_ci_low"), num("throughput_rps"), num("throughput_rps_ci_high")
	if !(lo <= med && med <= hi) || lo != 2000-5*sorted[8] || hi != 2000-5*sorted[1] {
		t.Errorf("throughput %v ≤ %v ≤ %v, want the 2nd and 9th order statistics around the median", lo, med, hi)
	}
	if c["status"] != result.StatusFailed {
		t.Errorf("status %q: a failed repeat fails the scenario", c["status"])
	}

	// Three repeats: too few for 95%, the range.
	c = cells(result.Median(reps[:3]))
	if c["repeats"] != "3" || c["p99_ms_ci_low"] != "104.000" || c["p99_ms_ci_high"] != "131.000" || c["p99_ms"] != "122.000" {
		t.Errorf("3 repeats: %s [%s, %s] of %s", c["p99_ms"], c["p99_ms_ci_low"], c["p99_ms_ci_high"], c["repeats"])
	}
	// One run: repeats 1, no interval.
	c = cells(reps[0])
	for _, col := range RepeatColumns[1:] {
		if c[col] != "" {
			t.Errorf("one run: %s = %q, want empty", col, c[col])
		}
	}
	if c["repeats"] != "1" {
		t.Errorf("one run: repeats = %q", c["repeats"])
	}
}
