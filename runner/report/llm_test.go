package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// ostream builds an ok outcome of a streaming open-model scenario at rate/s with
// TTFT p50 and p99 in ms, goodput in requests per second (negative: no
// slo.goodput) and requests in flight at peak.
func ostream(replicas int, cpus float64, balancer string, rate, p50ms, p99ms, goodput float64, inFlight int) result.Outcome {
	id := fmt.Sprintf("b-r%d-cpu%g-%s-rate%g", replicas, cpus, balancer, rate)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	o := result.Outcome{
		Scenario: result.Scenario{ID: id, Block: "b", Replicas: replicas, CPUs: cpus, MemoryBytes: 256 << 20,
			Balancer: balancer, Rate: fmt.Sprintf("%g/s", rate), Duration: 10 * time.Second},
		Status: result.StatusOK,
		Load: result.Load{Requests: uint64(10 * rate), RateRPS: rate, RequestedRPS: rate, ThroughputRPS: rate, SuccessRatio: 1,
			PeakInFlight: inFlight,
			Stream: &result.Stream{TTFT: result.Percentiles{P50: ms(p50ms), P99: ms(p99ms)},
				OutputTokens: uint64(480 * rate), Streams: uint64(10 * rate)}},
	}
	if goodput >= 0 {
		o.Load.Goodput = &result.GoodputResult{RPS: goodput}
	}
	return o
}

// failing marks share of o's requests failed.
func failing(o result.Outcome, share float64) result.Outcome {
	o.Load.SuccessRatio = 1 - share
	return o
}

func TestLLMFindingsOnlyWhenStreaming(t *testing.T) {
	plain := oc("a", 1, 1, 100, "client", 10, 5, 10)
	if fs := LLMFindings([]result.Outcome{plain}, 2); fs != nil {
		t.Errorf("findings for a run that did not stream:\n%s", texts(fs))
	}
	streaming := ostream(1, 1, "client", 3, 30, 60, 3, 2)
	fs := Findings(result.Run{}, []result.Outcome{plain, streaming})
	for _, rule := range []string{RuleTTFTKnee, RuleGoodputCPU, RuleKVMemory} {
		if !strings.Contains(texts(fs), rule+": ") {
			t.Errorf("Findings of a streaming run lack rule %s:\n%s", rule, texts(fs))
		}
	}
}

func TestTTFTKnee(t *testing.T) {
	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{
			name: "p50 and p99 depart at different rates",
			in: []result.Outcome{ // out of order: sorted by rate
				ostream(1, 1, "client", 12, 200, 900, 10, 8), ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 1, "client", 6, 50, 150, 6, 4),
			},
			want: []string{"1 replica × 1 CPU × 256MiB, balancer client: at 3/s TTFT p50 is 30.0 ms and p99 60.0 ms",
				"p50 departs between 6/s and 12/s (50.0 ms → 200 ms)", "p99 departs between 3/s and 6/s (60.0 ms → 150 ms)"},
			notWant: []string{"noisy"},
		},
		{
			name: "exactly twice is not a departure",
			in:   []result.Outcome{ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 1, "client", 6, 60, 120, 6, 4)},
			want: []string{"p50 holds up to 6/s, the highest rate tried (60.0 ms)", "p99 holds up to 6/s"},
		},
		{
			name: "failed requests depart even with a low TTFT",
			in:   []result.Outcome{ostream(2, 0.5, "client", 3, 30, 60, 3, 2), failing(ostream(2, 0.5, "client", 6, 35, 70, 2, 40), 0.3)},
			want: []string{"p50 departs between 3/s and 6/s (30.0 ms → 35.0 ms, 30.0% of requests failed)"},
		},
		{
			name: "a dip back under twice is called noisy",
			in:   []result.Outcome{ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 1, "client", 6, 90, 100, 6, 4), ostream(1, 1, "client", 12, 40, 110, 12, 6)},
			want: []string{"p50 departs between 3/s and 6/s", "back under 2× at 12/s (40.0 ms): a noisy knee", "p99 holds up to 12/s"},
		},
		{
			name: "configurations are kept apart",
			in: []result.Outcome{ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 0.5, "client", 3, 40, 80, 3, 2),
				ostream(1, 1, "client", 6, 31, 61, 6, 3), ostream(1, 0.5, "client", 6, 400, 800, 2, 30)},
			want: []string{"1 replica × 1 CPU × 256MiB, balancer client: at 3/s TTFT p50 is 30.0 ms and p99 60.0 ms; p50 holds up to 6/s",
				"1 replica × 0.5 CPUs × 256MiB, balancer client: at 3/s TTFT p50 is 40.0 ms and p99 80.0 ms; p50 departs between 3/s and 6/s"},
		},
		{
			name: "one rate per configuration",
			in:   []result.Outcome{ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 0.5, "client", 6, 30, 60, 3, 2)},
			want: []string{"No configuration streamed at two or more fixed rates"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, TTFTKnee(tt.in), tt.want, tt.notWant) })
	}
}

func TestGoodputPerCPU(t *testing.T) {
	search := ostream(4, 2, "proxy:least_conn", 2, 30, 60, 20, 10)
	search.Scenario.Rate, search.Scenario.Search = "", "2/s..32/s"
	search.Load.Capacity = &result.Capacity{RPS: 20, FromRPS: 2, ToRPS: 32}
	search.Load.RequestedRPS, search.Load.RateRPS = 20, 23 // its Poisson window drew more
	unlimited := ostream(1, 0, "client", 6, 30, 60, 5.5, 3)
	in := []result.Outcome{
		ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 1, "client", 12, 30, 60, 11, 2), ostream(1, 1, "client", 24, 900, 3000, 4, 90),
		ostream(2, 0.5, "client", 12, 30, 60, 9, 2), search, unlimited,
	}
	fs := GoodputPerCPU(in, 2)
	check(t, fs, []string{
		"1× 1 CPU 256MiB client: **11.0/s per CPU** (11.0/s over 1 CPU, at 12/s); 2× 0.5 CPU 256MiB client: **9.0/s per CPU**",
		"4× 2 CPU 256MiB proxy:least_conn: **2.5/s per CPU** (20.0/s over 8 CPUs, at search step 20.0/s, which sent 23.0/s), 10.0/s per CPU of the host's 2 it shares",
		"1× unlimited CPU 256MiB client: 5.5/s with unlimited CPUs (at 6/s).",
		"The most efficient served 4.4× the goodput per CPU of the least.",
	}, []string{"4.0/s at 24/s"})
	if got := strings.Index(texts(fs), "1× 1 CPU"); got > strings.Index(texts(fs), "2× 0.5 CPU") {
		t.Errorf("not sorted from the most goodput per CPU:\n%s", texts(fs))
	}
	check(t, GoodputPerCPU([]result.Outcome{ostream(1, 1, "client", 3, 30, 60, -1, 2)}, 2), []string{"No scenario measured goodput"}, nil)
}

func TestLeastConn(t *testing.T) {
	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{
			name: "least_conn wins on goodput and TTFT p99",
			in: []result.Outcome{
				ostream(4, 0.5, "client", 3, 30, 60, 3, 2), ostream(4, 0.5, "proxy:least_conn", 3, 31, 62, 3, 2),
				ostream(4, 0.5, "client", 12, 100, 900, 8, 20), ostream(4, 0.5, "proxy:least_conn", 12, 80, 400, 10, 15),
				ostream(4, 0.5, "client", 24, 300, 3000, 5, 60), ostream(4, 0.5, "proxy:least_conn", 24, 250, 1500, 5, 50),
			},
			want: []string{"4 × 0.5 CPUs × 256MiB, answers of 48 tokens on average: least_conn beat round-robin (balancer client): better at 2 of 3 rates, worse at 0",
				"3/s: goodput 3.0/s vs 3.0/s, TTFT p99 62.0 vs 60.0 ms; 12/s: goodput 10.0/s vs 8.0/s, TTFT p99 400 vs 900 ms",
				"include the proxy's own hop"},
		},
		{
			name: "round-robin wins",
			in: []result.Outcome{
				ostream(2, 0.5, "proxy", 6, 30, 60, 6, 2), ostream(2, 0.5, "proxy:least_conn", 6, 40, 200, 4, 5),
			},
			want:    []string{"least_conn lost to round-robin (balancer proxy): better at 0 of 1 rates, worse at 1"},
			notWant: []string{"own hop"},
		},
		{
			name: "within the thresholds is no difference",
			in: []result.Outcome{
				ostream(2, 0.5, "client", 6, 30, 100, 6, 2), ostream(2, 0.5, "proxy:least_conn", 6, 30, 105, 6.2, 2),
			},
			want: []string{"least_conn made no clear difference to round-robin"},
		},
		{
			name: "different limits are not twins",
			in:   []result.Outcome{ostream(2, 1, "client", 6, 30, 60, 6, 2), ostream(2, 0.5, "proxy:least_conn", 6, 30, 60, 6, 2)},
			want: []string{"has a round-robin twin"},
		},
		{
			name: "without goodput, successful requests",
			in:   []result.Outcome{ostream(2, 1, "client", 6, 30, 60, -1, 2), ostream(2, 1, "proxy:least_conn", 6, 30, 60, -1, 2)},
			want: []string{"6/s: successful 6.0/s vs 6.0/s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, LeastConn(tt.in), tt.want, tt.notWant) })
	}
	if fs := LeastConn([]result.Outcome{ostream(2, 1, "client", 6, 30, 60, 6, 2)}); fs != nil {
		t.Errorf("a finding without any least_conn scenario:\n%s", texts(fs))
	}
}

func TestKVMemory(t *testing.T) {
	const base, perStream = 20 << 20, 400 << 10
	at := func(replicas, inFlight int, memBytes int64) result.Outcome {
		o := ostream(replicas, 1, "client", float64(inFlight), 30, 60, 1, inFlight)
		o.Resources.PeakMemBytes = memBytes
		return o
	}
	exact := []result.Outcome{
		at(1, 2, base+2*perStream), at(1, 10, base+10*perStream), at(2, 40, base+20*perStream), // 20 per replica
		failing(at(1, 200, base), 0.5), // turned away: left out
	}
	want := func(n int64) string { return bytesLabel(base + n*perStream) }
	check(t, KVMemory(exact), []string{"grew by **400KiB per concurrent stream** from 20MiB", "least squares over 3 streaming scenarios",
		"R² 1.00", "16 streams " + want(16) + ", 64 streams " + want(64) + ", 256 streams " + want(256),
		"The most measured was 20 streams per replica at " + want(20),
		"The replicas' limit of 256MiB would hold about 604 streams.", // (256 - 20) MiB / 400 KiB
		"Left out: 1 scenario with more failed requests"}, []string{"200 streams"})

	flat := []result.Outcome{at(1, 2, base), at(1, 10, base), at(1, 30, base-1<<20)}
	check(t, KVMemory(flat), []string{"did not grow with the streams in flight"}, []string{"per concurrent stream"})

	few := []result.Outcome{at(1, 2, base), at(1, 2, base+1<<20), at(1, 2, base)}
	check(t, KVMemory(few), []string{"3 streaming scenarios", "at 1 concurrency: too few"}, nil)
}

func TestFitLine(t *testing.T) {
	ps := []kvPoint{{streams: 1, mem: 3}, {streams: 2, mem: 5.5}, {streams: 3, mem: 6.5}, {streams: 5, mem: 11}}
	// By hand: means 2.75 and 6.5, Sxx 8.75, Sxy 17, Syy 33.5; b = Sxy/Sxx,
	// a = 6.5 - 2.75b, r² = Sxy²/(Sxx·Syy).
	a, b, r2 := fitLine(ps)
	if math.Abs(b-17/8.75) > 1e-12 || math.Abs(a-(6.5-2.75*17/8.75)) > 1e-12 || math.Abs(r2-289/293.125) > 1e-12 {
		t.Errorf("fit a=%v b=%v r2=%v, want a=1.1571 b=1.9429 r2=0.9859", a, b, r2)
	}
}

func TestCheapest(t *testing.T) {
	pass := func(o result.Outcome) result.Outcome { return withSLO(o, true) }
	miss := func(o result.Outcome) result.Outcome { return withSLO(o, false, "ttft p95 2s > 500ms") }
	short := pass(ostream(1, 0.5, "client", 12, 30, 60, 12, 3))
	short.Load.Shortfall = true
	in := []result.Outcome{
		pass(ostream(1, 1, "client", 3, 30, 60, 3, 2)), pass(ostream(1, 0.5, "client", 3, 30, 60, 3, 2)), pass(ostream(2, 0.5, "client", 3, 30, 60, 3, 2)),
		miss(ostream(1, 0.5, "client", 6, 900, 2000, 3, 9)), pass(ostream(2, 0.5, "client", 6, 30, 60, 6, 2)), pass(ostream(1, 1, "client", 6, 30, 60, 6, 2)),
		short, pass(ostream(4, 0.5, "client", 12, 30, 60, 12, 2)), miss(ostream(1, 1, "client", 12, 900, 2000, 6, 40)),
		miss(ostream(4, 0.5, "client", 24, 900, 2000, 6, 40)),
	}
	check(t, Cheapest(in), []string{
		"3/s: **1× 0.5 CPU 256MiB client** (0.5 CPUs in total; 3 of 3 met the SLO)",
		"6/s: **1× 1 CPU 256MiB client** (1 CPU in total; 2 of 3 met the SLO)", // 1 replica before 2 at the same CPUs
		"12/s: **4× 0.5 CPU 256MiB client** (2 CPUs in total; 1 of 3 met the SLO)",
		"24/s: none of 1 configuration",
	}, []string{"12/s: **1× 0.5"})
	if fs := Cheapest([]result.Outcome{ostream(1, 1, "client", 3, 30, 60, 3, 2)}); fs != nil {
		t.Errorf("a cheapest configuration without an SLO:\n%s", texts(fs))
	}
}

func TestStreamBlockCharts(t *testing.T) {
	dataOf := func(os ...result.Outcome) *block {
		d := &Data{}
		for _, o := range os {
			d.Scenarios = append(d.Scenarios, Scenario{Outcome: o})
		}
		return blocks(d)[0]
	}
	bl := dataOf(ostream(1, 1, "client", 3, 30, 60, 3, 2), ostream(1, 1, "client", 6, 50, 900, 5, 4), ostream(2, 0.5, "client", 6, 40, 80, 6, 4))
	cs := streamBlockCharts(bl)
	if len(cs) != 3 || cs[1].Title != "TTFT p99 vs load, block b" || cs[2].Title != "goodput vs load, block b" {
		t.Fatalf("charts %+v, want TTFT p50, p99 and goodput", cs)
	}
	// One series per configuration, one point per level; 2 × 0.5 has none at 3/s.
	if s := cs[1].Series; len(s) != 2 || s[0].Points[1].Y != 900 || !math.IsNaN(s[1].Points[0].Y) || s[1].Points[1].Y != 80 {
		t.Errorf("TTFT p99 series %+v", s)
	}
	if p, err := ttftBlockPlot(bl); err != nil || p == nil {
		t.Errorf("ttftBlockPlot: %v", err)
	}
	noGoodput := dataOf(ostream(1, 1, "client", 3, 30, 60, -1, 2))
	if cs := streamBlockCharts(noGoodput); len(cs) != 2 {
		t.Errorf("%d charts without goodput, want TTFT p50 and p99 only", len(cs))
	}
	plain := dataOf(oc("a", 1, 1, 100, "client", 10, 5, 10))
	if cs := streamBlockCharts(plain); cs != nil {
		t.Errorf("charts for a block that does not stream: %+v", cs)
	}
	if _, err := ttftBlockPlot(plain); err != errNoData {
		t.Errorf("ttftBlockPlot of a block that does not stream: %v, want errNoData", err)
	}
}
