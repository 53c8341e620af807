package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// openRun is one run at a fixed arrival rate (or the closed-model reference
// at about that rate).
type openRun struct {
	kind     string // "open", "closed", "vegeta"
	rate     float64
	achieved float64 // requests sent per second
	success  float64 // 0..1
	p50, p99 time.Duration
	lag50    time.Duration
	lag99    time.Duration
	peak     int // requests in flight
	cap      int
	short    bool
	bound    bool // the runner's GeneratorBound
	fdErrors uint64
	rss      int64
	cpu      time.Duration
}

// openRates are the rates of the open-model goals: 1,000/s, 5,000/s, half of
// wrk's ceiling and 100,000/s.
func openRates(wrkMax float64) []float64 {
	half := 35000.0
	if wrkMax > 0 {
		half = float64(int(wrkMax/2/1000)) * 1000
	}
	return []float64{1000, 5000, half, 100000}
}

// openRuns measures the open model at each rate, with the closed model and
// the vegeta CLI next to it at the two low rates.
func openRuns(o options, url string, rates []float64) ([]openRun, error) {
	var out []openRun
	for run := 1; run <= o.runs; run++ {
		for i, rate := range rates {
			kinds := []string{"open"}
			if i < 2 {
				kinds = []string{"open", "closed", "vegeta"}
			} else if i == 2 {
				kinds = []string{"open", "vegeta"}
			}
			for _, kind := range kinds {
				r, err := openOne(o, url, kind, rate)
				if err != nil {
					return nil, fmt.Errorf("%s at %.0f/s, run %d: %w", kind, rate, run, err)
				}
				fmt.Fprintf(os.Stderr, "open run %d %-6s %6.0f/s: sent %8.0f/s ok %.4f p50 %8s p99 %8s lag p99 %8s in flight %d/%d rss %.0f MiB\n",
					run, kind, rate, r.achieved, r.success, r.p50, r.p99, r.lag99, r.peak, r.cap, float64(r.rss)/(1<<20))
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func openOne(o options, url, kind string, rate float64) (openRun, error) {
	r := openRun{kind: kind, rate: rate}
	rateArg := strconv.FormatFloat(rate, 'f', -1, 64)
	switch kind {
	case "open", "closed":
		args := []string{"load", "-url", url, "-duration", o.openDuration.String(), "-warmup", "1s"}
		if kind == "open" {
			args = append(args, "-rate", rateArg)
		} else {
			// Users each sending once per ms and 1ms of think: about rate/s.
			args = append(args, "-users", strconv.Itoa(max(int(rate/1000), 1)), "-think-min", "1ms", "-think-max", "1ms")
		}
		out, ru, err := child(o.cpuLoad, o.self, args...)
		if err != nil {
			return r, err
		}
		var l result.Load
		if err := json.Unmarshal(out, &l); err != nil {
			return r, err
		}
		r.achieved, r.success, r.p50, r.p99 = l.RateRPS, l.SuccessRatio, l.Latency.P50, l.Latency.P99
		r.lag50, r.lag99, r.peak, r.cap, r.short, r.bound = l.SendLagP50, l.SendLagP99, l.PeakInFlight, l.MaxInFlight, l.Shortfall, l.GeneratorBound
		for msg, n := range l.Errors {
			if strings.Contains(msg, "too many open files") {
				r.fdErrors += n
			}
		}
		r.rss, r.cpu = ru.Maxrss<<10, cpuOf(ru)
	case "vegeta":
		return vegetaAt(o, url, rate)
	}
	return r, nil
}

// vegetaAt runs the vegeta CLI at rate; its latencies are from the actual send.
func vegetaAt(o options, url string, rate float64) (openRun, error) {
	r := openRun{kind: "vegeta", rate: rate}
	targets := filepath.Join(o.out, "targets.txt")
	if err := os.WriteFile(targets, []byte("GET "+url+"/predict\n"), 0o644); err != nil {
		return r, err
	}
	raw := filepath.Join(o.out, "vegeta-open.gob")
	_, ru, err := child(o.cpuLoad, o.vegeta, "attack", "-rate="+strconv.FormatFloat(rate, 'f', -1, 64),
		"-duration="+o.openDuration.String(), "-targets="+targets, "-output="+raw)
	if err != nil {
		return r, err
	}
	rep, err := exec.Command(o.vegeta, "report", "-type=json", raw).Output()
	if err != nil {
		return r, err
	}
	var v struct {
		Rate      float64 `json:"rate"`
		Success   float64 `json:"success"`
		Latencies struct {
			P50 time.Duration `json:"50th"`
			P99 time.Duration `json:"99th"`
		} `json:"latencies"`
	}
	if err := json.Unmarshal(rep, &v); err != nil {
		return r, err
	}
	r.achieved, r.success, r.p50, r.p99 = v.Rate, v.Success, v.Latencies.P50, v.Latencies.P99
	r.rss, r.cpu = ru.Maxrss<<10, cpuOf(ru)
	return r, nil
}

// openMedians returns the median run of each kind at each rate (field by field).
func openMedians(runs []openRun, rates []float64) []openRun {
	var out []openRun
	for _, rate := range rates {
		for _, kind := range []string{"open", "closed", "vegeta"} {
			var sel []openRun
			for _, r := range runs {
				if r.kind == kind && r.rate == rate {
					sel = append(sel, r)
				}
			}
			if len(sel) > 0 {
				out = append(out, medianRun(sel))
			}
		}
	}
	return out
}

func medianRun(rs []openRun) openRun {
	m := rs[0]
	f := func(get func(openRun) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = get(r)
		}
		return median(xs)
	}
	d := func(get func(openRun) time.Duration) time.Duration {
		return time.Duration(f(func(r openRun) float64 { return float64(get(r)) }))
	}
	m.achieved = f(func(r openRun) float64 { return r.achieved })
	m.success = f(func(r openRun) float64 { return r.success })
	m.p50, m.p99 = d(func(r openRun) time.Duration { return r.p50 }), d(func(r openRun) time.Duration { return r.p99 })
	m.lag50, m.lag99 = d(func(r openRun) time.Duration { return r.lag50 }), d(func(r openRun) time.Duration { return r.lag99 })
	m.cpu = d(func(r openRun) time.Duration { return r.cpu })
	m.peak = int(f(func(r openRun) float64 { return float64(r.peak) }))
	m.rss = int64(f(func(r openRun) float64 { return float64(r.rss) }))
	for _, r := range rs { // flags and errors: any run counts
		m.short, m.bound, m.fdErrors = m.short || r.short, m.bound || r.bound, m.fdErrors+r.fdErrors
		m.rss = max(m.rss, r.rss)
	}
	return m
}

// openMarkdown writes the open-model table and the goals of issue 18 it checks.
func openMarkdown(p func(string, ...any), o options, med []openRun, rates []float64, wrkMax float64, closedVsWrk, cpuVsWrk float64) {
	p("")
	p("## Open model: fixed arrival rates, %s each after a 1s warm-up", o.openDuration)
	p("")
	p("open: `load.Run` with Rate (latency from the intended send time); closed: rate/1000 users with 1 ms think " +
		"(the same throughput, no schedule to fall behind); vegeta: `attack -rate=R` (latency from the actual send, " +
		"so its own lag is not in it).")
	p("")
	p("| rate | engine | sent/s | success | p50 | p99 | send lag p50 | send lag p99 | in flight (cap) | generator bound | peak RSS | CPU-s |")
	p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
	for _, r := range med {
		inflight, lag50, lag99, bound := "", "", "", ""
		if r.kind == "open" {
			inflight = fmt.Sprintf("%d (%d)", r.peak, r.cap)
			lag50, lag99, bound = dur(r.lag50), dur(r.lag99), strconv.FormatBool(r.bound)
		}
		p("| %.0f/s | %s | %.0f | %.2f%% | %s | %s | %s | %s | %s | %s | %.0f MiB | %.2f |", r.rate, r.kind, r.achieved,
			100*r.success, dur(r.p50), dur(r.p99), lag50, lag99, inflight, bound, float64(r.rss)/(1<<20), r.cpu.Seconds())
	}
	p("")
	openGoals(p, med, rates, wrkMax, closedVsWrk, cpuVsWrk)
}

func openGoals(p func(string, ...any), med []openRun, rates []float64, wrkMax float64, closedVsWrk, cpuVsWrk float64) {
	get := func(kind string, rate float64) openRun {
		for _, r := range med {
			if r.kind == kind && r.rate == rate {
				return r
			}
		}
		return openRun{}
	}
	p("Goals of issue 18 (medians of this run):")
	p("")
	for _, rate := range rates[:2] {
		op, cl := get("open", rate), get("closed", rate)
		diff := op.p50 - cl.p50
		p("- %.0f/s: open p50 within 0.1 ms of the closed model's and p99 <= 2 ms: **%s** (p50 %s vs %s, %+.3f ms; p99 %s).",
			rate, pass(diff <= 100*time.Microsecond && op.p99 <= 2*time.Millisecond), dur(op.p50), dur(cl.p50),
			float64(diff)/1e6, dur(op.p99))
	}
	h := get("open", rates[2])
	p("- %.0f/s (half of wrk's %.0f/s): achieved within 1%%, no errors: **%s** (sent %.0f/s, success %.2f%%).",
		rates[2], wrkMax, pass(h.achieved >= 0.99*rates[2] && h.success == 1), h.achieved, 100*h.success)
	ceil := get("open", rates[3])
	p("- open-model ceiling >= 0.8x wrk's closed-loop maximum: **%s** (%.0f/s sent at 100,000/s asked, %.2fx wrk).",
		pass(wrkMax > 0 && ceil.achieved >= 0.8*wrkMax), ceil.achieved, ceil.achieved/max(wrkMax, 1))
	p("- closed model >= 0.95x wrk at 50 connections, at <= wrk's CPU per request: **%s** (%.2fx paired, %.2fx the CPU per request).",
		pass(closedVsWrk >= 0.95 && cpuVsWrk <= 1), closedVsWrk, cpuVsWrk)
	p("- 100,000/s: shortfall flagged, in flight at most the cap, RSS < 200 MiB, no fd errors: **%s** "+
		"(shortfall %v, in flight %d of %d, RSS %.0f MiB, %d fd errors).",
		pass(ceil.short && ceil.peak <= ceil.cap && ceil.rss < 200<<20 && ceil.fdErrors == 0),
		ceil.short, ceil.peak, ceil.cap, float64(ceil.rss)/(1<<20), ceil.fdErrors)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
