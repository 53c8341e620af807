package compose

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

var _ platform.Balanced = (*Stack)(nil)

// upBalanced finishes Up for a stack with a load balancer in front of the replicas
// cs: it checks the replicas' and the balancer's limits, makes the balancer the
// only endpoint, and waits until the
// balancer sees every replica healthy and the service's health path answers
// through it.
func (st *Stack) upBalanced(ctx context.Context, cs []docker.Container) error {
	s := st.spec
	for _, c := range cs {
		if !c.Running {
			return fmt.Errorf("project %s: %w", s.Project, st.exitError(ctx, c))
		}
		if err := checkLimits(c, s.CPUs, s.MemoryBytes); err != nil {
			return err
		}
		st.containers = append(st.containers, c)
	}
	bcs, err := st.dc.Containers(ctx, docker.Filter{docker.ComposeProject: st.project, docker.ComposeService: s.Balancer})
	if err != nil {
		return err
	}
	if len(bcs) != 1 {
		return fmt.Errorf("project %s runs %d containers of the balancer service %s, want 1 (does the compose template render .Balancer?)", s.Project, len(bcs), s.Balancer)
	}
	b := bcs[0]
	hp, ok := b.HostPorts[s.BalancerPort]
	if !ok {
		if !b.Running {
			return fmt.Errorf("project %s: %w", s.Project, st.exitError(ctx, b))
		}
		return fmt.Errorf("balancer %s publishes no host port for container port %d", b.Name, s.BalancerPort)
	}
	if err := checkLimits(b, s.BalancerCPUs, s.BalancerMemoryBytes); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", hp)
	if s.Address == platform.AddressContainer {
		ip := b.IP(st.project + "_default")
		if ip == "" {
			return fmt.Errorf("balancer %s has no network address to reach it at directly; use address: published", b.Name)
		}
		url = fmt.Sprintf("http://%s:%d", ip, s.BalancerPort)
	}
	st.balancer = &b
	st.eps = []platform.Endpoint{{Name: b.Name, URL: url}}
	st.startTime = time.Since(st.upStarted)

	t1 := time.Now()
	all := append([]docker.Container{b}, cs...)
	culprit := b.ID // whose logs a health error shows
	exited := func(ctx context.Context, _ int) (bool, string) {
		for _, c := range all {
			in, err := st.dc.Inspect(ctx, c.ID)
			if err == nil && !in.Running {
				culprit = c.ID
				return true, fmt.Sprintf("%s: %s", c.Name, exitHow(in))
			}
		}
		return false, ""
	}
	for _, path := range []string{"/proxy/health?min=" + strconv.Itoa(len(cs)), s.Health} {
		if err := platform.WaitHealthy(ctx, st.eps, path, s.HealthTimeout, exited); err != nil {
			var he *platform.HealthError
			if errors.As(err, &he) {
				he.Logs, _ = st.dc.Logs(context.WithoutCancel(ctx), culprit, 20)
				st.watch.Add(result.Event{Time: time.Now(), Container: he.Replica, Kind: result.EventHealth, Message: he.Reason})
			}
			return fmt.Errorf("project %s: %w", s.Project, err)
		}
	}
	st.healthyTime = time.Since(t1)
	return nil
}

// BalancerName is the balancer's container name; empty without one.
func (st *Stack) BalancerName() string {
	if st.balancer == nil {
		return ""
	}
	return st.balancer.Name
}

// Upstreams reads the balancer's statistics (docker.BalancerStats) and returns its counters per
// replica, in replica order, named by container; addresses that match no replica
// follow. Without a balancer it returns nil.
func (st *Stack) Upstreams(ctx context.Context) ([]result.EndpointCount, error) {
	if st.balancer == nil {
		return nil, nil
	}
	stats, err := docker.BalancerStats(ctx, st.spec.BalancerKind, st.eps[0].URL)
	if err != nil {
		return nil, err
	}
	return docker.UpstreamCounts(stats, st.containers, st.spec.Port), nil
}
