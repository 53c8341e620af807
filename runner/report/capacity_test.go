package report

import (
	"slices"
	"testing"

	"github.com/infergrid/runner/runner/result"
)

// capOutcome builds an ok capacity-search outcome with capacity rps.
func capOutcome(id string, replicas int, cpus float64, memMiB int64, rps float64, lowerBound, converged bool, reason string) result.Outcome {
	o := withSLO(oc(id, replicas, cpus, memMiB, "client", 0, 50, rps), rps > 0)
	o.Scenario.Users, o.Scenario.SpawnRate, o.Scenario.Search = 0, 0, "50/s..800/s"
	o.Load.Capacity = &result.Capacity{RPS: rps, FromRPS: 50, ToRPS: 800, Precision: 0.05, LowerBound: lowerBound, Converged: converged, Reason: reason,
		Steps: []result.CapacityStep{{RateRPS: 50, Pass: rps > 0}}}
	return o
}

func TestCapacityFindings(t *testing.T) {
	tests := []struct {
		name          string
		outcomes      []result.Outcome
		want, notWant []string
	}{
		{name: "no search, no finding", outcomes: []result.Outcome{withSLO(oc("a", 1, 1, 256, "client", 10, 50, 100), true)}, notWant: []string{"capacity"}},
		{name: "highest and most per CPU and per GiB", outcomes: []result.Outcome{
			capOutcome("one", 1, 1, 256, 600, false, true, "met"),
			capOutcome("two", 2, 1, 512, 900, false, true, "met"),
			capOutcome("unl", 1, 0, 0, 300, false, true, "met"),
		}, want: []string{
			"capacity: The highest capacity at the SLO was 900/s with 2 replicas × 1 CPU × 512MiB, balancer client (`two`, 450/s per CPU).",
			"Per CPU of limit, 1 replica × 1 CPU × 256MiB, balancer client served the most: 600/s (1.3× the least, 2 replicas × 1 CPU × 512MiB, balancer client with 450/s).",
			"Per GiB of memory limit, 1 replica × 1 CPU × 256MiB, balancer client served the most: 2400/s (2.7× the least, 2 replicas × 1 CPU × 512MiB, balancer client with 900/s).",
		}, notWant: []string{"`unl`"}},
		{name: "equal efficiency", outcomes: []result.Outcome{
			capOutcome("one", 1, 1, 256, 600, false, true, "met"),
			capOutcome("two", 2, 1, 256, 1200, false, true, "met"),
		}, want: []string{"Per CPU of limit, every configuration served 600/s.", "Per GiB of memory limit, every configuration served 2400/s."}},
		{name: "bounds and misses are named with their reason", outcomes: []result.Outcome{
			capOutcome("top", 1, 1, 256, 800, true, false, "every step met the SLO up to the top of the range, 800/s: the capacity is at least that"),
			capOutcome("none", 1, 0.5, 256, 0, false, false, "even the lowest rate, 50/s, missed the SLO: the capacity is below it"),
		}, want: []string{
			"The highest capacity at the SLO was ≥ 800/s with 1 replica × 1 CPU × 256MiB",
			"`top` (1 replica × 1 CPU × 256MiB, balancer client): capacity ≥ 800/s: every step met the SLO up to the top of the range, 800/s: the capacity is at least that.",
			"`none` (1 replica × 0.5 CPUs × 256MiB, balancer client): capacity < 50.0/s: even the lowest rate, 50/s, missed the SLO: the capacity is below it.",
		}},
		{name: "nothing found", outcomes: []result.Outcome{capOutcome("none", 1, 1, 256, 0, false, false, "below")},
			want: []string{"No configuration met the SLO at the lowest rate searched (50.0/s), so no capacity was found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Capacity(tt.outcomes), tt.want, tt.notWant)
		})
	}
}

func TestSearchesLeaveOtherRulesAlone(t *testing.T) {
	outcomes := []result.Outcome{
		capOutcome("s1", 1, 1, 256, 600, false, true, "met"),
		capOutcome("s2", 2, 0.5, 256, 700, false, true, "met"),
	}
	if fs := BestConfig(outcomes); len(fs) != 0 {
		t.Errorf("BestConfig judged searches: %s", texts(fs))
	}
	check(t, ReplicaScaling(outcomes, 2), []string{"No two completed scenarios differ only in their number of replicas"}, []string{"s1", "s2"})
	at := slices.Index(Columns, "search")
	if r := Record(outcomes[1]); r[at] != "50/s..800/s" || r[at+1] != "700.00" || r[at+2] != "700.00" || r[at+3] != "1400.00" || r[at+4] != "1" || r[at+5] != "false" {
		t.Errorf("capacity columns %q", r[at:at+6])
	}
	if r := Record(oc("c", 1, 0, 0, "none", 5, 10, 10)); r[at+1] != "" || r[at+5] != "" {
		t.Errorf("capacity columns of a closed scenario %q", r[at:at+6])
	}
}
