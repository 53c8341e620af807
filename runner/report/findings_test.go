package report

import (
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// oc builds an ok outcome of a closed-model scenario.
func oc(id string, replicas int, cpus float64, memMiB int64, balancer string, users int, p99ms float64, rps float64) result.Outcome {
	return result.Outcome{
		Scenario: result.Scenario{ID: id, Block: "b", Replicas: replicas, CPUs: cpus, MemoryBytes: memMiB << 20,
			Balancer: balancer, Users: users, SpawnRate: 10, Duration: 30 * time.Second},
		Status: result.StatusOK,
		Load: result.Load{Requests: 1000, ThroughputRPS: rps, RateRPS: rps, SuccessRatio: 1,
			Latency: result.Latency{P50: time.Duration(p99ms/2) * time.Millisecond, P95: time.Duration(p99ms*0.8) * time.Millisecond, P99: time.Duration(p99ms) * time.Millisecond}},
	}
}

func withSLO(o result.Outcome, pass bool, failures ...string) result.Outcome {
	o.SLOPass = &pass
	o.SLOFailures = failures
	return o
}

// texts joins the findings' texts for substring checks.
func texts(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Rule + ": " + f.Text + "\n")
	}
	return b.String()
}

func check(t *testing.T, fs []Finding, want, notWant []string) {
	t.Helper()
	got := texts(fs)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("findings lack %q:\n%s", w, got)
		}
	}
	for _, w := range notWant {
		if strings.Contains(got, w) {
			t.Errorf("findings contain %q:\n%s", w, got)
		}
	}
}

func TestBestConfig(t *testing.T) {
	short := withSLO(oc("open-400", 1, 2, 0, "client", 0, 5, 300), true)
	short.Scenario.Users, short.Scenario.Rate, short.Load.RequestedRPS, short.Load.Shortfall = 0, "400/s", 400, true
	open100 := withSLO(oc("open-100", 1, 2, 0, "client", 0, 5, 100), true)
	open100.Scenario.Users, open100.Scenario.Rate, open100.Load.RequestedRPS = 0, "100/s", 100
	failedHigh := withSLO(oc("big-1000", 4, 1, 1000, "client", 1000, 0, 0), false, "scenario failed")
	failedHigh.Status, failedHigh.Load = result.StatusFailed, result.Load{}
	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{
			name: "no slo",
			in:   []result.Outcome{oc("a", 1, 1, 100, "none", 10, 5, 10)},
			want: []string{"No SLO was set"},
		},
		{
			name: "highest load wins, then least cpu, then least memory",
			in: []result.Outcome{
				withSLO(oc("small-10", 1, 0.5, 100, "none", 10, 5, 10), true),
				withSLO(oc("big-500", 4, 1, 1000, "client", 500, 50, 90), true),
				withSLO(oc("mid-500", 2, 1, 1000, "client", 500, 80, 85), true),
				withSLO(oc("mid-500-lessmem", 2, 1, 500, "client", 500, 90, 84), true),
				withSLO(oc("tiny-500", 1, 1, 500, "none", 500, 9000, 20), false, "p95 7.2s > 3s"),
				failedHigh,
			},
			want: []string{"Closed model: the highest load that met the SLO was 500 users, spawn 10/s",
				"2 replicas × 1 CPU × 500MiB, balancer client (2 CPUs, 1000MiB in total)", "3 configurations met it at that load",
				"Higher loads tried failed or missed the SLO (1000 users, spawn 10/s)"},
			notWant: []string{"small-10"},
		},
		{
			name: "unlimited counts as most",
			in: []result.Outcome{
				withSLO(oc("unl", 1, 0, 0, "none", 50, 5, 10), true),
				withSLO(oc("lim", 1, 4, 4000, "none", 50, 9, 10), true),
			},
			want: []string{"1 replica × 4 CPUs × 3.91GiB"},
		},
		{
			name: "nothing passes",
			in: []result.Outcome{
				withSLO(oc("a-100", 1, 1, 100, "none", 100, 900, 10), false, "p95 4s > 3s"),
				withSLO(oc("a-10", 1, 1, 100, "none", 10, 400, 10), false, "p95 3.2s > 3s"),
			},
			want: []string{"no configuration met the SLO; the closest at the lowest load tried was 1 replica × 1 CPU × 100MiB, balancer none at 10 users, spawn 10/s", "p95 3.2s > 3s"},
		},
		{
			name: "shortfall does not count, per model",
			in:   []result.Outcome{short, open100, withSLO(oc("c", 1, 1, 100, "none", 10, 5, 10), true)},
			want: []string{"Open model: the highest load that met the SLO was 100/s", "`open-400` (400/s) is not counted: its load generator fell short, sending 300/s",
				"Closed model: the highest load that met the SLO was 10 users, spawn 10/s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, BestConfig(tt.in), tt.want, tt.notWant) })
	}
}

func TestFailures(t *testing.T) {
	oom := oc("oom", 1, 0, 700, "none", 100, 4000, 10)
	oom.Status, oom.Error = result.StatusFailed, "replica x was OOM-killed"
	oom.Resources.OOMKills, oom.Resources.PeakMemBytes = 2, 699<<20
	oom.Load.SuccessRatio = 0.9
	oom.Load.Errors = map[string]uint64{"EOF": 20, "connection refused": 80}
	slo := withSLO(oc("slow", 1, 1, 100, "none", 10, 5000, 10), false, "p95 4s > 3s")
	restart := oc("restart", 1, 1, 100, "none", 10, 5, 10)
	restart.Resources.Restarts = 1
	skipped := result.Outcome{Scenario: result.Scenario{ID: "skip", Replicas: 1, Users: 1}, Status: result.StatusSkipped, Error: "resumed run"}
	tiny := oc("tiny-errors", 1, 1, 100, "none", 10, 5, 10)
	tiny.Load.Requests, tiny.Load.SuccessRatio = 100000, 0.99999
	thrash := oc("thrash", 1, 0, 60, "none", 100, 5, 10)
	thrash.Resources.OOMKills, thrash.Resources.PeakMemBytes = 1, 59<<20
	thrash.Resources.Containers = []result.ContainerSummary{{Name: "app-1", AtLimitBeforeOOM: 98 * time.Second}, {Name: "app-2"}}
	thrash.Resources.Services = []result.ServiceSummary{{ContainerSummary: result.ContainerSummary{Name: "mlflow-1", PeakMemBytes: 990, MemLimitBytes: 1000, AtLimitBeforeOOM: 3 * time.Second}, OOMKills: 1}}
	startFail := thrash
	startFail.Status, startFail.Error = result.StatusFailed, "stack did not come up: replica app-1 exited before becoming healthy: OOM-killed (exit code 137); replica app-1 sat at its memory limit for 1m38s before the OOM kill"
	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{name: "all fine", in: []result.Outcome{oc("a", 1, 1, 100, "none", 10, 5, 10), tiny},
			want: []string{"All 2 scenarios completed with no failure, OOM kill, restart or missed SLO, and under 0.1% failed requests."}, notWant: []string{"tiny-errors`"}},
		{name: "oom with errors", in: []result.Outcome{oom},
			want: []string{"`oom`", "failed: replica x was OOM-killed", "2 OOM kills at a 700MiB memory limit (peak 699MiB)", `10.0% of 1000 requests failed, most often "connection refused" (80×)`}},
		{name: "slo missed", in: []result.Outcome{slo}, want: []string{"missed the SLO: p95 4s > 3s"}},
		{name: "restart", in: []result.Outcome{restart}, want: []string{"1 container restart"}},
		{name: "skipped", in: []result.Outcome{skipped}, want: []string{"skipped: resumed run"}},
		{name: "oom after time at the limit", in: []result.Outcome{thrash}, want: []string{
			"1 OOM kill at a 60MiB memory limit (peak 59MiB); replica app-1 sat at its memory limit for 1m38s before the OOM kill;",
			"side service mlflow-1: 1 OOM kill (peak 990B of 1000B), at its memory limit for 3s before the OOM kill"}, notWant: []string{"app-2"}},
		{name: "the failure says it already", in: []result.Outcome{startFail}, want: []string{"OOM-killed (exit code 137); replica app-1 sat at its memory limit for 1m38s before the OOM kill; 1 OOM kill at a 60MiB memory limit (peak 59MiB); side service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, Failures(tt.in), tt.want, tt.notWant) })
	}
}

func TestImbalance(t *testing.T) {
	eps := func(n ...uint64) []result.EndpointCount {
		var out []result.EndpointCount
		for i, r := range n {
			out = append(out, result.EndpointCount{URL: "http://127.0.0.1:" + string(rune('0'+i)), Requests: r})
		}
		return out
	}
	cont := func(cpu ...float64) []result.ContainerSummary {
		var out []result.ContainerSummary
		for _, c := range cpu {
			out = append(out, result.ContainerSummary{MeanCPUPct: c})
		}
		return out
	}
	none2 := oc("none-2", 2, 1, 100, "none", 10, 5, 10)
	none2.Load.Endpoints, none2.Resources.Containers = eps(1000, 0), cont(0.2, 85)
	none4 := oc("none-4", 4, 1, 100, "none", 10, 5, 10)
	none4.Load.Endpoints, none4.Resources.Containers = eps(1000, 0, 0, 0), cont(90, 0.1, 0.3, 0.1)
	client := oc("client-4", 4, 1, 100, "client", 10, 5, 10)
	client.Load.Endpoints, client.Resources.Containers = eps(251, 249, 250, 250), cont(20, 20, 20, 20)
	skew := oc("client-skew", 2, 1, 100, "client", 10, 5, 10)
	skew.Load.Endpoints = eps(900, 100)
	single := oc("single", 1, 1, 100, "none", 10, 5, 10)
	single.Load.Endpoints = eps(1000)
	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{name: "none is imbalanced and others idle", in: []result.Outcome{none2, none4},
			want: []string{"Balancer none, 2 scenarios with more than one replica: imbalanced in every one: the busiest replica took 100.0% of the requests where a fair share was 25.0% to 50.0%",
				"by construction", "at least 85.0% CPU, the next busiest at most 0.3%, so the other replicas idled"}},
		{name: "client even", in: []result.Outcome{client},
			want: []string{"Balancer client, 1 scenario with more than one replica: requests were spread evenly; the busiest replica took at most 25.1% where its fair share was 25.0%"}},
		{name: "client partly skewed", in: []result.Outcome{client, skew},
			want: []string{"1 of them were imbalanced; the worst, `client-skew`, sent 90.0% of the requests to one replica where its fair share was 50.0%"}},
		{name: "single replica says nothing", in: []result.Outcome{single}, notWant: []string{"Balancer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, Imbalance(tt.in), tt.want, tt.notWant) })
	}
}

func TestReplicaScaling(t *testing.T) {
	tests := []struct {
		name          string
		in            []result.Outcome
		host          int
		want, notWant []string
	}{
		{name: "same total cpus, more replicas hurt", in: []result.Outcome{
			oc("r2", 2, 1.5, 1000, "client", 500, 100, 80), oc("r6", 6, 0.5, 500, "client", 500, 200, 60)},
			want: []string{"Same 3 CPUs in total, 500 users, spawn 10/s, balancer client: 6 replicas × 0.5 CPUs instead of 2 × 1.5 CPUs hurt: p99 200 ms vs 100 ms (+100.0%), throughput 60.0/s vs 80.0/s (-25.0%)"}},
		{name: "same total cpus, more replicas helped", in: []result.Outcome{
			oc("r2", 2, 1.5, 1000, "client", 500, 200, 60), oc("r6", 6, 0.5, 500, "client", 500, 100, 80)},
			want: []string{"instead of 2 × 1.5 CPUs helped"}},
		{name: "no clear difference", in: []result.Outcome{
			oc("r2", 2, 1.5, 1000, "client", 500, 100, 80), oc("r6", 6, 0.5, 500, "client", 500, 105, 79)},
			want: []string{"made no clear difference"}},
		{name: "scaling in a block beyond the host", host: 2, in: []result.Outcome{
			oc("r2", 2, 1.5, 1000, "client", 500, 100, 80), oc("r4", 4, 1.5, 1000, "client", 500, 80, 84)},
			want: []string{"More replicas at 1.5 CPUs and 1000MiB each (block b), 500 users, spawn 10/s, balancer client: 4 replicas instead of 2 helped",
				"4 × 1.5 CPUs = 6 CPUs exceed the host's 2 CPUs"}},
		{name: "none balancer says why", in: []result.Outcome{
			oc("r2", 2, 1, 1000, "none", 10, 100, 80), oc("r4", 4, 1, 1000, "none", 10, 100, 80)},
			want: []string{"made no clear difference", "With no balancer the extra replicas receive no requests."}},
		{name: "different load levels are not compared", in: []result.Outcome{
			oc("r2", 2, 1, 1000, "client", 10, 100, 80), oc("r4", 4, 1, 1000, "client", 500, 100, 80)},
			want: []string{"No two completed scenarios differ only in their number of replicas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, ReplicaScaling(tt.in, tt.host), tt.want, tt.notWant) })
	}
}

func TestVerdict(t *testing.T) {
	l := func(p99ms int, rps float64, ok float64) result.Load {
		return result.Load{Requests: 1000, SuccessRatio: ok, ThroughputRPS: rps, Latency: result.Latency{P99: time.Duration(p99ms) * time.Millisecond}}
	}
	tests := []struct {
		a, b result.Load
		want string
	}{
		{l(100, 100, 1), l(100, 100, 1), "made no clear difference"},
		{l(100, 100, 1), l(50, 100, 1), "helped"},
		{l(100, 100, 1), l(100, 120, 1), "helped"},
		{l(100, 100, 1), l(150, 100, 1), "hurt"},
		{l(100, 100, 1), l(100, 100, 0.9), "hurt"},
		{l(100, 100, 1), l(50, 80, 1), "traded one for the other"},
	}
	for _, tt := range tests {
		if got := verdict(tt.a, tt.b); got != tt.want {
			t.Errorf("verdict(%v, %v) = %q, want %q", tt.a.Latency.P99, tt.b.Latency.P99, got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	bytes := map[int64]string{0: "0B", 512: "512B", 1536: "1.5KiB", 700 << 20: "700MiB", 1000 << 20: "1000MiB",
		10 << 30: "10GiB", 3<<30 + 1<<29: "3.5GiB", 699<<20 + 300<<10: "699MiB", 12<<20 + 350<<10: "12.3MiB", 1 << 40: "1TiB"}
	for in, want := range bytes {
		if got := bytesLabel(in); got != want {
			t.Errorf("bytesLabel(%d) = %q, want %q", in, got, want)
		}
	}
	rates := map[string]float64{"200/s": 200, "120/m": 2, "10/s..2000/s": 1005, "5/100ms": 50, "": 0, "x/s": 0, "5/bogus": 0}
	for in, want := range rates {
		if got := parseRate(in); got != want {
			t.Errorf("parseRate(%q) = %v, want %v", in, got, want)
		}
	}
	ms := map[time.Duration]string{1500 * time.Microsecond: "1.50", 12345 * time.Microsecond: "12.3", 4100 * time.Millisecond: "4100"}
	for in, want := range ms {
		if got := msLabel(in); got != want {
			t.Errorf("msLabel(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestBestConfigKeepsThinkTimesApart(t *testing.T) {
	thinking := withSLO(oc("think-1000", 1, 1, 100, "none", 1000, 50, 900), true)
	thinking.Scenario.Think = "1s"
	busy := withSLO(oc("busy-100", 1, 1, 100, "none", 100, 50, 900), true)
	check(t, BestConfig([]result.Outcome{thinking, busy}), []string{
		"Closed model: the highest load that met the SLO was 100 users, spawn 10/s;",
		"Closed model (think 1s): the highest load that met the SLO was 1000 users, spawn 10/s, think 1s;",
	}, nil)
}

func TestMarkdownShowsEveryRule(t *testing.T) {
	d, err := Read("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	fs := append(Findings(d.Run, d.Outcomes()), Finding{Rule: "capacity", Text: "a finding of a rule added later"})
	var b strings.Builder
	if err := Markdown(&b, d, fs, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !strings.Contains(b.String(), f.Text) {
			t.Errorf("report.md lacks finding %q", f.Text)
		}
	}
	if strings.Contains(b.String(), ".png") {
		t.Error("report.md links plots that were not drawn")
	}
}

func TestProxyOverhead(t *testing.T) {
	open := func(id, balancer string, p50, p99 float64) result.Outcome {
		o := oc(id, 3, 0.5, 256, balancer, 0, p99, 100)
		o.Scenario.Users, o.Scenario.Rate, o.Load.RequestedRPS = 0, "100/s", 100
		o.Load.Latency.P50 = time.Duration(p50 * float64(time.Millisecond))
		return o
	}
	client := open("c-100", "client", 2, 10)
	px := open("p-100", "proxy", 2.5, 14)
	px.Resources.Balancer = &result.ContainerSummary{Name: "x-balancer-1", MeanCPUPct: 12.34, PeakMemBytes: 15 << 20}
	lc := open("lc-100", "proxy:least_conn", 1.9, 9)
	other := open("p-300", "proxy", 3, 20) // no client twin at 300/s
	other.Scenario.Rate = "300/s"
	closedClient := oc("cc", 3, 0.5, 256, "client", 10, 10, 50)
	closedProxy := oc("cp", 3, 0.5, 256, "proxy", 10, 12, 48)
	failed := open("pf", "proxy", 1, 1)
	failed.Status = result.StatusFailed

	tests := []struct {
		name          string
		in            []result.Outcome
		want, notWant []string
	}{
		{"pairs at a fixed rate", []result.Outcome{client, px, lc, other, failed},
			[]string{
				"Balancer proxy instead of client, 100/s, 3 × 0.5 CPUs: p50 2.50 ms vs 2.00 ms (+0.50 ms), p99 14.0 ms vs 10.0 ms (+4.00 ms), throughput 100/s vs 100/s; the proxy itself used 12.3% CPU on average and at most 15MiB.",
				"Balancer proxy:least_conn instead of client, 100/s, 3 × 0.5 CPUs: p50 1.90 ms vs 2.00 ms (-0.10 ms), p99 9.00 ms vs 10.0 ms (-1.00 ms)",
			},
			[]string{"300/s", "pf", "client-balanced twin"}},
		{"closed model is indicative", []result.Outcome{closedClient, closedProxy},
			[]string{"Balancer proxy instead of client, 10 users", "so this is indicative"}, nil},
		{"no twin", []result.Outcome{other},
			[]string{"No scenario balanced by the proxy has a client-balanced twin"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := ProxyOverhead(tt.in)
			for _, f := range fs {
				if f.Rule != RuleProxy {
					t.Errorf("rule %q", f.Rule)
				}
			}
			check(t, fs, tt.want, tt.notWant)
		})
	}
	if fs := ProxyOverhead([]result.Outcome{client}); len(fs) != 0 {
		t.Errorf("findings without any proxy scenario: %v", fs)
	}
	fs := ProxyOverhead([]result.Outcome{client, px})
	if len(fs) != 1 || len(fs[0].Scenarios) != 2 || fs[0].Scenarios[0] != "c-100" || fs[0].Scenarios[1] != "p-100" {
		t.Errorf("scenarios of the finding: %+v", fs)
	}
}

func TestMarkdownShowsBalancer(t *testing.T) {
	d, err := Read("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Markdown(&b, d, nil, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "balancer CPU") {
		t.Error("a run without a balancer got a balancer column")
	}
	d.Scenarios[0].Outcome.Resources.Balancer = &result.ContainerSummary{Name: "p-balancer-1", MeanCPUPct: 12.34, PeakMemBytes: 15 << 20, MemLimitBytes: 64 << 20}
	b.Reset()
	fs := []Finding{{Rule: RuleProxy, Text: "the proxy added 1 ms"}}
	if err := Markdown(&b, d, fs, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"balancer CPU / peak memory", "12.3% / 15MiB", "**Proxy overhead**\n\n- the proxy added 1 ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

func TestGenerator(t *testing.T) {
	lagged := oc("lag", 1, 1, 256, "none", 0, 5, 1000)
	lagged.Scenario.Users, lagged.Scenario.Rate = 0, "1000/s"
	lagged.Load.GeneratorBound, lagged.Load.SendLagP99 = true, 8*time.Millisecond
	capped := oc("cap", 1, 1, 256, "none", 0, 900, 400)
	capped.Scenario.Users, capped.Scenario.Rate = 0, "5000/s"
	capped.Load.GeneratorBound, capped.Load.Shortfall = true, true
	capped.Load.MaxInFlight, capped.Load.PeakInFlight, capped.Load.GeneratorCPUShare = 20, 20, 0.95
	fine := oc("fine", 1, 1, 256, "none", 10, 5, 1000)
	fs := Generator([]result.Outcome{lagged, capped, fine})
	check(t, fs, []string{
		"`lag` (1000/s): the load generator, not the service, may have bounded these numbers: send lag p99 8.00 ms: a p99 below 80.0 ms is not trustworthy here.",
		"`cap` (5000/s): the load generator, not the service, may have bounded these numbers: it used 95% of its CPUs; the rate fell short with all 20 connections busy.",
	}, []string{"fine"})
	for _, f := range fs {
		if f.Rule != RuleGenerator || len(f.Scenarios) != 1 {
			t.Errorf("finding %+v", f)
		}
	}
}

func TestAgents(t *testing.T) {
	spread := oc("spread", 1, 1, 256, "none", 0, 5, 1000)
	spread.Load.Generators = []result.Generator{
		{Name: "s_agent.1", Node: "n1", RateRPS: 333, RequestedRPS: 333.3, CPUShare: 0.2, Procs: 1},
		{Name: "s_agent.2", Node: "n2", RateRPS: 200, RequestedRPS: 333.3, Shortfall: true, CPUShare: 0.97, Procs: 1,
			SendLagP99: 40 * time.Millisecond, Overloaded: true},
	}
	fine := oc("fine", 1, 1, 256, "none", 10, 5, 1000)
	fine.Load.Generators = []result.Generator{{Name: "f_agent.1", RateRPS: 10, RequestedRPS: 10}}
	fs := Agents([]result.Outcome{spread, fine})
	check(t, fs, []string{
		"`spread`: 1 of its 2 load agents were overloaded, so the load may not be what was asked: `s_agent.2` on n2 (CPU 97% of its 1, sent 200.0/s of its 333.3/s, send lag p99 40.0 ms).",
	}, []string{"fine"})
	if len(fs) != 1 || fs[0].Rule != RuleAgents {
		t.Errorf("findings %+v", fs)
	}
}
