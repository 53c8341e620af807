package swarm

import (
	"context"
	"strings"

	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

// sampleSide samples, with role side, the tasks of the side services a user's
// template runs beside the service under test and the balancer, as compose
// samples their containers. Up calls it once the replicas run; a side task
// that has no container yet then is picked up by a later Sample, which calls
// it again until every side service's tasks (its desired replicas, one of a
// global service) were seen, or the health timeout (from the deploy) passed.
// A task the swarm starts later in place of a dead one is not sampled, as for
// the replicas.
func (st *Stack) sampleSide(ctx context.Context) error {
	dc := st.p.manager()
	svcs, err := dc.Services(ctx, docker.Filter{docker.StackNamespace: st.name})
	if err != nil {
		return err
	}
	var found []docker.Task
	pending := false
	for _, sv := range svcs {
		if !st.isSide(sv.Name) {
			continue
		}
		tasks, err := dc.Tasks(ctx, sv.Name)
		if err != nil {
			return err
		}
		n := 0
		for _, t := range tasks {
			if t.DesiredState == "running" && t.ContainerID != "" {
				found = append(found, t)
				n++
			}
		}
		pending = pending || n < max(sv.Replicas, 1)
	}
	st.mu.Lock()
	if st.sampled { // Down began
		st.mu.Unlock()
		return nil
	}
	if st.sideSeen == nil {
		st.sideSeen = map[string]bool{}
	}
	var fresh []docker.Task
	for _, t := range found {
		if !st.sideSeen[t.ID] {
			st.sideSeen[t.ID] = true
			fresh = append(fresh, t)
		}
	}
	st.sidePending = pending
	st.mu.Unlock()
	st.sample(fresh, result.RoleSide)
	return nil
}

// isSide reports whether service, a service of the stack, is a side service:
// neither the service under test, nor the balancer, nor the load agents.
func (st *Stack) isSide(service string) bool {
	rest, ok := strings.CutPrefix(service, st.name+"_")
	return ok && rest != st.spec.Service && rest != AgentService && (st.spec.Balancer == "" || rest != st.spec.Balancer)
}
