package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

var _ platform.Balanced = (*Stack)(nil)

// startBalancer starts the load balancer in front of the healthy replicas: the
// proxy binary with their loopback addresses as static upstreams. It becomes the
// stack's only endpoint once /proxy/health?min=N and the service's health path
// answer through it.
func (st *Stack) startBalancer(ctx context.Context, cg *cgroupHost, bin string) error {
	s := st.spec
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("no free port: %w", err)
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
	if s.BalancerMemoryBytes > 0 && cg == nil {
		env = append(env, fmt.Sprintf("GOMEMLIMIT=%d", s.BalancerMemoryBytes))
	}
	if _, err := st.launch(cg, r, []string{bin}, env, s.BalancerCPUs, s.BalancerMemoryBytes); err != nil {
		return err
	}
	st.mu.Lock() // Sample may read them meanwhile
	st.replicas = append(st.replicas, r)
	st.balancer = r
	st.mu.Unlock()
	st.eps = []platform.Endpoint{{Name: r.name, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}}
	exited := func(context.Context, int) (bool, string) {
		select {
		case <-r.done:
			return true, r.how()
		default:
			return false, ""
		}
	}
	for _, path := range []string{"/proxy/health?min=" + strconv.Itoa(len(ups)), s.Health} {
		if err := platform.WaitHealthy(ctx, st.eps, path, s.HealthTimeout, exited); err != nil {
			var he *platform.HealthError
			if errors.As(err, &he) {
				he.Logs = r.log.tail()
			}
			st.addEvent(result.Event{Time: time.Now(), Container: r.name, Kind: result.EventHealth, Message: err.Error()})
			return err
		}
	}
	return nil
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
	stats, err := proxy.FetchStats(ctx, st.eps[0].URL)
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
