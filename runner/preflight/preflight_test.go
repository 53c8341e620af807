package preflight

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

const gib = 1 << 30

func TestCheck(t *testing.T) {
	host := Host{CPUs: 2, MemAvailableBytes: 16 * gib}
	tests := []struct {
		name       string
		scenarios  []result.Scenario
		overcommit bool
		warnOnly   bool     // every problem is a warning even without overcommit
		want       []string // one substring per expected problem, in order
	}{
		{name: "fits", scenarios: []result.Scenario{{ID: "a", Replicas: 2, CPUs: 1, MemoryBytes: 4 * gib, Users: 100}}},
		{name: "unlimited is not checked", scenarios: []result.Scenario{{ID: "a", Replicas: 6}}},
		{name: "workshop 10G fits 16G", scenarios: []result.Scenario{{ID: "m10", Replicas: 1, MemoryBytes: 10 * gib, Users: 10000}}},
		{name: "memory over", scenarios: []result.Scenario{{ID: "big", Replicas: 2, MemoryBytes: 8 * gib, Users: 1000}},
			want: []string{"error: scenario big: needs 16.22GiB (2 x 8GiB for the service + 229.3MiB for the load generator) but this host has 16GiB available"}},
		{name: "cpu over is only a warning", scenarios: []result.Scenario{{ID: "c", Replicas: 6, CPUs: 0.5}},
			want: []string{"warning: scenario c: asks for 3 CPUs (6 x 0.5) on a host with 2: the replicas will compete"}, warnOnly: true},
		{name: "overcommit warns", overcommit: true, scenarios: []result.Scenario{{ID: "c", Replicas: 4, CPUs: 1.5, MemoryBytes: 5 * gib}},
			want: []string{"warning: scenario c: needs 20.2GiB", "warning: scenario c: asks for 6 CPUs"}},
		{name: "the proxy's limits count", scenarios: []result.Scenario{{ID: "px", Replicas: 2, CPUs: 1, MemoryBytes: 7 * gib, Balancer: "proxy", BalancerCPUs: 0.5, BalancerMemoryBytes: 2 * gib, Users: 10}},
			want: []string{"error: scenario px: needs 16.2GiB (2 x 7GiB for the service + 2GiB for the proxy + 200.3MiB for the load generator)", "warning: scenario px: asks for 2.5 CPUs (2 x 1 + 0.5 for the proxy)"}},
		{name: "cpuset beyond the host", scenarios: []result.Scenario{{ID: "p", Replicas: 1, CPUSet: "0,2-3"}},
			want: []string{"error: scenario p: cpuset 0,2-3 names CPU 3 but this host has CPUs 0-1"}},
		{name: "cpuset within the host", scenarios: []result.Scenario{{ID: "p", Replicas: 1, CPUSet: "1"}}},
		{name: "users cannot all spawn", scenarios: []result.Scenario{{ID: "u", Users: 10000, SpawnRate: 100, Duration: 20 * time.Second, Warmup: 5 * time.Second}},
			want: []string{"warning: scenario u: starting 10000 users at 100/s takes 1m40s, longer than warm-up + duration 25s"}, warnOnly: true},
		{name: "open rate counts like users", scenarios: []result.Scenario{{ID: "o", Replicas: 1, MemoryBytes: 15 * gib, Rate: "10/s..40000/s"}},
			want: []string{"+ 1.34GiB for the load generator"}},
		{name: "a search counts its highest rate", scenarios: []result.Scenario{{ID: "s", Replicas: 1, MemoryBytes: 15 * gib, Search: "50/s..40000/s"}},
			want: []string{"+ 1.34GiB for the load generator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := Check(host, tt.scenarios, Options{AllowOvercommit: tt.overcommit})
			if len(ps) != len(tt.want) {
				t.Fatalf("problems %v, want %d", ps, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(ps[i].String(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, ps[i], w)
				}
			}
			if (ps.Err() == nil) != (tt.overcommit || tt.warnOnly || len(tt.want) == 0) {
				t.Errorf("Err() = %v with overcommit %v", ps.Err(), tt.overcommit)
			}
			if tt.overcommit && len(ps.Warnings()) != len(ps) {
				t.Errorf("Warnings() = %v", ps.Warnings())
			}
		})
	}
}

func TestPeakRate(t *testing.T) {
	tests := map[string]float64{"": 0, "200/s": 200, "10/s..2000/s": 2000, "600/m": 10, "5/1s": 5, "2/ms": 2000, "junk": 0, "x/s": 0, "3/fortnight": 0}
	for in, want := range tests {
		if got := PeakRate(in); got != want {
			t.Errorf("PeakRate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestReadHost(t *testing.T) {
	h, err := ReadHost()
	if err != nil || h.CPUs < 1 || h.MemAvailableBytes <= 0 || h.MemTotalBytes < h.MemAvailableBytes {
		t.Fatalf("ReadHost = %+v, %v", h, err)
	}
}

func TestPortsFree(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	ps := PortsFree([]int{freePort, taken})
	if len(ps) != 1 || !strings.Contains(ps[0].Message, fmt.Sprintf("port %d is taken", taken)) || ps.Err() == nil {
		t.Fatalf("PortsFree = %v; want port %d taken", ps, taken)
	}
}

func TestHostWith(t *testing.T) {
	h := Host{CPUs: 2, MemTotalBytes: 8 << 30, MemAvailableBytes: 4 << 30}
	for _, tt := range []struct {
		name   string
		cpus   int
		memory string
		want   Host
		err    string
	}{
		{name: "nothing", want: h},
		{name: "cpus", cpus: 16, want: Host{CPUs: 16, MemTotalBytes: 8 << 30, MemAvailableBytes: 4 << 30}},
		{name: "memory", memory: "64G", want: Host{CPUs: 2, MemTotalBytes: 8 << 30, MemAvailableBytes: 64 << 30}},
		{name: "negative cpus", cpus: -1, err: "--host-cpus must be 1 or more"},
		{name: "bad memory", memory: "lots", err: `--host-memory "lots" is not a size`},
		{name: "zero memory", memory: "0", err: `--host-memory "0" is not a size`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.With(tt.cpus, tt.memory)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("With = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
