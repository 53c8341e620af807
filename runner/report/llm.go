package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Finding rules of streaming (generative) services: they apply when at least
// one scenario streamed (request.stream: sse).
const (
	RuleTTFTKnee   = "ttft_knee"
	RuleGoodputCPU = "goodput_per_cpu"
	RuleLeastConn  = "least_conn"
	RuleKVMemory   = "kv_memory"
	RuleCheapest   = "cheapest_at_rate"
)

// llmRuleTitles are the headings of the streaming rules' findings in report.md.
var llmRuleTitles = []struct{ rule, title string }{
	{RuleTTFTKnee, "Where time to first token departs"}, {RuleGoodputCPU, "Goodput per CPU"},
	{RuleLeastConn, "Least connections against round-robin"}, {RuleKVMemory, "Memory for the KV cache"},
	{RuleCheapest, "Cheapest configuration per rate"},
}

// Thresholds of the streaming rules.
const (
	// kneeFactor: TTFT has departed at the first rate where its percentile
	// exceeds kneeFactor times its value at the lowest rate of the sweep.
	kneeFactor = 2.0
	// kneeErrorRate: a rate at which more than this share of the requests
	// failed has departed too, since the TTFT of the survivors understates it.
	kneeErrorRate = 0.10
	// kvErrorRate: scenarios with more failed requests than this are left out
	// of the memory fit: requests turned away hold no cache.
	kvErrorRate = 0.01
)

// kvStreams are the numbers of concurrent streams per replica the memory
// finding gives a limit for.
var kvStreams = []int{16, 64, 256}

// streamed reports whether o measured streamed answers.
func streamed(o result.Outcome) bool { return measured(o) && o.Load.Stream != nil }

// LLMFindings applies the streaming rules to a run's outcomes; hostCPUs, when
// known, tells which configurations ask for more CPUs than the host has. It
// returns nil when no scenario streamed.
func LLMFindings(outcomes []result.Outcome, hostCPUs int) []Finding {
	if !slices.ContainsFunc(outcomes, streamed) {
		return nil
	}
	var out []Finding
	out = append(out, TTFTKnee(outcomes)...)
	out = append(out, GoodputPerCPU(outcomes, hostCPUs)...)
	out = append(out, LeastConn(outcomes)...)
	out = append(out, KVMemory(outcomes)...)
	out = append(out, Cheapest(outcomes)...)
	return out
}

// sweep is one configuration's open-model scenarios at fixed rates, from the
// lowest rate to the highest (one scenario per rate, the first in plan order).
type sweep struct {
	Config config
	Points []result.Outcome
}

// atFixedRate reports whether o measured an open-model load at one rate: not
// a ramp, not a capacity search.
func atFixedRate(o result.Outcome) bool {
	s := o.Scenario
	return measured(o) && s.Search == "" && !searched(o) && loadLevel(s, o.Load).Model == modelOpen && !strings.Contains(s.Rate, "..")
}

// sweeps groups the measured scenarios at fixed rates by configuration, in
// order of first appearance.
func sweeps(outcomes []result.Outcome) []sweep {
	var out []sweep
	at := map[config]int{}
	for _, o := range outcomes {
		if !atFixedRate(o) {
			continue
		}
		c := configOf(o.Scenario)
		i, ok := at[c]
		if !ok {
			i = len(out)
			at[c] = i
			out = append(out, sweep{Config: c})
		}
		s := &out[i]
		if !slices.ContainsFunc(s.Points, func(p result.Outcome) bool { return loadValue(p) == loadValue(o) }) {
			s.Points = append(s.Points, o)
		}
	}
	for i := range out {
		slices.SortStableFunc(out[i].Points, func(a, b result.Outcome) int { return cmp.Compare(loadValue(a), loadValue(b)) })
	}
	return out
}

// ttftOf is a TTFT percentile of o (0 without streamed answers).
func ttftOf(o result.Outcome, p99 bool) time.Duration {
	st := o.Load.Stream
	switch {
	case st == nil:
		return 0
	case p99:
		return st.TTFT.P99
	}
	return st.TTFT.P50
}

// knee describes where one TTFT percentile of a sweep departs from its value
// at the sweep's lowest rate.
func knee(s sweep, p99 bool) string {
	name := "p50"
	if p99 {
		name = "p99"
	}
	pts := s.Points
	base := ttftOf(pts[0], p99)
	limit := time.Duration(kneeFactor * float64(base))
	for i := 1; i < len(pts); i++ {
		o := pts[i]
		v := ttftOf(o, p99)
		er := errorRate(o.Load)
		if v <= limit && er <= kneeErrorRate && o.Load.Stream != nil {
			continue
		}
		what := msLabel(v) + " ms"
		switch {
		case o.Load.Stream == nil:
			what = "no answer streamed"
		case er > kneeErrorRate:
			what += ", " + pctLabel(er) + " of requests failed"
		}
		text := fmt.Sprintf("%s departs between %s and %s (%s ms → %s)", name, loadLevel(pts[i-1].Scenario, pts[i-1].Load).Label,
			loadLevel(o.Scenario, o.Load).Label, msLabel(ttftOf(pts[i-1], p99)), what)
		for _, later := range pts[i+1:] {
			if v := ttftOf(later, p99); v > 0 && v <= limit && errorRate(later.Load) <= kneeErrorRate {
				text += fmt.Sprintf(" but is back under %g× at %s (%s ms): a noisy knee, run it again", kneeFactor, loadLevel(later.Scenario, later.Load).Label, msLabel(v))
				break
			}
		}
		return text
	}
	last := pts[len(pts)-1]
	return fmt.Sprintf("%s holds up to %s, the highest rate tried (%s ms)", name, loadLevel(last.Scenario, last.Load).Label, msLabel(ttftOf(last, p99)))
}

// TTFTKnee states, for each configuration swept over at least two rates, the
// rates between which the time to first token departs: its p50 and p99 rise
// above kneeFactor times their values at the lowest rate, or more than
// kneeErrorRate of the requests fail.
func TTFTKnee(outcomes []result.Outcome) []Finding {
	var out []Finding
	for _, s := range sweeps(outcomes) {
		if len(s.Points) < 2 {
			continue
		}
		ids := make([]string, len(s.Points))
		for i, o := range s.Points {
			ids[i] = o.Scenario.ID
		}
		low := s.Points[0]
		lowLabel := loadLevel(low.Scenario, low.Load).Label
		var text string
		if low.Load.Stream == nil || low.Load.Stream.TTFT.P50 <= 0 {
			text = fmt.Sprintf("%s: no answer streamed at the lowest rate, %s, so TTFT has no low-load value to depart from.", s.Config, lowLabel)
		} else {
			text = fmt.Sprintf("%s: at %s TTFT p50 is %s ms and p99 %s ms; %s; %s.", s.Config, lowLabel,
				msLabel(low.Load.Stream.TTFT.P50), msLabel(low.Load.Stream.TTFT.P99), knee(s, false), knee(s, true))
		}
		out = append(out, Finding{Rule: RuleTTFTKnee, Text: text, Scenarios: ids})
	}
	if len(out) == 0 {
		out = append(out, Finding{Rule: RuleTTFTKnee, Text: fmt.Sprintf(
			"No configuration streamed at two or more fixed rates, so the rate at which TTFT departs (beyond %g× its low-load value) was not measured; sweep `rate` in a block.", kneeFactor)})
	}
	return out
}

// bestGoodput is the scenario of c with the highest goodput among outcomes.
func bestGoodput(outcomes []result.Outcome) (result.Outcome, bool) {
	var best result.Outcome
	found := false
	for _, o := range outcomes {
		if !measured(o) || o.Load.Goodput == nil {
			continue
		}
		if !found || o.Load.Goodput.RPS > best.Load.Goodput.RPS {
			best, found = o, true
		}
	}
	return best, found
}

// goodputWhere says at what load o measured its goodput, and the rate it sent
// when that strays more than 5% from the rate asked (a short Poisson window).
func goodputWhere(o result.Outcome) string {
	where := loadLevel(o.Scenario, o.Load).Label
	if c := o.Load.Capacity; c != nil {
		where = "search step " + rpsLabel(c.RPS)
	}
	if l := o.Load; l.RequestedRPS > 0 && math.Abs(l.RateRPS-l.RequestedRPS) > 0.05*l.RequestedRPS {
		where += ", which sent " + rpsLabel(l.RateRPS)
	}
	return where
}

// GoodputPerCPU states, for every configuration with goodput (slo.goodput) and a
// CPU limit, the highest goodput any of its scenarios measured (fixed rates and
// capacity-search steps alike) over the CPUs of all its replicas, from the most
// to the least per CPU; configurations asking for more CPUs than the host's
// hostCPUs are also given per host CPU.
func GoodputPerCPU(outcomes []result.Outcome, hostCPUs int) []Finding {
	byConfig := map[config][]result.Outcome{}
	var order []config
	for _, o := range outcomes {
		c := configOf(o.Scenario)
		if _, ok := byConfig[c]; !ok {
			order = append(order, c)
		}
		byConfig[c] = append(byConfig[c], o)
	}
	type row struct {
		c       config
		best    result.Outcome
		perCPU  float64
		limited bool
	}
	var rows []row
	for _, c := range order {
		if b, ok := bestGoodput(byConfig[c]); ok {
			r := row{c: c, best: b, limited: c.CPUs > 0}
			if r.limited {
				r.perCPU = b.Load.Goodput.RPS / c.totalCPUs()
			}
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return []Finding{{Rule: RuleGoodputCPU, Text: "No scenario measured goodput (set `slo.goodput` with per-request TTFT and TPOT limits), so goodput per CPU was not computed."}}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(-cmp.Compare(boolInt(a.limited), boolInt(b.limited)), -cmp.Compare(a.perCPU, b.perCPU))
	})
	parts := make([]string, len(rows))
	var ids []string
	for i, r := range rows {
		g := r.best.Load.Goodput.RPS
		if !r.limited {
			parts[i] = fmt.Sprintf("%s: %s with unlimited CPUs (at %s)", shortConfig(r.c), rpsLabel(g), goodputWhere(r.best))
		} else {
			parts[i] = fmt.Sprintf("%s: **%s per CPU** (%s over %s, at %s)", shortConfig(r.c), rpsLabel(r.perCPU), rpsLabel(g), cpusLabel(r.c.totalCPUs()), goodputWhere(r.best))
			if hostCPUs > 0 && r.c.totalCPUs() > float64(hostCPUs) {
				parts[i] += fmt.Sprintf(", %s per CPU of the host's %d it shares", rpsLabel(g/float64(hostCPUs)), hostCPUs)
			}
		}
		ids = append(ids, r.best.Scenario.ID)
	}
	text := "Goodput per CPU, the highest goodput each configuration measured over the CPU limit of all its replicas, most first: " + strings.Join(parts, "; ") + "."
	if lim := slices.DeleteFunc(slices.Clone(rows), func(r row) bool { return !r.limited }); len(lim) > 1 && lim[len(lim)-1].perCPU > 0 {
		text += fmt.Sprintf(" The most efficient served %.1f× the goodput per CPU of the least.", lim[0].perCPU/lim[len(lim)-1].perCPU)
	}
	return []Finding{{Rule: RuleGoodputCPU, Text: text, Scenarios: ids}}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
