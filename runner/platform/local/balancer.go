package local

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

var _ platform.Balanced = (*Stack)(nil)

// Balancer starts the load balancer in front of the replicas, which are
// healthy by now: the proxy binary with their loopback addresses as static
// upstreams (platform.Driver).
func (st *Stack) Balancer(context.Context, time.Time, []platform.Member) (platform.Group, error) {
	s := st.spec
	port, err := freePort()
	if err != nil {
		return platform.Group{}, fmt.Errorf("no free port: %w", err)
	}
	ups := make([]string, len(st.replicas))
	for i, r := range st.replicas {
		ups[i] = fmt.Sprintf("127.0.0.1:%d", r.port)
	}
	r := &replica{name: s.Project + "-balancer", port: port, done: make(chan struct{})}
	env := append(os.Environ(), "LISTEN="+fmt.Sprintf("127.0.0.1:%d", port), "UPSTREAMS="+strings.Join(ups, ","),
		"POLICY="+cmp.Or(s.BalancerPolicy, proxy.RoundRobin), "HEALTH="+s.Health,
		EnvRun+"="+s.RunID, EnvProject+"="+s.Project)
	if s.BalancerCPUs > 0 {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", int(math.Ceil(s.BalancerCPUs))))
	}
	if s.BalancerMemoryBytes > 0 && st.cg == nil {
		env = append(env, fmt.Sprintf("GOMEMLIMIT=%d", s.BalancerMemoryBytes))
	}
	if _, err := st.launch(st.cg, r, []string{st.proxyBin}, env, s.BalancerCPUs, s.BalancerMemoryBytes); err != nil {
		return platform.Group{}, err
	}
	st.mu.Lock() // Sample may read them meanwhile
	st.replicas = append(st.replicas, r)
	st.balancer = r
	st.mu.Unlock()
	return platform.Group{
		Members:   []platform.Member{{Name: r.name, ID: r.name}},
		Endpoints: []platform.Endpoint{{Name: r.name, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}},
	}, nil
}

// BalancerName is the balancer process's name; empty without one.
func (st *Stack) BalancerName() string {
	if st.balancer == nil {
		return ""
	}
	return st.balancer.name
}

// Upstreams reads the balancer's counters per replica, in replica order.
func (st *Stack) Upstreams(ctx context.Context) ([]result.EndpointCount, error) {
	if st.balancer == nil {
		return nil, nil
	}
	stats, err := proxy.FetchStats(ctx, st.Endpoints()[0].URL)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]proxy.UpstreamStats{}
	for _, u := range stats.Upstreams {
		byAddr[u.Address] = u
	}
	var out []result.EndpointCount
	for _, r := range st.replicas {
		if r == st.balancer {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", r.port)
		u := byAddr[addr]
		out = append(out, result.EndpointCount{Name: r.name, URL: "http://" + addr, Requests: u.Requests, Errors: u.Errors})
	}
	return out, nil
}
