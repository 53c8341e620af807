package spec

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestLLMStudyGrid pins what the LLM sizing study (scenarios/llm.yaml) needs for
// its findings, within its time budget: streamed answers with goodput limits;
// every swept configuration at three or more rates (where TTFT departs); a
// configuration swept behind both the client's round-robin and the proxy's
// least_conn; capacity searches on goodput with Poisson steps; CPUs per replica
// 0.5, 1 and 2 and replicas 1, 2 and 4.
func TestLLMStudyGrid(t *testing.T) {
	f, err := Load(filepath.Join(repoScenarios(t), "llm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Request.Stream != "sse" || f.SLO == nil || f.SLO.Goodput == nil {
		t.Fatalf("request.stream %q, slo %+v: the study streams and sets goodput limits", f.Request.Stream, f.SLO)
	}
	var total time.Duration
	rates := map[string][]float64{}    // swept configuration -> rates
	balancers := map[string][]string{} // replicas x CPUs -> balancers swept
	var cpus []float64
	var replicas []int
	searches := 0
	for _, s := range f.Scenarios() {
		total += s.Estimate()
		cpus, replicas = appendNew(cpus, s.CPUs), appendNew(replicas, s.Replicas)
		if s.Load.Arrival != "poisson" {
			t.Errorf("%s: arrival %q, want poisson", s.ID, s.Load.Arrival)
		}
		if s.Load.Search() {
			searches++
			if !s.Load.SearchOnGoodput {
				t.Errorf("%s: a capacity search not on goodput", s.ID)
			}
			continue
		}
		shape := fmt.Sprintf("%d x %g", s.Replicas, s.CPUs)
		cfg := shape + " " + s.BalancerLabel()
		rates[cfg] = appendNew(rates[cfg], s.Load.Rate)
		balancers[shape] = appendNew(balancers[shape], s.BalancerLabel())
	}
	for cfg, rs := range rates {
		if len(rs) < 3 {
			t.Errorf("%s is swept at %v: a knee needs three rates or more", cfg, rs)
		}
	}
	paired := false
	for _, bs := range balancers {
		paired = paired || (slices.Contains(bs, "client") && slices.Contains(bs, "proxy:least_conn"))
	}
	if !paired {
		t.Errorf("no configuration is swept behind both client and proxy:least_conn: %v", balancers)
	}
	slices.Sort(cpus)
	slices.Sort(replicas)
	if searches == 0 || !slices.Equal(cpus, []float64{0.5, 1, 2}) || !slices.Equal(replicas, []int{1, 2, 4}) {
		t.Errorf("%d searches, CPUs %v, replicas %v; want searches, CPUs 0.5, 1, 2 and replicas 1, 2, 4", searches, cpus, replicas)
	}
	// Stacks of four replicas behind the proxy take about 18s to come up and down
	// against the estimate's 10s: an estimate under 13 minutes keeps make
	// study-llm under 20.
	if total > 13*time.Minute {
		t.Errorf("scenarios/llm.yaml is estimated at %v; keep it under 13 minutes", total)
	}
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
