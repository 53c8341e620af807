package result

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// sortedMiddle is the naive median: sort, take the middle (mean of the two
// middle values of an even count).
func sortedMiddle(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func repeatOf(k int, p99 time.Duration, rps float64, requests uint64, mem int64, ooms int) Outcome {
	start := time.Date(2026, 12, 1, 10, k, 0, 0, time.UTC)
	return Outcome{
		Scenario: Scenario{ID: "a-x", Repeat: 5}, Status: StatusOK, Repeat: k,
		Started: start, Ended: start.Add(30 * time.Second),
		Load: Load{
			Requests: requests, ThroughputRPS: rps, SuccessRatio: 1,
			Latency: Latency{P50: p99 / 10, P99: p99, Max: 2 * p99},
			Series:  []Second{{T: 0, Requests: uint64(k)}},
			Stream:  &Stream{TTFT: Latency{P99: p99 / 2}, OutputTokens: requests * 10},
		},
		Resources: Resources{PeakMemBytes: mem, OOMKills: ooms},
		Phases:    Phases{Up: time.Duration(k) * time.Second},
	}
}

func TestMedian(t *testing.T) {
	reps := []Outcome{
		repeatOf(1, 120*time.Millisecond, 900, 9000, 300, 0),
		repeatOf(2, 100*time.Millisecond, 1000, 10000, 100, 0),
		repeatOf(3, 140*time.Millisecond, 800, 8000, 500, 1),
		repeatOf(4, 110*time.Millisecond, 1100, 11000, 200, 0),
		repeatOf(5, 130*time.Millisecond, 700, 7000, 400, 0),
	}
	o := Median(reps)
	col := func(f func(Outcome) float64) []float64 {
		var v []float64
		for _, r := range reps {
			v = append(v, f(r))
		}
		return v
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"p99", float64(o.Load.Latency.P99), sortedMiddle(col(func(r Outcome) float64 { return float64(r.Load.Latency.P99) }))},
		{"p50", float64(o.Load.Latency.P50), sortedMiddle(col(func(r Outcome) float64 { return float64(r.Load.Latency.P50) }))},
		{"throughput", o.Load.ThroughputRPS, sortedMiddle(col(func(r Outcome) float64 { return r.Load.ThroughputRPS }))},
		{"requests", float64(o.Load.Requests), sortedMiddle(col(func(r Outcome) float64 { return float64(r.Load.Requests) }))},
		{"peak memory", float64(o.Resources.PeakMemBytes), sortedMiddle(col(func(r Outcome) float64 { return float64(r.Resources.PeakMemBytes) }))},
		{"ttft p99", float64(o.Load.Stream.TTFT.P99), sortedMiddle(col(func(r Outcome) float64 { return float64(r.Load.Stream.TTFT.P99) }))},
		{"phase up", float64(o.Phases.Up), 3e9},
		{"OOM kills, summed", float64(o.Resources.OOMKills), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// The median repeat by p99 is repeat 1 (120ms): its series is shown.
	if o.MedianRepeat != 1 || o.Load.Series[0].Requests != 1 {
		t.Errorf("median repeat %d, series %+v: want repeat 1's", o.MedianRepeat, o.Load.Series)
	}
	if o.Status != StatusOK || o.Error != "" || len(o.Repeats) != 5 || o.Repeat != 0 {
		t.Errorf("status %q error %q repeats %d repeat %d", o.Status, o.Error, len(o.Repeats), o.Repeat)
	}
	if !o.Started.Equal(reps[0].Started) || !o.Ended.Equal(reps[4].Ended) {
		t.Errorf("span %v..%v, want the first start and the last end", o.Started, o.Ended)
	}
	if reps[0].Load.Stream.TTFT.P99 != 60*time.Millisecond {
		t.Error("Median changed a repeat's stream figures: the pointer is shared")
	}
}

func TestMedianEvenAndFailed(t *testing.T) {
	a := repeatOf(1, 100*time.Millisecond, 1000, 10000, 100, 0)
	b := repeatOf(2, 200*time.Millisecond, 800, 8000, 300, 0)
	c := repeatOf(3, 0, 0, 0, 0, 0)
	c.Status, c.Error, c.Load = StatusFailed, "stack did not come up", Load{}
	d := repeatOf(4, 900*time.Millisecond, 10, 100, 900, 2)
	d.Status, d.Error = StatusFailed, "teardown: timeout"
	o := Median([]Outcome{a, b, c, d})
	if o.Load.Latency.P99 != 150*time.Millisecond || o.Load.ThroughputRPS != 900 || o.Load.Requests != 9000 {
		t.Errorf("medians over the two ok repeats: p99 %v, throughput %v, requests %d; want 150ms, 900, 9000", o.Load.Latency.P99, o.Load.ThroughputRPS, o.Load.Requests)
	}
	if o.Status != StatusFailed || !strings.Contains(o.Error, "repeat 3 of 4: stack did not come up") || !strings.Contains(o.Error, "repeat 4 of 4: teardown: timeout") {
		t.Errorf("status %q error %q: want failed, naming repeats 3 and 4", o.Status, o.Error)
	}
	if o.Resources.OOMKills != 2 {
		t.Errorf("OOM kills %d, want 2: a failed repeat's kills count too", o.Resources.OOMKills)
	}
	if o.MedianRepeat != 1 {
		t.Errorf("median repeat %d, want 1 (the lower of the two ok ones)", o.MedianRepeat)
	}
	none := Median([]Outcome{c})
	if none.Status != StatusFailed || none.Load.Requests != 0 || none.MedianRepeat != 3 {
		t.Errorf("no repeat measured: %+v", none)
	}
	if z := Median(nil); z.Status != "" || z.Repeats != nil {
		t.Errorf("Median(nil) = %+v", z)
	}
}
