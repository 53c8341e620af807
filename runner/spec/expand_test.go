package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

var update = flag.Bool("update", false, "rewrite scenarios/schema.json")

func TestScenarios(t *testing.T) {
	dir := fixture(t)
	type row struct {
		ID       string
		Replicas int
		CPUs     float64
		Mem      int64
		Balancer string
		Load     Workload
	}
	closed := func(users int, spawn float64, d, w time.Duration) Workload {
		return Workload{Users: users, SpawnRate: spawn, Duration: d, Warmup: w, Timeout: DefaultTimeout}
	}
	tests := []struct {
		name string
		src  string
		want []row
	}{
		{
			name: "built-in defaults",
			src:  head + "grid: [{name: a, load: [{users: 1, spawn_rate: 1}]}]\n",
			want: []row{{"a-r1-cpu_unl-mem_unl-client-u1s1", 1, 0, 0, "client", closed(1, 1, DefaultDuration, DefaultWarmup)}},
		},
		{
			name: "file defaults fill what blocks omit; the last axis varies fastest",
			src: head + `defaults: {duration: 7s, warmup: 0s, balancer: none, replicas: 2, cpus: 0.5, memory: 700M, spawn_rate: 3}
grid:
  - name: b
    replicas: [1, 3]
    memory: [1G, unlimited]
    load: [{users: 4}, {users: 8, spawn_rate: 2, duration: 9s}]
  - name: c
    load: [{users: 4}]
`,
			want: []row{
				{"b-r1-cpu0_5-mem1g-none-u4s3", 1, 0.5, 1 << 30, "none", closed(4, 3, 7*time.Second, 0)},
				{"b-r1-cpu0_5-mem1g-none-u8s2-d9s", 1, 0.5, 1 << 30, "none", closed(8, 2, 9*time.Second, 0)},
				{"b-r1-cpu0_5-mem_unl-none-u4s3", 1, 0.5, 0, "none", closed(4, 3, 7*time.Second, 0)},
				{"b-r1-cpu0_5-mem_unl-none-u8s2-d9s", 1, 0.5, 0, "none", closed(8, 2, 9*time.Second, 0)},
				{"b-r3-cpu0_5-mem1g-none-u4s3", 3, 0.5, 1 << 30, "none", closed(4, 3, 7*time.Second, 0)},
				{"b-r3-cpu0_5-mem1g-none-u8s2-d9s", 3, 0.5, 1 << 30, "none", closed(8, 2, 9*time.Second, 0)},
				{"b-r3-cpu0_5-mem_unl-none-u4s3", 3, 0.5, 0, "none", closed(4, 3, 7*time.Second, 0)},
				{"b-r3-cpu0_5-mem_unl-none-u8s2-d9s", 3, 0.5, 0, "none", closed(8, 2, 9*time.Second, 0)},
				{"c-r2-cpu0_5-mem700m-none-u4s3", 2, 0.5, 700 << 20, "none", closed(4, 3, 7*time.Second, 0)},
			},
		},
		{
			name: "block duration and warmup override defaults, entries override blocks",
			src: head + `defaults: {duration: 7s, warmup: 2s}
grid:
  - {name: d, duration: 3s, warmup: 1s, balancer: [none, client], load: [{rate: 10/s}, {rate: 5/s, warmup: 0s}]}
`,
			want: []row{
				{"d-r1-cpu_unl-mem_unl-none-rate10", 1, 0, 0, "none", Workload{Rate: 10, Duration: 3 * time.Second, Warmup: time.Second, Timeout: DefaultTimeout}},
				{"d-r1-cpu_unl-mem_unl-none-rate5-w0s", 1, 0, 0, "none", Workload{Rate: 5, Duration: 3 * time.Second, Timeout: DefaultTimeout}},
				{"d-r1-cpu_unl-mem_unl-client-rate10", 1, 0, 0, "client", Workload{Rate: 10, Duration: 3 * time.Second, Warmup: time.Second, Timeout: DefaultTimeout}},
				{"d-r1-cpu_unl-mem_unl-client-rate5-w0s", 1, 0, 0, "client", Workload{Rate: 5, Duration: 3 * time.Second, Timeout: DefaultTimeout}},
			},
		},
		{
			name: "open model: per-minute rate, ramp, workers, timeout; think ranges",
			src: head + `defaults: {think: 1s}
grid:
  - name: o
    cpus: [1.5]
    load:
      - {rate: 600/m}
      - {rate: {from: 10/s, to: 2000/s}, max_workers: 64, timeout: 1s}
      - {users: 2, spawn_rate: 0.5}
      - {users: 2, spawn_rate: 1, think: 500ms..1.5s}
`,
			want: []row{
				{"o-r1-cpu1_5-mem_unl-client-rate10", 1, 1.5, 0, "client", Workload{Rate: 10, Duration: DefaultDuration, Warmup: DefaultWarmup, Timeout: DefaultTimeout}},
				{"o-r1-cpu1_5-mem_unl-client-rate10to2000-to1s-mw64", 1, 1.5, 0, "client", Workload{RateFrom: 10, RateTo: 2000, MaxWorkers: 64, Duration: DefaultDuration, Warmup: DefaultWarmup, Timeout: time.Second}},
				{"o-r1-cpu1_5-mem_unl-client-u2s0_5-t1s", 1, 1.5, 0, "client", Workload{Users: 2, SpawnRate: 0.5, ThinkMin: time.Second, ThinkMax: time.Second, Duration: DefaultDuration, Warmup: DefaultWarmup, Timeout: DefaultTimeout}},
				{"o-r1-cpu1_5-mem_unl-client-u2s1-t500msto1_5s", 1, 1.5, 0, "client", Workload{Users: 2, SpawnRate: 1, ThinkMin: 500 * time.Millisecond, ThinkMax: 1500 * time.Millisecond, Duration: DefaultDuration, Warmup: DefaultWarmup, Timeout: DefaultTimeout}},
			},
		},
		{
			name: "capacity search: one scenario per configuration, step defaults",
			src: head + `slo: {p99: 500ms}
defaults: {duration: 7s, warmup: 2s}
grid:
  - name: cap
    cpus: [0.5, 1]
    load:
      - {search: {from: 50/s, to: 5000/s}}
      - {search: {from: 10/s, to: 80/s, steps: 4, step_duration: 3s, precision: 2.5%}, warmup: 1s, max_workers: 9}
`,
			want: []row{
				{"cap-r1-cpu0_5-mem_unl-client-search50to5000", 1, 0.5, 0, "client", Workload{SearchFrom: 50, SearchTo: 5000, SearchSteps: DefaultSearchSteps, SearchPrecision: DefaultSearchPrecision, Duration: DefaultStepDuration, Warmup: 2 * time.Second, Timeout: DefaultTimeout}},
				{"cap-r1-cpu0_5-mem_unl-client-search10to80-n4-sd3s-p2_5-w1s-mw9", 1, 0.5, 0, "client", Workload{SearchFrom: 10, SearchTo: 80, SearchSteps: 4, SearchPrecision: 0.025, Duration: 3 * time.Second, Warmup: time.Second, Timeout: DefaultTimeout, MaxWorkers: 9}},
				{"cap-r1-cpu1-mem_unl-client-search50to5000", 1, 1, 0, "client", Workload{SearchFrom: 50, SearchTo: 5000, SearchSteps: DefaultSearchSteps, SearchPrecision: DefaultSearchPrecision, Duration: DefaultStepDuration, Warmup: 2 * time.Second, Timeout: DefaultTimeout}},
				{"cap-r1-cpu1-mem_unl-client-search10to80-n4-sd3s-p2_5-w1s-mw9", 1, 1, 0, "client", Workload{SearchFrom: 10, SearchTo: 80, SearchSteps: 4, SearchPrecision: 0.025, Duration: 3 * time.Second, Warmup: time.Second, Timeout: DefaultTimeout, MaxWorkers: 9}},
			},
		},
		{
			name: "external: only load axes in the ID",
			src: `name: ext
platform: external
targets: [http://127.0.0.1:1]
grid: [{name: e, balancer: [none], load: [{users: 3, spawn_rate: 3}]}]
`,
			want: []row{{"e-none-u3s3", 0, 0, 0, "none", closed(3, 3, DefaultDuration, DefaultWarmup)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := loadString(t, dir, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for i, s := range f.Scenarios() {
				if s.Index != i {
					t.Errorf("%s: Index %d, want %d", s.ID, s.Index, i)
				}
				got = append(got, row{s.ID, s.Replicas, s.CPUs, s.MemoryBytes, s.Balancer, s.Load})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scenarios:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAnchors(t *testing.T) {
	dir := fixture(t)
	f, err := loadString(t, dir, head+`defaults: &d {duration: 3s}
grid:
  - &blk {name: m, replicas: [2], cpus: [1], load: [{rate: 1/s}]}
  - {<<: *blk, name: n, memory: [1G]}
`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range f.Scenarios() {
		ids = append(ids, s.ID)
	}
	want := []string{"m-r2-cpu1-mem_unl-client-rate1", "n-r2-cpu1-mem1g-client-rate1"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("IDs = %v, want %v", ids, want)
	}
}

func TestResult(t *testing.T) {
	s := Scenario{ID: "a-x", Block: "a", Replicas: 2, CPUs: 1.5, MemoryBytes: 1 << 30, Balancer: "none",
		Load: Workload{Users: 10, SpawnRate: 2.5, ThinkMin: time.Second, ThinkMax: 3 * time.Second, Duration: 20 * time.Second, Warmup: 5 * time.Second}}
	want := result.Scenario{ID: "a-x", Block: "a", Replicas: 2, CPUs: 1.5, MemoryBytes: 1 << 30, Balancer: "none",
		Users: 10, SpawnRate: 2.5, Think: "1s..3s", Duration: 20 * time.Second, Warmup: 5 * time.Second}
	if got := s.Result(); got != want {
		t.Errorf("closed Result() = %+v, want %+v", got, want)
	}
	s.Load = Workload{RateFrom: 10, RateTo: 2000.5, Duration: time.Second}
	if got := s.Result(); got.Rate != "10/s..2000.5/s" || got.Users != 0 || got.Think != "" {
		t.Errorf("ramp Result() = %+v", got)
	}
	s.Load = Workload{Rate: 200, Duration: time.Second}
	if got := s.Result(); got.Rate != "200/s" {
		t.Errorf("open Result() = %+v", got)
	}
	if got := s.Estimate(); got != time.Second+Overhead {
		t.Errorf("Estimate() = %v", got)
	}
	s.Load = Workload{SearchFrom: 50, SearchTo: 5000, SearchSteps: 8, SearchPrecision: 0.05, Duration: 10 * time.Second, Warmup: 2 * time.Second}
	if got := s.Result(); got.Search != "50/s..5000/s" || got.Rate != "" || got.Duration != 10*time.Second {
		t.Errorf("search Result() = %+v", got)
	}
	if got := s.Estimate(); got != 8*12*time.Second+Overhead {
		t.Errorf("search Estimate() = %v, want every step of the budget", got)
	}
	if got, want := s.Load.String(), "search 50/s..5000/s (8 steps of 10s, 5%)"; got != want {
		t.Errorf("search String() = %q, want %q", got, want)
	}
	if s.Load.Ramp() || s.Load.Closed() || !s.Load.Search() {
		t.Error("a search is neither a ramp nor closed")
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// TestRepositoryIDs checks that the shipped scenario files expand to unique,
// filesystem- and compose-safe IDs that start with the block name, the same on
// every load, and pins the workshop's grid.
func TestRepositoryIDs(t *testing.T) {
	dir := repoScenarios(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(dir, "examples", "*.yaml"))
	for _, p := range append(files, more...) {
		a, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, s := range a.Scenarios() {
			if !idPattern.MatchString(s.ID) || len(s.ID) > 100 || seen[s.ID] || s.ID[:len(s.Block)] != s.Block {
				t.Errorf("%s: bad or repeated ID %q", p, s.ID)
			}
			seen[s.ID] = true
			if s.ID != b.Scenarios()[i].ID {
				t.Errorf("%s: ID %s is not stable", p, s.ID)
			}
		}
	}
	w, err := Load(filepath.Join(dir, "workshop5.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var total time.Duration
	for _, s := range w.Scenarios() {
		counts[s.Block]++
		total += s.Estimate()
	}
	if want := map[string]int{"memory": 3, "unrestricted": 3, "replicas": 8, "replicas-small": 4,
		"capacity-single": 1, "capacity-small": 1, "capacity-replicas": 2}; !reflect.DeepEqual(counts, want) {
		t.Errorf("workshop5 blocks = %v, want %v", counts, want)
	}
	if total > 25*time.Minute {
		t.Errorf("workshop5 is estimated at %v; keep it under 25 minutes", total)
	}
}

// TestSchemaUpToDate checks that scenarios/schema.json is what `runner schema`
// writes now (go test -update rewrites it) and that it describes every key.
func TestSchemaUpToDate(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join("..", "..", "scenarios", "schema.json")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go run ./cmd/runner schema --out scenarios/schema.json (or go test ./runner/spec -update)", p)
	}
	var schema struct {
		Properties map[string]struct {
			Description string `json:"description"`
		} `json:"properties"`
		Defs map[string]struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(got, &schema); err != nil {
		t.Fatal(err)
	}
	for _, k := range fieldKeys(reflect.TypeFor[File]()) {
		if schema.Properties[k].Description == "" {
			t.Errorf("schema: %s has no description", k)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Service](), reflect.TypeFor[Request](), reflect.TypeFor[Defaults](), reflect.TypeFor[Block](), reflect.TypeFor[LoadEntry](), reflect.TypeFor[Search](), reflect.TypeFor[SLO]()} {
		def, ok := schema.Defs[typ.Name()]
		if !ok {
			t.Errorf("schema: no $defs/%s", typ.Name())
			continue
		}
		for _, k := range fieldKeys(typ) {
			if def.Properties[k].Description == "" {
				t.Errorf("schema: %s.%s has no description", typ.Name(), k)
			}
		}
	}
}

func TestProxyBalancer(t *testing.T) {
	dir := fixture(t)
	f, err := loadString(t, dir, head+`defaults: {balancer: {type: proxy, cpus: 0.5, memory: 128M}}
grid:
  - name: a
    replicas: [3]
    balancer: [client, proxy, {type: proxy, policy: least_conn}, {type: proxy, policy: round_robin, memory: 64M},
      {type: proxy, image: haproxy:2.6}, {type: proxy, image: 'registry.example.com:5000/lb/nginx:1.22', policy: least_conn}]
    load: [{rate: 10/s}]
  - name: b
    load: [{rate: 10/s}]
`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Balancer, Label string
		Proxy               *Proxy
	}
	img := "runner-t-proxy:latest"
	want := []row{
		{"a-r3-cpu_unl-mem_unl-client-rate10", "client", "client", nil},
		{"a-r3-cpu_unl-mem_unl-proxy-rate10", "proxy", "proxy", &Proxy{Policy: "round_robin", Image: img, Kind: ProxyRunner}},
		{"a-r3-cpu_unl-mem_unl-proxy_least_conn-rate10", "proxy", "proxy:least_conn", &Proxy{Policy: "least_conn", Image: img, Kind: ProxyRunner}},
		{"a-r3-cpu_unl-mem_unl-proxy_mem64m-rate10", "proxy", "proxy", &Proxy{Policy: "round_robin", MemoryBytes: 64 << 20, Image: img, Kind: ProxyRunner}},
		{"a-r3-cpu_unl-mem_unl-proxy_haproxy-rate10", "proxy", "proxy:haproxy", &Proxy{Policy: "round_robin", Image: "haproxy:2.6", Kind: ProxyHAProxy}},
		{"a-r3-cpu_unl-mem_unl-proxy_nginx_least_conn-rate10", "proxy", "proxy:nginx:least_conn", &Proxy{Policy: "least_conn", Image: "registry.example.com:5000/lb/nginx:1.22", Kind: ProxyNginx}},
		{"b-r1-cpu_unl-mem_unl-proxy_cpu0_5_mem128m-rate10", "proxy", "proxy", &Proxy{Policy: "round_robin", CPUs: 0.5, MemoryBytes: 128 << 20, Image: img, Kind: ProxyRunner}},
	}
	var got []row
	for _, s := range f.Scenarios() {
		got = append(got, row{s.ID, s.Balancer, s.BalancerLabel(), s.Proxy})
		if s.Result().Balancer != s.BalancerLabel() {
			t.Errorf("%s: result balancer %q, want the label %q", s.ID, s.Result().Balancer, s.BalancerLabel())
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestProxyBlockNeedsOnePort(t *testing.T) {
	dir := fixture(t)
	src := "name: t\nservice: {build: svc, host_ports: 18000-18001}\ngrid: [{name: a, replicas: [4], balancer: %s, load: [{rate: 1/s}]}]\n"
	if _, err := loadString(t, dir, fmt.Sprintf(src, "proxy")); err != nil {
		t.Errorf("4 replicas behind a proxy need one host port, but: %v", err)
	}
	if _, err := loadString(t, dir, fmt.Sprintf(src, "[proxy, client]")); err == nil {
		t.Error("4 client-balanced replicas fit 2 host ports")
	}
}
