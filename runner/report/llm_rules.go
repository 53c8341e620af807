package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// isLeastConn reports whether a balancer label is the proxy choosing the
// replica with the fewest requests in flight.
func isLeastConn(b string) bool { return b == "proxy:least_conn" }

// isRoundRobin reports whether a balancer label sends requests to the
// replicas in turn: the client, or the proxy with its default policy.
func isRoundRobin(b string) bool { return b == "client" || b == "proxy" || b == "proxy:round_robin" }

// served is o's goodput when it has one, else its successful requests per second.
func served(o result.Outcome) float64 {
	if g := o.Load.Goodput; g != nil {
		return g.RPS
	}
	return o.Load.ThroughputRPS
}

// balancerPair is a round-robin scenario and its least_conn twin.
type balancerPair struct{ rr, lc result.Outcome }

// pairVerdict is +1 when least_conn did better (more served, or a lower TTFT
// p99, and neither worse), -1 when round-robin did, 0 otherwise.
func pairVerdict(p balancerPair) int {
	ds := change(served(p.rr), served(p.lc))
	dt := change(float64(ttftOf(p.rr, true)), float64(ttftOf(p.lc, true)))
	lcBetter := ds > throughputChange || dt < -p99Change
	rrBetter := ds < -throughputChange || dt > p99Change
	switch {
	case lcBetter && !rrBetter:
		return 1
	case rrBetter && !lcBetter:
		return -1
	}
	return 0
}

// balancerPairs groups streaming scenarios balanced by least_conn with their
// round-robin twins (same replicas, limits and fixed rate), by configuration
// and round-robin balancer, in plan order.
func balancerPairs(outcomes []result.Outcome) ([][]balancerPair, bool) {
	type key struct {
		replicas int
		cpus     float64
		mem      int64
		level    string
	}
	keyOf := func(o result.Outcome) key {
		s := o.Scenario
		return key{s.Replicas, s.CPUs, s.MemoryBytes, loadLevel(s, o.Load).Label}
	}
	lcs := map[key]result.Outcome{}
	for _, o := range outcomes {
		if _, dup := lcs[keyOf(o)]; streamed(o) && atFixedRate(o) && isLeastConn(o.Scenario.Balancer) && !dup {
			lcs[keyOf(o)] = o
		}
	}
	type group struct {
		c  config
		rr string
	}
	at := map[group]int{}
	var out [][]balancerPair
	for _, o := range outcomes {
		lc, ok := lcs[keyOf(o)]
		if !ok || !streamed(o) || !atFixedRate(o) || !isRoundRobin(o.Scenario.Balancer) {
			continue
		}
		g := group{configOf(lc.Scenario), o.Scenario.Balancer}
		i, seen := at[g]
		if !seen {
			i = len(out)
			at[g] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], balancerPair{rr: o, lc: lc})
	}
	return out, len(lcs) > 0
}

// LeastConn compares streaming scenarios balanced by the proxy's least_conn
// policy with their round-robin twins (the client, or the proxy in turn) at the
// same replicas, limits and rate, on goodput (successful requests per second
// without slo.goodput) and TTFT p99, and says which balancer did better at how
// many rates.
func LeastConn(outcomes []result.Outcome) []Finding {
	groups, anyLC := balancerPairs(outcomes)
	if len(groups) == 0 {
		if anyLC {
			return []Finding{{Rule: RuleLeastConn, Text: "No streaming scenario balanced by least_conn has a round-robin twin (same replicas, limits and rate, balancer client or proxy), so the two were not compared; add client to the balancer axis."}}
		}
		return nil
	}
	var out []Finding
	for _, ps := range groups {
		slices.SortStableFunc(ps, func(a, b balancerPair) int { return cmp.Compare(loadValue(a.rr), loadValue(b.rr)) })
		var wins, losses int
		var tokens, streams uint64
		parts := make([]string, len(ps))
		var ids []string
		for i, p := range ps {
			switch pairVerdict(p) {
			case 1:
				wins++
			case -1:
				losses++
			}
			for _, o := range []result.Outcome{p.rr, p.lc} {
				tokens, streams = tokens+o.Load.Stream.OutputTokens, streams+o.Load.Stream.Streams
			}
			what := "goodput"
			if p.rr.Load.Goodput == nil || p.lc.Load.Goodput == nil {
				what = "successful"
			}
			parts[i] = fmt.Sprintf("%s: %s %s vs %s, TTFT p99 %s vs %s ms", loadLevel(p.rr.Scenario, p.rr.Load).Label, what,
				rpsLabel(served(p.lc)), rpsLabel(served(p.rr)), msLabel(ttftOf(p.lc, true)), msLabel(ttftOf(p.rr, true)))
			ids = append(ids, p.rr.Scenario.ID, p.lc.Scenario.ID)
		}
		c, rr := configOf(ps[0].lc.Scenario), ps[0].rr.Scenario.Balancer
		verdict := "made no clear difference to"
		switch {
		case wins > losses:
			verdict = "beat"
		case losses > wins:
			verdict = "lost to"
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d × %s × %s, answers of %.0f tokens on average: least_conn %s round-robin (balancer %s): better at %d of %d rates, worse at %d (least_conn first): %s.",
			c.Replicas, cpusLabel(c.CPUs), memLabel(c.MemoryBytes), float64(tokens)/float64(max(streams, 1)), verdict, rr,
			wins, len(ps), losses, strings.Join(parts, "; "))
		if rr == "client" {
			sb.WriteString(" The least_conn figures include the proxy's own hop (see the proxy overhead).")
		}
		out = append(out, Finding{Rule: RuleLeastConn, Text: sb.String(), Scenarios: ids})
	}
	return out
}

// kvPoint is one scenario's peak memory of a replica against the streams in
// flight on a replica, and the replicas' memory limit (0: unlimited).
type kvPoint struct {
	streams float64
	mem     float64
	limit   int64
	id      string
}

// kvPoints are the streaming scenarios at fixed rates with replica memory and
// requests in flight measured, and at most kvErrorRate failed requests; left
// counts those left out for their failed requests.
func kvPoints(outcomes []result.Outcome) (ps []kvPoint, left int) {
	for _, o := range outcomes {
		r := max(o.Scenario.Replicas, 1)
		if !streamed(o) || !atFixedRate(o) || o.Resources.PeakMemBytes <= 0 || o.Load.PeakInFlight <= 0 {
			continue
		}
		if errorRate(o.Load) > kvErrorRate {
			left++
			continue
		}
		ps = append(ps, kvPoint{streams: math.Ceil(float64(o.Load.PeakInFlight) / float64(r)), mem: float64(o.Resources.PeakMemBytes),
			limit: o.Scenario.MemoryBytes, id: o.Scenario.ID})
	}
	return ps, left
}

// fitLine is the least-squares line y = a + b·x through the points, with its
// coefficient of determination r2 (1 when every y is the same).
func fitLine(ps []kvPoint) (a, b, r2 float64) {
	n := float64(len(ps))
	var sx, sy float64
	for _, p := range ps {
		sx, sy = sx+p.streams, sy+p.mem
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for _, p := range ps {
		dx, dy := p.streams-mx, p.mem-my
		sxx, sxy, syy = sxx+dx*dx, sxy+dx*dy, syy+dy*dy
	}
	b = sxy / sxx
	a = my - b*mx
	r2 = 1.0
	if syy > 0 {
		r2 = sxy * sxy / (sxx * syy)
	}
	return a, b, r2
}

// KVMemory relates the peak memory of a replica to the streams in flight on it
// (the load generator's peak divided by the replicas) over the streaming
// scenarios at fixed rates, by least squares, and gives the memory limit that
// kvStreams concurrent streams per replica need by that line: what the KV cache
// and the rest of each stream cost, garbage included, as measured.
func KVMemory(outcomes []result.Outcome) []Finding {
	ps, left := kvPoints(outcomes)
	distinct := map[float64]bool{}
	limits := map[int64]bool{}
	ids := make([]string, len(ps))
	for i, p := range ps {
		distinct[p.streams], limits[p.limit] = true, true
		ids[i] = p.id
	}
	if len(ps) < 3 || len(distinct) < 2 {
		return []Finding{{Rule: RuleKVMemory, Scenarios: ids, Text: fmt.Sprintf(
			"%s with replica memory and streams in flight measured (and at most %s failed requests), at %s: too few to relate memory to concurrent streams (3 scenarios at 2 or more concurrencies are needed).",
			plural(len(ps), "streaming scenario", "streaming scenarios"), pctLabel(kvErrorRate), plural(len(distinct), "concurrency", "concurrencies"))}}
	}
	a, b, r2 := fitLine(ps)
	top := slices.MaxFunc(ps, func(x, y kvPoint) int { return cmp.Compare(x.streams, y.streams) })
	if b <= 0 {
		return []Finding{{Rule: RuleKVMemory, Scenarios: ids, Text: fmt.Sprintf(
			"Peak memory of a replica did not grow with the streams in flight on it (%d scenarios, up to %.0f streams per replica at %s): the KV cache is not what sizes the memory limit here.",
			len(ps), top.streams, bytesLabel(int64(top.mem)))}}
	}
	need := make([]string, len(kvStreams))
	for i, n := range kvStreams {
		need[i] = fmt.Sprintf("%d streams %s", n, bytesLabel(int64(math.Ceil(a+b*float64(n)))))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Peak memory of a replica grew by **%s per concurrent stream** from %s (least squares over %d streaming scenarios at fixed rates with at most %s failed requests, R² %.2f; streams per replica are the load generator's peak in flight over the replicas). By that line a replica needs a memory limit of at least: %s. The most measured was %.0f streams per replica at %s (`%s`).",
		bytesLabel(int64(math.Round(b))), bytesLabel(int64(math.Max(a, 0))), len(ps), pctLabel(kvErrorRate), r2, strings.Join(need, ", "),
		top.streams, bytesLabel(int64(top.mem)), top.id)
	if lim := ps[0].limit; len(limits) == 1 && lim > 0 && float64(lim) > a {
		fmt.Fprintf(&sb, " The replicas' limit of %s would hold about %.0f streams.", bytesLabel(lim), math.Floor((float64(lim)-a)/b))
	}
	if left > 0 {
		fmt.Fprintf(&sb, " Left out: %s with more failed requests (requests turned away or timed out hold no cache).", plural(left, "scenario", "scenarios"))
	}
	return []Finding{{Rule: RuleKVMemory, Text: sb.String(), Scenarios: ids}}
}

// Cheapest names, at every fixed rate of the open model where scenarios were
// judged against the SLO, the configuration with the fewest CPUs in total (then
// the least memory, then the fewest replicas) that met it with its load
// generator keeping up, or says that none did: the cheapest configuration for a
// target rate is that of the first rate at or above it.
func Cheapest(outcomes []result.Outcome) []Finding {
	byRate := map[float64][]result.Outcome{}
	for _, o := range outcomes {
		if atFixedRate(o) && o.SLOPass != nil {
			byRate[loadValue(o)] = append(byRate[loadValue(o)], o)
		}
	}
	if len(byRate) == 0 {
		return nil
	}
	rates := make([]float64, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	slices.Sort(rates)
	parts := make([]string, len(rates))
	var ids []string
	for i, r := range rates {
		all := byRate[r]
		var pass []result.Outcome
		for _, o := range all {
			if *o.SLOPass && !o.Load.Shortfall {
				pass = append(pass, o)
			}
		}
		label := loadLevel(all[0].Scenario, all[0].Load).Label
		if len(pass) == 0 {
			parts[i] = fmt.Sprintf("%s: none of %s", label, plural(len(all), "configuration", "configurations"))
			continue
		}
		b := slices.MinFunc(pass, func(x, y result.Outcome) int {
			cx, cy := configOf(x.Scenario), configOf(y.Scenario)
			return cmp.Or(cmp.Compare(cx.totalCPUs(), cy.totalCPUs()), cmp.Compare(cx.totalMem(), cy.totalMem()),
				cmp.Compare(cx.Replicas, cy.Replicas), strings.Compare(x.Scenario.ID, y.Scenario.ID))
		})
		parts[i] = fmt.Sprintf("%s: **%s** (%s in total; %d of %d met the SLO)", label, shortConfig(configOf(b.Scenario)),
			totalCPULabel(configOf(b.Scenario)), len(pass), len(all))
		ids = append(ids, b.Scenario.ID)
	}
	return []Finding{{Rule: RuleCheapest, Scenarios: ids, Text: "The cheapest configuration (fewest CPUs in total, then least memory) that met the SLO at each rate; for a target rate, read the first rate at or above it: " +
		strings.Join(parts, "; ") + "."}}
}
