package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

var _ platform.Balanced = (*Stack)(nil)

// Balancer finds the load balancer container in front of the replicas and
// returns it with its published port (platform.Driver).
func (st *Stack) Balancer(ctx context.Context, _ time.Time, _ []platform.Member) (platform.Group, error) {
	s := st.spec
	bcs, err := st.dc.Containers(ctx, docker.Filter{docker.ComposeProject: st.project, docker.ComposeService: s.Balancer})
	if err != nil {
		return platform.Group{}, err
	}
	if len(bcs) != 1 {
		return platform.Group{}, fmt.Errorf("project %s runs %d containers of the balancer service %s, want 1 (does the compose template render .Balancer?)", s.Project, len(bcs), s.Balancer)
	}
	b := bcs[0]
	ep, err := st.endpoint(ctx, b, s.BalancerPort, "balancer")
	if err != nil {
		return platform.Group{}, err
	}
	st.byID[b.ID] = b
	st.balancer = &b
	return platform.Group{Members: []platform.Member{{Name: b.Name, ID: b.ID}}, Endpoints: []platform.Endpoint{ep}}, nil
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
	stats, err := docker.BalancerStats(ctx, st.spec.BalancerKind, st.Endpoints()[0].URL)
	if err != nil {
		return nil, err
	}
	return docker.UpstreamCounts(stats, st.containers, st.spec.Port), nil
}
