package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/result"
)

// Finding rules.
const (
	RuleBestConfig = "best_config"
	RuleFailures   = "failures"
	RuleImbalance  = "imbalance"
	RuleReplicas   = "replicas"
	RuleProxy      = "proxy_overhead"
	RuleGenerator  = "generator"
)

// Finding is one conclusion drawn from the data of a run.
type Finding struct {
	// Rule names the rule that drew it (one of the Rule* constants).
	Rule string `json:"rule"`
	// Text states it with the numbers it rests on.
	Text string `json:"text"`
	// Scenarios are the IDs it rests on.
	Scenarios []string `json:"scenarios,omitempty"`
}

// Thresholds of the finding rules.
const (
	// imbalanceFactor: a replica taking more than this times its fair share of
	// the requests makes a scenario imbalanced.
	imbalanceFactor = 1.25
	// A p99 change beyond p99Change or a throughput change beyond
	// throughputChange is a difference worth stating.
	p99Change        = 0.10
	throughputChange = 0.05
	// errorRateNotable is the error rate from which errors of a scenario are a finding.
	errorRateNotable = 0.001
)

// Findings applies every rule to a run's outcomes, in a fixed order.
func Findings(run result.Run, outcomes []result.Outcome) []Finding {
	var out []Finding
	out = append(out, BestConfig(outcomes)...)
	out = append(out, Capacity(outcomes)...)
	out = append(out, LLMFindings(outcomes, run.Host.CPUs)...)
	out = append(out, Failures(outcomes)...)
	out = append(out, Imbalance(outcomes)...)
	out = append(out, ReplicaScaling(outcomes, run.Host.CPUs)...)
	out = append(out, ProxyOverhead(outcomes)...)
	out = append(out, Generator(outcomes)...)
	out = append(out, Agents(outcomes)...)
	return out
}

// Generator names the scenarios whose numbers the load generator, not the
// service, may have bounded (result.Load.GeneratorBound), with the evidence:
// its send lag, its CPU, its cap on requests in flight.
func Generator(outcomes []result.Outcome) []Finding {
	var out []Finding
	for _, o := range outcomes {
		l := o.Load
		if !l.GeneratorBound {
			continue
		}
		var why []string
		if l.SendLagP99 > 0 && l.SendLagP99*10 > l.Latency.P99 {
			why = append(why, fmt.Sprintf("send lag p99 %s ms: a p99 below %s ms is not trustworthy here",
				msLabel(l.SendLagP99), msLabel(10*l.SendLagP99)))
		}
		if l.GeneratorCPUShare > 0.8 {
			why = append(why, fmt.Sprintf("it used %.0f%% of its CPUs", 100*l.GeneratorCPUShare))
		}
		if l.Shortfall && l.MaxInFlight > 0 && l.PeakInFlight >= l.MaxInFlight {
			why = append(why, fmt.Sprintf("the rate fell short with all %d connections busy", l.MaxInFlight))
		}
		out = append(out, Finding{Rule: RuleGenerator, Scenarios: []string{o.Scenario.ID}, Text: fmt.Sprintf(
			"`%s` (%s): the load generator, not the service, may have bounded these numbers: %s.",
			o.Scenario.ID, loadLevel(o.Scenario, o.Load).Label, strings.Join(why, "; "))})
	}
	return out
}

// measured reports whether an outcome has load numbers to compare.
func measured(o result.Outcome) bool {
	return o.Status == result.StatusOK && o.Load.Requests > 0
}

// BestConfig finds, per load model, the highest load level at which a
// configuration met the SLO, and among the configurations that did so there the one
// with the least CPU and then the least memory in total. A scenario whose load
// generator fell short of the requested rate did not apply its load level and does
// not count; higher load levels that failed or missed the SLO are named.
func BestConfig(outcomes []result.Outcome) []Finding {
	judged, searches := false, false
	byModel := map[string][]result.Outcome{}
	for _, o := range outcomes {
		if searched(o) { // judged by the capacity rule
			searches = true
			continue
		}
		if o.SLOPass == nil {
			continue
		}
		judged = true
		m := loadLevel(o.Scenario, o.Load).Model
		byModel[m] = append(byModel[m], o)
	}
	if !judged && searches {
		return nil
	}
	if !judged {
		return []Finding{{Rule: RuleBestConfig, Text: "No SLO was set, so no configuration was judged against one (set `slo:` in the scenario file to get the cheapest configuration that meets it)."}}
	}
	var out []Finding
	// Closed models (by think time) first, then open.
	models := sortedKeys(byModel)
	slices.SortStableFunc(models, func(a, b string) int { return cmp.Compare(modelRank(a), modelRank(b)) })
	for _, model := range models {
		if f, ok := bestOfModel(model, byModel[model]); ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Rule: RuleBestConfig, Text: "No scenario with an SLO completed with measured requests, so no configuration can be recommended."})
	}
	return out
}

// loadValue is the load of o as one number, to order loads of one model.
func loadValue(o result.Outcome) float64 { return loadLevel(o.Scenario, o.Load).Value }

// bestOfModel is the best-configuration finding of one load model's judged
// scenarios, if there is one to state.
func bestOfModel(model string, all []result.Outcome) (Finding, bool) {
	var pass, short, tried []result.Outcome
	for _, o := range all {
		switch {
		case !measured(o):
		case *o.SLOPass && o.Load.Shortfall:
			short = append(short, o)
		case *o.SLOPass:
			pass = append(pass, o)
		default:
			tried = append(tried, o)
		}
	}
	if len(pass) > 0 {
		return bestMet(model, all, pass, short), true
	}
	if len(tried) == 0 {
		if len(all) > 0 && len(short) == 0 {
			return Finding{Rule: RuleBestConfig, Text: fmt.Sprintf("%s: no scenario completed with measured requests, so no configuration can be recommended.", modelTitle(model))}, true
		}
		return Finding{}, false
	}
	best := slices.MinFunc(tried, func(a, b result.Outcome) int {
		return cmp.Or(cmp.Compare(loadValue(a), loadValue(b)), cmp.Compare(a.Load.Latency.P99, b.Load.Latency.P99), strings.Compare(a.Scenario.ID, b.Scenario.ID))
	})
	return Finding{
		Rule: RuleBestConfig,
		Text: fmt.Sprintf("%s: no configuration met the SLO; the closest at the lowest load tried was %s at %s (p99 %s ms; missed: %s).",
			modelTitle(model), configOf(best.Scenario), loadLevel(best.Scenario, best.Load).Label, msLabel(best.Load.Latency.P99), strings.Join(best.SLOFailures, ", ")),
		Scenarios: []string{best.Scenario.ID},
	}, true
}

// bestMet names the least resources that met the SLO at the highest load that
// any configuration of the model met it, given the passing scenarios (pass) and
// those whose generator fell short (short).
func bestMet(model string, all, pass, short []result.Outcome) Finding {
	top := slices.MaxFunc(pass, func(a, b result.Outcome) int { return cmp.Compare(loadValue(a), loadValue(b)) })
	topLevel := loadLevel(top.Scenario, top.Load)
	var at []result.Outcome
	for _, o := range pass {
		if loadValue(o) == topLevel.Value {
			at = append(at, o)
		}
	}
	slices.SortFunc(at, func(a, b result.Outcome) int {
		ca, cb := configOf(a.Scenario), configOf(b.Scenario)
		return cmp.Or(cmp.Compare(ca.totalCPUs(), cb.totalCPUs()), cmp.Compare(ca.totalMem(), cb.totalMem()),
			cmp.Compare(ca.Replicas, cb.Replicas), cmp.Compare(a.Load.Latency.P99, b.Load.Latency.P99),
			strings.Compare(a.Scenario.ID, b.Scenario.ID))
	})
	b := at[0]
	c := configOf(b.Scenario)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: the highest load that met the SLO was %s; the least resources that did so: %s",
		modelTitle(model), topLevel.Label, c)
	if !math.IsInf(c.totalCPUs(), 1) || !math.IsInf(c.totalMem(), 1) {
		fmt.Fprintf(&sb, " (%s, %s in total)", totalCPULabel(c), totalMemLabel(c))
	}
	fmt.Fprintf(&sb, ", with p95 %s ms, p99 %s ms, %s errors, %s.",
		msLabel(b.Load.Latency.P95), msLabel(b.Load.Latency.P99), pctLabel(errorRate(b.Load)), rpsLabel(b.Load.ThroughputRPS))
	if n := len(at); n > 1 {
		fmt.Fprintf(&sb, " %d configurations met it at that load.", n)
	}
	var higher []string
	for _, o := range all {
		if lv := loadLevel(o.Scenario, o.Load); lv.Value > topLevel.Value && !*o.SLOPass && !slices.Contains(higher, lv.Label) {
			higher = append(higher, lv.Label)
		}
	}
	if len(higher) > 0 {
		fmt.Fprintf(&sb, " Higher loads tried failed or missed the SLO (%s).", strings.Join(higher, ", "))
	}
	for _, o := range short {
		if loadValue(o) > topLevel.Value {
			fmt.Fprintf(&sb, " `%s` (%s) is not counted: its load generator fell short, sending %s.", o.Scenario.ID, loadLevel(o.Scenario, o.Load).Label, rpsLabel(o.Load.RateRPS))
		}
	}
	return Finding{Rule: RuleBestConfig, Text: sb.String(), Scenarios: []string{b.Scenario.ID}}
}

func totalCPULabel(c config) string {
	if math.IsInf(c.totalCPUs(), 1) {
		return "unlimited CPUs"
	}
	return cpusLabel(c.totalCPUs())
}

func totalMemLabel(c config) string {
	if math.IsInf(c.totalMem(), 1) {
		return "unlimited memory"
	}
	return bytesLabel(int64(c.totalMem()))
}

// modelTitle is "Closed model", "Closed model (think 1s)" or "Open model".
func modelTitle(model string) string {
	m, think, ok := strings.Cut(model, ", ")
	t := strings.ToUpper(m[:1]) + m[1:] + " model"
	if ok {
		t += " (" + think + ")"
	}
	return t
}

// Failures lists, per scenario, why it failed or degraded: a failed or skipped
// status with its error, OOM kills, restarts, failed requests (with the most common
// error message) and missed SLO objectives.
func Failures(outcomes []result.Outcome) []Finding {
	var out []Finding
	for _, o := range outcomes {
		var why []string
		switch o.Status {
		case result.StatusOK:
		case result.StatusSkipped:
			why = append(why, "skipped: "+cmp.Or(o.Error, "no reason recorded"))
		default:
			why = append(why, "failed: "+cmp.Or(o.Error, "no reason recorded"))
		}
		if r := o.Resources; r.OOMKills > 0 {
			s := plural(r.OOMKills, "OOM kill", "OOM kills")
			if o.Scenario.MemoryBytes > 0 {
				s += " at a " + bytesLabel(o.Scenario.MemoryBytes) + " memory limit"
			}
			if r.PeakMemBytes > 0 {
				s += " (peak " + bytesLabel(r.PeakMemBytes) + ")"
			}
			why = append(why, s)
			why = append(why, atLimit(r.Containers, "replica", o.Error)...)
		}
		if n := o.Resources.Restarts; n > 0 {
			why = append(why, plural(n, "container restart", "container restarts"))
		}
		why = append(why, sideTrouble(o.Resources)...)
		if rate := errorRate(o.Load); rate >= errorRateNotable {
			s := fmt.Sprintf("%s of %d requests failed", pctLabel(rate), o.Load.Requests)
			if msg, n := topError(o.Load.Errors); msg != "" {
				s += fmt.Sprintf(", most often %q (%d×)", msg, n)
			}
			why = append(why, s)
		}
		if o.SLOPass != nil && !*o.SLOPass && o.Status == result.StatusOK {
			why = append(why, "missed the SLO: "+strings.Join(o.SLOFailures, ", "))
		}
		if len(why) > 0 {
			out = append(out, Finding{Rule: RuleFailures, Text: fmt.Sprintf("`%s` (%s, %s): %s.", o.Scenario.ID,
				configOf(o.Scenario), loadLevel(o.Scenario, o.Load).Label, strings.TrimSuffix(strings.Join(why, "; "), ".")), Scenarios: []string{o.Scenario.ID}})
		}
	}
	if len(out) == 0 && len(outcomes) > 0 {
		out = append(out, Finding{Rule: RuleFailures, Text: fmt.Sprintf("All %s completed with no failure, OOM kill, restart or missed SLO, and under 0.1%% failed requests.", plural(len(outcomes), "scenario", "scenarios"))})
	}
	return out
}

// sideTrouble says which side services (beside the service under test) were
// OOM-killed or restarted, with their peak memory against their limit.
func sideTrouble(r result.Resources) []string {
	var why []string
	for _, s := range r.Services {
		var what []string
		if s.OOMKills > 0 {
			what = append(what, plural(s.OOMKills, "OOM kill", "OOM kills"))
		}
		if s.Restarts > 0 {
			what = append(what, plural(s.Restarts, "restart", "restarts"))
		}
		if len(what) == 0 {
			continue
		}
		t := fmt.Sprintf("side service %s: %s", s.Name, strings.Join(what, ", "))
		if s.PeakMemBytes > 0 {
			t += " (peak " + bytesLabel(s.PeakMemBytes)
			if s.MemLimitBytes > 0 {
				t += " of " + bytesLabel(s.MemLimitBytes)
			}
			t += ")"
		}
		if s.AtLimitBeforeOOM > 0 {
			t += ", at its memory limit for " + monitor.LimitDuration(s.AtLimitBeforeOOM) + " before the OOM kill"
		}
		why = append(why, t)
	}
	return why
}

// atLimit says of each container that sat at its memory limit before an OOM
// kill how long it did, unless the scenario's error (failed) says so already.
func atLimit(cs []result.ContainerSummary, who, failed string) []string {
	var out []string
	for _, c := range cs {
		note := fmt.Sprintf("%s %s sat at its memory limit for %s before the OOM kill", who, c.Name, monitor.LimitDuration(c.AtLimitBeforeOOM))
		if c.AtLimitBeforeOOM > 0 && !strings.Contains(failed, note) {
			out = append(out, note)
		}
	}
	return out
}

// topError is the most frequent error message (ties broken by message).
func topError(errs map[string]uint64) (string, uint64) {
	var msg string
	var n uint64
	for m, c := range errs {
		if c > n || (c == n && m < msg) {
			msg, n = m, c
		}
	}
	return msg, n
}

// balance is how one multi-replica scenario spread its requests.
type balance struct {
	ID       string
	Replicas int
	// Busiest is the largest share of requests one endpoint got; Fair is 1/replicas.
	Busiest, Fair float64
	// BusyCPU is the highest mean CPU % of a replica container, OtherCPU the highest
	// of the others; both NaN without container data.
	BusyCPU, OtherCPU float64
}

func balanceOf(o result.Outcome) (balance, bool) {
	n := max(o.Scenario.Replicas, len(o.Load.Endpoints))
	if n < 2 || len(o.Load.Endpoints) == 0 || o.Load.Requests == 0 {
		return balance{}, false
	}
	b := balance{ID: o.Scenario.ID, Replicas: n, Fair: 1 / float64(n), BusyCPU: math.NaN(), OtherCPU: math.NaN()}
	for _, e := range o.Load.Endpoints {
		b.Busiest = max(b.Busiest, share(e.Requests, o.Load.Endpoints))
	}
	if cs := o.Resources.Containers; len(cs) >= 2 {
		cpu := make([]float64, len(cs))
		for i, c := range cs {
			cpu[i] = c.MeanCPUPct
		}
		slices.Sort(cpu)
		b.BusyCPU, b.OtherCPU = cpu[len(cpu)-1], cpu[len(cpu)-2]
	}
	return b, true
}

func (b balance) imbalanced() bool { return b.Busiest > imbalanceFactor*b.Fair }

// Imbalance states, per balancer, whether scenarios with more than one replica
// spread their requests evenly (from the per-endpoint request counts) and, where
// container telemetry exists, whether the other replicas idled.
func Imbalance(outcomes []result.Outcome) []Finding {
	byBalancer := map[string][]balance{}
	for _, o := range outcomes {
		if o.Status != result.StatusOK {
			continue
		}
		if b, ok := balanceOf(o); ok {
			byBalancer[o.Scenario.Balancer] = append(byBalancer[o.Scenario.Balancer], b)
		}
	}
	var out []Finding
	for _, bal := range sortedKeys(byBalancer) {
		bs := byBalancer[bal]
		ids := make([]string, len(bs))
		var bad []balance
		for i, b := range bs {
			ids[i] = b.ID
			if b.imbalanced() {
				bad = append(bad, b)
			}
		}
		worst := slices.MaxFunc(bs, func(a, b balance) int { return cmp.Compare(a.Busiest/a.Fair, b.Busiest/b.Fair) })
		var sb strings.Builder
		fmt.Fprintf(&sb, "Balancer %s, %s with more than one replica: ", bal, plural(len(bs), "scenario", "scenarios"))
		switch {
		case len(bad) == 0:
			fmt.Fprintf(&sb, "requests were spread evenly; the busiest replica took at most %s where its fair share was %s (`%s`).",
				pctLabel(worst.Busiest), pctLabel(worst.Fair), worst.ID)
		case len(bad) == len(bs) && len(bs) == 1:
			fmt.Fprintf(&sb, "imbalanced: the busiest replica took %s of the requests where a fair share was %s",
				pctLabel(worst.Busiest), pctLabel(worst.Fair))
			if bal == "none" {
				sb.WriteString(" (with no balancer all load goes to the first replica by construction)")
			}
			sb.WriteString(".")
		case len(bad) == len(bs):
			lo := slices.MinFunc(bs, func(a, b balance) int { return cmp.Compare(a.Busiest, b.Busiest) })
			fmt.Fprintf(&sb, "imbalanced in every one: the busiest replica took %s of the requests",
				rangeLabel(pctLabel(lo.Busiest), pctLabel(slices.MaxFunc(bs, func(a, b balance) int { return cmp.Compare(a.Busiest, b.Busiest) }).Busiest)))
			fmt.Fprintf(&sb, " where a fair share was %s", rangeLabel(pctLabel(minFair(bs)), pctLabel(maxFair(bs))))
			if bal == "none" {
				sb.WriteString(" (with no balancer all load goes to the first replica by construction)")
			}
			sb.WriteString(".")
		default:
			fmt.Fprintf(&sb, "%d of them were imbalanced; the worst, `%s`, sent %s of the requests to one replica where its fair share was %s.",
				len(bad), worst.ID, pctLabel(worst.Busiest), pctLabel(worst.Fair))
		}
		if s := idleSentence(bad); s != "" {
			sb.WriteString(" " + s)
		}
		out = append(out, Finding{Rule: RuleImbalance, Text: sb.String(), Scenarios: ids})
	}
	return out
}

// idleSentence says how busy the other replicas of imbalanced scenarios were.
func idleSentence(bad []balance) string {
	busy, other := math.Inf(1), 0.0
	n := 0
	for _, b := range bad {
		if math.IsNaN(b.BusyCPU) {
			continue
		}
		n++
		busy = min(busy, b.BusyCPU)
		other = max(other, b.OtherCPU)
	}
	if n == 0 {
		return ""
	}
	s := fmt.Sprintf("Container CPU agrees: the busiest replica averaged at least %.1f%% CPU, the next busiest at most %.1f%%", busy, other)
	if other < max(1, 0.1*busy) {
		s += ", so the other replicas idled."
	} else {
		s += "."
	}
	return s
}

func minFair(bs []balance) float64 {
	return slices.MinFunc(bs, func(a, b balance) int { return cmp.Compare(a.Fair, b.Fair) }).Fair
}

func maxFair(bs []balance) float64 {
	return slices.MaxFunc(bs, func(a, b balance) int { return cmp.Compare(a.Fair, b.Fair) }).Fair
}

func rangeLabel(lo, hi string) string {
	if lo == hi {
		return lo
	}
	return lo + " to " + hi
}

// ReplicaScaling compares scenarios that differ only in their number of replicas,
// at the same load level and balancer: with the same CPUs in total (the CPUs split
// across more replicas), and with the same CPUs per replica in the same grid block
// (more replicas, more CPUs in total; hostCPUs, when known, tells whether they
// exceed the host). It states whether more replicas helped, hurt or made no clear
// difference to p99 latency and throughput.
func ReplicaScaling(outcomes []result.Outcome, hostCPUs int) []Finding {
	type key struct {
		kind, block, level, balancer string
		cpus                         float64
		mem                          int64
	}
	groups := map[key][]result.Outcome{}
	var keys []key
	add := func(k key, o result.Outcome) {
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], o)
	}
	for _, o := range outcomes {
		if !measured(o) || searched(o) {
			continue
		}
		s := o.Scenario
		lv := loadLevel(s, o.Load).Label
		if s.CPUs > 0 {
			add(key{kind: "total", level: lv, balancer: s.Balancer, cpus: round(s.CPUs*float64(s.Replicas), 6)}, o)
		}
		add(key{kind: "scale", block: s.Block, level: lv, balancer: s.Balancer, cpus: s.CPUs, mem: s.MemoryBytes}, o)
	}
	var out []Finding
	for _, k := range keys {
		g := groups[k]
		fewest := slices.MinFunc(g, func(a, b result.Outcome) int {
			return cmp.Or(cmp.Compare(a.Scenario.Replicas, b.Scenario.Replicas), strings.Compare(a.Scenario.ID, b.Scenario.ID))
		})
		most := slices.MaxFunc(g, func(a, b result.Outcome) int {
			return cmp.Or(cmp.Compare(a.Scenario.Replicas, b.Scenario.Replicas), strings.Compare(b.Scenario.ID, a.Scenario.ID))
		})
		if fewest.Scenario.Replicas == most.Scenario.Replicas {
			continue
		}
		a, b := fewest, most
		var sb strings.Builder
		if k.kind == "total" {
			fmt.Fprintf(&sb, "Same %s in total, %s, balancer %s: %d replicas × %s instead of %d × %s %s",
				cpusLabel(k.cpus), k.level, k.balancer, b.Scenario.Replicas, cpusLabel(b.Scenario.CPUs),
				a.Scenario.Replicas, cpusLabel(a.Scenario.CPUs), verdict(a.Load, b.Load))
		} else {
			fmt.Fprintf(&sb, "More replicas at %s and %s each (block %s), %s, balancer %s: %d replicas instead of %d %s",
				cpusLabel(k.cpus), memLabel(k.mem), k.block, k.level, k.balancer, b.Scenario.Replicas, a.Scenario.Replicas, verdict(a.Load, b.Load))
		}
		sb.WriteString(": " + compareLoads(a.Load, b.Load) + ".")
		if k.kind == "scale" && k.cpus > 0 && hostCPUs > 0 && k.cpus*float64(b.Scenario.Replicas) > float64(hostCPUs) {
			fmt.Fprintf(&sb, " %d × %s = %s exceed the host's %d CPUs, so the replicas compete for them.",
				b.Scenario.Replicas, cpusLabel(k.cpus), cpusLabel(k.cpus*float64(b.Scenario.Replicas)), hostCPUs)
		}
		if k.kind == "scale" && k.cpus <= 0 && hostCPUs > 0 {
			fmt.Fprintf(&sb, " Without a CPU limit all replicas share the host's %d CPUs.", hostCPUs)
		}
		if k.balancer == "none" {
			sb.WriteString(" With no balancer the extra replicas receive no requests.")
		}
		out = append(out, Finding{Rule: RuleReplicas, Text: sb.String(), Scenarios: []string{a.Scenario.ID, b.Scenario.ID}})
	}
	if len(out) == 0 {
		out = append(out, Finding{Rule: RuleReplicas, Text: "No two completed scenarios differ only in their number of replicas at the same load, so the effect of more replicas was not measured."})
	}
	return out
}

// verdict says whether going from a to b helped, hurt or made no clear difference.
func verdict(a, b result.Load) string {
	dp := change(float64(a.Latency.P99), float64(b.Latency.P99))
	dt := change(a.ThroughputRPS, b.ThroughputRPS)
	de := errorRate(b) - errorRate(a)
	worse := dp > p99Change || dt < -throughputChange || de > errorRateNotable
	better := dp < -p99Change || dt > throughputChange || de < -errorRateNotable
	switch {
	case worse && better:
		return "traded one for the other"
	case worse:
		return "hurt"
	case better:
		return "helped"
	}
	return "made no clear difference"
}

// compareLoads states p99, throughput and error rates of a and b.
func compareLoads(a, b result.Load) string {
	s := fmt.Sprintf("p99 %s ms vs %s ms (%s), throughput %s vs %s (%s)",
		msLabel(b.Latency.P99), msLabel(a.Latency.P99), signedPct(change(float64(a.Latency.P99), float64(b.Latency.P99))),
		rpsLabel(b.ThroughputRPS), rpsLabel(a.ThroughputRPS), signedPct(change(a.ThroughputRPS, b.ThroughputRPS)))
	if ea, eb := errorRate(a), errorRate(b); ea > 0 || eb > 0 {
		s += fmt.Sprintf(", errors %s vs %s", pctLabel(eb), pctLabel(ea))
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isProxy reports whether a balancer label names the proxy in the stack
// (proxy, proxy:least_conn).
func isProxy(balancer string) bool {
	return balancer == "proxy" || strings.HasPrefix(balancer, "proxy:")
}

// ProxyOverhead compares every scenario balanced by the proxy in the stack with
// its twin balanced by the client: the same block, replicas, CPUs, memory and load
// level. It states the p50 and p99 the proxy added (or saved), the throughput, and
// the proxy's own CPU where it was sampled. At a fixed rate (open model) the
// difference is the proxy's overhead; with closed-model users it is only
// indicative, because the users' pace follows the latency.
func ProxyOverhead(outcomes []result.Outcome) []Finding {
	type key struct {
		block, level string
		replicas     int
		cpus         float64
		mem          int64
	}
	keyOf := func(o result.Outcome) key {
		s := o.Scenario
		return key{s.Block, loadLevel(s, o.Load).Label, s.Replicas, s.CPUs, s.MemoryBytes}
	}
	clients := map[key]result.Outcome{}
	for _, o := range outcomes {
		if measured(o) && o.Scenario.Balancer == "client" {
			clients[keyOf(o)] = o
		}
	}
	var out []Finding
	unpaired := 0
	for _, o := range outcomes {
		if !measured(o) || !isProxy(o.Scenario.Balancer) {
			continue
		}
		c, ok := clients[keyOf(o)]
		if !ok {
			unpaired++
			continue
		}
		s, a, b := o.Scenario, c.Load, o.Load
		var sb strings.Builder
		fmt.Fprintf(&sb, "Balancer %s instead of client, %s, %d × %s: p50 %s ms vs %s ms (%s), p99 %s ms vs %s ms (%s), throughput %s vs %s",
			s.Balancer, loadLevel(s, b).Label, s.Replicas, cpusLabel(s.CPUs),
			msLabel(b.Latency.P50), msLabel(a.Latency.P50), signedMs(b.Latency.P50-a.Latency.P50),
			msLabel(b.Latency.P99), msLabel(a.Latency.P99), signedMs(b.Latency.P99-a.Latency.P99),
			rpsLabel(b.ThroughputRPS), rpsLabel(a.ThroughputRPS))
		if ea, eb := errorRate(a), errorRate(b); ea > 0 || eb > 0 {
			fmt.Fprintf(&sb, ", errors %s vs %s", pctLabel(eb), pctLabel(ea))
		}
		if pb := o.Resources.Balancer; pb != nil {
			fmt.Fprintf(&sb, "; the proxy itself used %.1f%% CPU on average and at most %s", pb.MeanCPUPct, bytesLabel(pb.PeakMemBytes))
		}
		switch {
		case s.Users > 0:
			sb.WriteString(". Closed-model users pace themselves by the latency, so this is indicative; a fixed rate measures the overhead.")
		case a.Shortfall || b.Shortfall:
			sb.WriteString(". The load generator fell short of the rate in one of them, so the comparison is not at the same rate.")
		default:
			sb.WriteString(".")
		}
		out = append(out, Finding{Rule: RuleProxy, Text: sb.String(), Scenarios: []string{c.Scenario.ID, s.ID}})
	}
	if len(out) == 0 && unpaired > 0 {
		out = append(out, Finding{Rule: RuleProxy, Text: "No scenario balanced by the proxy has a client-balanced twin (same block, replicas, limits and load level), so the proxy's overhead was not measured; add client to their balancer axis."})
	}
	return out
}

// signedMs formats a latency difference in milliseconds with its sign.
func signedMs(d time.Duration) string {
	if d < 0 {
		return "-" + msLabel(-d) + " ms"
	}
	return "+" + msLabel(d) + " ms"
}
