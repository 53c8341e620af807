package swarm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/compose"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
)

// Stack is a deployed swarm stack. It is platform.Up's driver while it comes
// up.
type Stack struct {
	platform.Base
	p       *Platform
	spec    platform.Spec
	name    string // the stack's name
	file    string
	publish string

	createdNetwork bool
	watches        map[*node]*docker.Watch
	replicas       []docker.Container // the tasks at Up, as containers: Name and IPs
	balancer       string             // the balancer task's name; empty without one
	deployed       time.Time

	mu          sync.Mutex
	tasks       map[string]docker.Task // the members Up watches, by task ID
	extra       []result.Event         // found otherwise than by the event streams
	samplers    []nodeSampler          // from the tasks' convergence on; nil once down
	sampled     bool                   // Down began: no more samplers
	sideSeen    map[string]bool        // side tasks sampled (or on unreachable nodes), by ID
	sidePending bool                   // a side service has tasks not seen yet
	sideUntil   time.Time              // when Sample stops looking for them
	watchOver   bool
	down        bool
	networkGone bool
}

// nodeSampler samples tasks on one node.
type nodeSampler struct {
	n *node
	s *docker.Sampler
}

var (
	_ platform.Driver   = (*Stack)(nil)
	_ platform.Balanced = (*Stack)(nil)
)

// maxServiceName is the longest swarm service name (a DNS label).
const maxServiceName = 63

// StackName is the stack name of project: the project itself when every service
// name STACK_SERVICE fits in a DNS label, else a prefix of it and a hash.
func StackName(project string) string {
	name := compose.ProjectName(project) // the same rules: lowercase letters, digits, - and _
	longest := max(len(render.Service), len(render.BalancerService))
	if len(name)+1+longest <= maxServiceName {
		return name
	}
	h := sha256.Sum256([]byte(name))
	keep := maxServiceName - 1 - longest - 7
	return strings.TrimRight(name[:keep], "-_") + "-" + hex.EncodeToString(h[:3])
}

// Up writes s.Compose to s.Dir/compose.yml, creates s.Network (an attachable
// overlay network) if missing, deploys the stack, waits until every task runs
// with its port published and answers s.Health, and checks the services'
// limits, as platform.Up does it with the Stack as its driver. On any failure
// everything it started is removed before it returns.
func (p *Platform) Up(ctx context.Context, s platform.Spec) (platform.Stack, error) {
	return platform.Up(ctx, s, &Stack{p: p, spec: s, name: StackName(s.Project),
		watches: map[*node]*docker.Watch{}, tasks: map[string]docker.Task{}})
}

// Kind is swarm's: it deploys the compose file.
func (st *Stack) Kind() platform.Kind { return platform.Kind{Name: "swarm", Compose: true} }

// Open connects, writes the compose file, creates the network the scenario
// names if it is missing, and starts watching the stack's events on every node
// the runner reaches (platform.Driver).
func (st *Stack) Open(ctx context.Context) error {
	s := st.spec
	dc, err := st.p.connect(ctx)
	if err != nil {
		return err
	}
	if st.file, err = platform.WriteStack(s); err != nil {
		return err
	}
	st.publish = st.p.Publish()
	if s.Network != "" {
		created, err := dc.EnsureNetwork(ctx, s.Network, "overlay", map[string]string{
			label.Managed: "true", label.Run: s.RunID, label.Scenario: s.ScenarioID, label.Project: s.Project,
		})
		if err != nil {
			return dc.Lost(err, false)
		}
		st.createdNetwork = created
	}
	for _, n := range st.p.reachable() {
		st.watches[n] = n.dc.Watch(ctx, docker.Filter{docker.StackNamespace: st.name})
	}
	return nil
}

// Start deploys the stack (platform.Driver).
func (st *Stack) Start(ctx context.Context) error {
	st.deployed = time.Now()
	if out, err := st.p.cli(ctx, "stack", "deploy", "--resolve-image", "never", "--compose-file", st.file, st.name); err != nil {
		return fmt.Errorf("cannot deploy stack %s: %w: %s", st.name, err, out)
	}
	return nil
}

// Replicas waits until the service runs its tasks, each with its port published
// unless a balancer is in front, samples them and the tasks of the side
// services from then on, and returns them with where they answer
// (platform.Driver).
func (st *Stack) Replicas(ctx context.Context, deadline time.Time) (platform.Group, error) {
	s := st.spec
	app := st.name + "_" + s.Service
	published := s.Port
	if s.Balancer != "" {
		published = 0 // behind the balancer the replicas publish nothing
	}
	tasks, err := st.converge(ctx, app, s.Replicas, published, deadline)
	if err != nil {
		return platform.Group{}, err
	}
	st.sample(tasks, result.RoleReplica)
	st.mu.Lock()
	st.sideUntil = deadline
	st.mu.Unlock()
	if err := st.sampleSide(ctx); err != nil {
		st.mu.Lock()
		st.sidePending = true // Sample tries again, and says why it fails
		st.mu.Unlock()
	}
	var g platform.Group
	for _, t := range tasks {
		st.replicas = append(st.replicas, docker.Container{ID: t.ContainerID, Name: t.Name, IPs: t.IPs})
		g.Members = append(g.Members, st.member(t))
	}
	if s.Balancer == "" {
		g.Endpoints, err = st.endpoints(ctx, app, tasks, s.Port)
	}
	return g, err
}

// Balancer waits until the balancer's service runs its task with its port
// published, samples it from then on, and returns it with where it answers
// (platform.Driver).
func (st *Stack) Balancer(ctx context.Context, deadline time.Time, _ []platform.Member) (platform.Group, error) {
	s := st.spec
	svc := st.name + "_" + s.Balancer
	bt, err := st.converge(ctx, svc, 1, s.BalancerPort, deadline)
	if err != nil {
		return platform.Group{}, err
	}
	st.sample(bt, result.RoleBalancer)
	eps, err := st.endpoints(ctx, svc, bt, s.BalancerPort)
	if err != nil {
		return platform.Group{}, err
	}
	st.balancer = bt[0].Name
	return platform.Group{Members: []platform.Member{st.member(bt[0])}, Endpoints: eps}, nil
}

// member remembers task t as a member of the stack.
func (st *Stack) member(t docker.Task) platform.Member {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tasks[t.ID] = t
	return platform.Member{Name: t.Name, ID: t.ID}
}

// memberTask is the task of m.
func (st *Stack) memberTask(m platform.Member) (docker.Task, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tasks[m.ID]
	return t, ok
}

// CheckLimits checks the limits of the service whose tasks members are, as
// `docker service inspect` shows them (platform.Driver).
func (st *Stack) CheckLimits(ctx context.Context, members []platform.Member, cpus float64, memoryBytes int64) error {
	if len(members) == 0 {
		return nil
	}
	t, _ := st.memberTask(members[0])
	return st.checkLimits(ctx, t.Service, cpus, memoryBytes)
}

// Exited reads m's task again: a task that no longer runs has exited
// (platform.Driver).
func (st *Stack) Exited(ctx context.Context, m platform.Member) (bool, string) {
	w, ok := st.memberTask(m)
	if !ok {
		return false, ""
	}
	if t, ok := st.task(ctx, w); ok && !t.Running() {
		return true, fmt.Sprintf("task %s %s: %s", t.Name, t.State, cmp.Or(t.Err, t.Message))
	}
	return false, ""
}

// Logs are the last log lines of m's task, when its node is reachable
// (platform.Driver).
func (st *Stack) Logs(ctx context.Context, m platform.Member) string {
	t, ok := st.memberTask(m)
	if !ok {
		return ""
	}
	return st.logs(ctx, t)
}

// Record adds ev to the stack's events (platform.Driver).
func (st *Stack) Record(ev result.Event) { st.addEvent(ev) }

// Lost says whether err comes from the manager no longer answering
// (platform.Driver).
func (st *Stack) Lost(err error) error { return st.p.manager().Lost(err, false) }

// sample samples tasks, with role, on every node the runner reaches from now
// on, unless Down began.
func (st *Stack) sample(tasks []docker.Task, role string) {
	targets := map[*node][]docker.Target{}
	for _, t := range tasks {
		if n := st.p.node(t.NodeID); n != nil && n.dc != nil {
			targets[n] = append(targets[n], docker.Target{ID: t.ContainerID, Name: t.Name, Role: role})
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sampled {
		return
	}
	for n, ts := range targets {
		st.samplers = append(st.samplers, nodeSampler{n: n, s: n.dc.NewSampler(ts)})
	}
}

// converge waits until service runs want tasks, each with its host port for
// port published in host mode (port 0: the tasks publish nothing). A task that fails or is rejected ends the wait
// with an error naming it, its reason and its last log lines; at the deadline the
// error names every slot still not running and why (e.g. no suitable node).
func (st *Stack) converge(ctx context.Context, service string, want, port int, deadline time.Time) ([]docker.Task, error) {
	dc := st.p.manager()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		tasks, err := dc.Tasks(ctx, service)
		if err != nil {
			return nil, err
		}
		var running []docker.Task
		var waiting []string
		for _, t := range tasks {
			switch {
			case t.State == "failed" || t.State == "rejected":
				return nil, fmt.Errorf("stack %s: task %s %s: %s%s", st.name, t.Name, t.State, cmp.Or(t.Err, t.Message), indentLogs(st.logs(ctx, t)))
			case t.DesiredState != "running":
				// an earlier task of the slot, already replaced
			case t.Running() && (port == 0 || st.publish != render.PublishHost || t.HostPorts[port] != 0):
				running = append(running, t)
			default:
				waiting = append(waiting, fmt.Sprintf("%s is %s: %s", t.Name, t.State, cmp.Or(t.Err, t.Message)))
			}
		}
		if len(running) == want {
			return running, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("stack %s: %d of %d tasks of %s running after the health timeout; %s", st.name, len(running), want, service, strings.Join(waiting, "; "))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// task reads w's task again.
func (st *Stack) task(ctx context.Context, w docker.Task) (docker.Task, bool) {
	tasks, err := st.p.manager().Tasks(ctx, w.Service)
	if err != nil {
		return docker.Task{}, false
	}
	for _, t := range tasks {
		if t.ID == w.ID {
			return t, true
		}
	}
	return docker.Task{}, false
}

// logs are a task's last log lines, when its node is reachable.
func (st *Stack) logs(ctx context.Context, t docker.Task) string {
	n := st.p.node(t.NodeID)
	if n == nil || n.dc == nil || t.ContainerID == "" {
		return ""
	}
	logs, _ := n.dc.Logs(context.WithoutCancel(ctx), t.ContainerID, 20)
	return logs
}

func indentLogs(logs string) string {
	if logs == "" {
		return ""
	}
	return "\nlast log lines:\n" + logs
}

// endpoints are where the load generator reaches the tasks of service: the
// routing mesh's one port (ingress), or each task's host port on its node (host).
// With address: container, each task's address on its node's gateway bridge,
// which only that node reaches: so only tasks on the runner's own node.
func (st *Stack) endpoints(ctx context.Context, service string, tasks []docker.Task, port int) ([]platform.Endpoint, error) {
	if st.spec.Address == platform.AddressContainer {
		gw, err := st.p.manager().GatewayIPs(ctx)
		if err != nil {
			return nil, err
		}
		var eps []platform.Endpoint
		for _, t := range tasks {
			ip := gw[t.ContainerID]
			if n := st.p.node(t.NodeID); n == nil || !n.local || ip == "" {
				return nil, fmt.Errorf("task %s runs on another node, whose container addresses this machine cannot reach; use address: published", t.Name)
			}
			eps = append(eps, platform.Endpoint{Name: t.Name, URL: fmt.Sprintf("http://%s:%d", ip, port)})
		}
		return eps, nil
	}
	if st.publish == render.PublishIngress {
		svcs, err := st.p.manager().Services(ctx, docker.Filter{docker.StackNamespace: st.name})
		if err != nil {
			return nil, err
		}
		for _, sv := range svcs {
			if p := sv.IngressPorts[port]; sv.Name == service && p != 0 {
				return []platform.Endpoint{{Name: service, URL: fmt.Sprintf("http://127.0.0.1:%d", p)}}, nil
			}
		}
		return nil, fmt.Errorf("service %s publishes no ingress port for container port %d", service, port)
	}
	var eps []platform.Endpoint
	for _, t := range tasks {
		n := st.p.node(t.NodeID)
		if n == nil || n.addr == "" {
			return nil, fmt.Errorf("task %s runs on node %s, whose address is unknown; name it in swarm.nodes", t.Name, t.NodeID)
		}
		hp := t.HostPorts[port]
		if n.dc != nil { // the container's IPv4 binding, which the task's list does not tell apart
			c, err := n.dc.Inspect(ctx, t.ContainerID)
			if err != nil {
				return nil, err
			}
			if p := c.HostPorts[port]; p != 0 {
				hp = p
			}
		}
		eps = append(eps, platform.Endpoint{Name: t.Name, URL: fmt.Sprintf("http://%s:%d", n.addr, hp)})
	}
	return eps, nil
}

// checkLimits fails when a service's task limits are not those the scenario asks
// for, e.g. when a template lacks deploy.resources.limits.
func (st *Stack) checkLimits(ctx context.Context, service string, cpus float64, memoryBytes int64) error {
	svcs, err := st.p.manager().Services(ctx, docker.Filter{docker.StackNamespace: st.name})
	if err != nil {
		return err
	}
	for _, sv := range svcs {
		if sv.Name != service {
			continue
		}
		if memoryBytes > 0 && sv.MemoryBytes != memoryBytes {
			return fmt.Errorf("service %s runs with a memory limit of %d bytes, want %d: the compose file's deploy.resources.limits.memory did not apply", service, sv.MemoryBytes, memoryBytes)
		}
		if want := int64(math.Round(cpus * 1e9)); cpus > 0 && (sv.NanoCPUs < want-want/100 || sv.NanoCPUs > want+want/100) {
			return fmt.Errorf("service %s runs with a CPU limit of %g CPUs, want %g: the compose file's deploy.resources.limits.cpus did not apply", service, float64(sv.NanoCPUs)/1e9, cpus)
		}
		return nil
	}
	return fmt.Errorf("stack %s has no service %s (does the compose template name it so?)", st.name, service)
}

// Sample returns the latest stats of every task on a reachable node, each with
// its role, from the moment the tasks converged (before the health wait) until
// Down; those of side services from the moment they have a container (see
// sampleSide). A node other than the manager whose daemon stops answering is
// marked lost, its tasks' fate recorded as events, and the error names it
// (platform.ErrUnavailable).
func (st *Stack) Sample(ctx context.Context) ([]result.Sample, error) {
	var errs []error
	st.mu.Lock()
	pending := st.sidePending && time.Now().Before(st.sideUntil)
	st.mu.Unlock()
	if pending {
		errs = append(errs, st.sampleSide(ctx))
	}
	st.mu.Lock()
	samplers := slices.Clone(st.samplers)
	st.mu.Unlock()
	var out []result.Sample
	for _, ns := range samplers {
		n := ns.n
		got, err := ns.s.Sample(ctx)
		out = append(out, got...)
		if err == nil {
			continue
		}
		if !n.local && errors.Is(n.dc.Lost(err, false), platform.ErrUnavailable) {
			err = st.nodeLost(ctx, n, err)
		}
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// nodeLost marks n lost (teardown no longer waits for it), records what the
// manager says of the stack's tasks there, and returns the error naming it.
func (st *Stack) nodeLost(ctx context.Context, n *node, cause error) error {
	first := st.p.markLost(n)
	var names []string
	for _, c := range st.replicas {
		if t, ok := st.taskOf(ctx, c.ID); ok && t.NodeID == n.ID {
			names = append(names, t.Name)
			if first {
				st.addEvent(result.Event{Time: time.Now(), Container: t.Name, Kind: result.EventPlatform,
					Message: fmt.Sprintf("swarm node %s stopped answering; the manager last saw task %s %s", n.Hostname, t.ID, t.State)})
			}
		}
	}
	return fmt.Errorf("%w: swarm node %s (%s) stopped answering mid-run, with tasks %s: %w", platform.ErrUnavailable, n.Hostname, n.dc.Host(), cmp.Or(strings.Join(names, ", "), "(none of this stack)"), cause)
}

// taskOf finds the task of container id among the stack's services.
func (st *Stack) taskOf(ctx context.Context, id string) (docker.Task, bool) {
	for _, svc := range []string{st.name + "_" + st.spec.Service, st.name + "_" + st.spec.Balancer} {
		tasks, err := st.p.manager().Tasks(ctx, svc)
		if err != nil {
			continue
		}
		for _, t := range tasks {
			if t.ContainerID == id {
				return t, true
			}
		}
	}
	return docker.Task{}, false
}

// Events returns what happened to the tasks since Up, in time order, each named
// by its replica (SERVICE.SLOT): a task the swarm starts in place of a dead one
// is a restart of that replica. Those of side services carry their role. The
// load agents' are left out: Generate reports what became of them.
func (st *Stack) Events() []result.Event {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []result.Event
	agents := st.name + "_" + AgentService + "."
	for _, w := range st.watches {
		for _, ev := range w.Events() {
			ev.Container = replicaName(ev.Container)
			if !strings.HasPrefix(ev.Container, agents) { // their fate is the load's (Generate)
				out = append(out, ev)
			}
		}
	}
	out = append(out, st.extra...)
	for i, ev := range out {
		if slot := strings.LastIndexByte(ev.Container, '.'); slot > 0 && st.isSide(ev.Container[:slot]) {
			out[i].Role = result.RoleSide
		}
	}
	slices.SortStableFunc(out, func(a, b result.Event) int { return a.Time.Compare(b.Time) })
	return out
}

func (st *Stack) addEvent(ev result.Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.extra = append(st.extra, ev)
}

// replicaName turns a task container's name, SERVICE.SLOT.TASKID, into its
// replica's, SERVICE.SLOT.
func replicaName(container string) string {
	i := strings.LastIndexByte(container, '.')
	if i < 0 {
		return container
	}
	if _, err := strconv.Atoi(container[strings.LastIndexByte(container[:i], '.')+1 : i]); err != nil {
		return container
	}
	return container[:i]
}

// Advisory is false: the swarm enforces the limits.
func (st *Stack) Advisory() bool { return false }

// BalancerName is the balancer task's name; empty without one.
func (st *Stack) BalancerName() string { return st.balancer }

// Upstreams reads the balancer's counters per replica, in slot order.
func (st *Stack) Upstreams(ctx context.Context) ([]result.EndpointCount, error) {
	if st.balancer == "" {
		return nil, nil
	}
	stats, err := docker.BalancerStats(ctx, st.spec.BalancerKind, st.Endpoints()[0].URL)
	if err != nil {
		return nil, err
	}
	return docker.UpstreamCounts(stats, st.replicas, st.spec.Port), nil
}

// Down records what the task states tell (OOM kills, tasks that failed on nodes
// the runner cannot watch), runs `docker stack rm` and waits until no service,
// container or network of the stack is left on any reachable node, sweeping by
// label what lingers; then it removes the network Up created. It can be called
// again after a failure, and after a success it does nothing.
func (st *Stack) Down(ctx context.Context) error {
	st.mu.Lock()
	if st.down {
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	dc := st.p.manager()
	st.mu.Lock()
	samplers := st.samplers
	st.samplers, st.sampled, st.sidePending = nil, true, false
	st.mu.Unlock()
	for _, ns := range samplers {
		ns.s.Close()
	}
	if !st.watchOver {
		for n, w := range st.watches {
			if err := w.Stop(ctx); err != nil && !st.p.isLost(n) {
				st.addEvent(result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: "event stream: " + err.Error()})
			}
		}
		st.recordTaskStates(ctx)
		st.watchOver = true
	}
	out, rmErr := st.p.cli(ctx, "stack", "rm", st.name)
	err := st.waitGone(ctx)
	if err != nil && rmErr != nil {
		err = fmt.Errorf("%w (docker stack rm: %v: %s)", err, rmErr, out)
	}
	for _, n := range st.p.reachable() {
		if serr := n.dc.Sweep(ctx, docker.Filter{label.Project: st.spec.Project}); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if st.createdNetwork && !st.networkGone && err == nil {
		if err = dc.RemoveNetwork(ctx, st.spec.Network); err == nil {
			st.networkGone = true
		}
	}
	if err != nil {
		return dc.Lost(fmt.Errorf("cannot remove stack %s: %w", st.name, err), false)
	}
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	return nil
}

// waitGone waits until nothing labelled with the stack's namespace is left on any
// reachable node. What lingers after two seconds is swept each round (a network
// whose last endpoint went after docker stack rm tried to remove it).
func (st *Stack) waitGone(ctx context.Context) error {
	f := docker.Filter{docker.StackNamespace: st.name}
	start := time.Now()
	for {
		var left []string
		var errs []error
		for _, n := range st.p.reachable() {
			l, err := n.dc.Leftovers(ctx, f)
			if err != nil {
				errs = append(errs, err)
			}
			left = append(left, l...)
			if len(l) > 0 && time.Since(start) > 2*time.Second {
				n.dc.Sweep(ctx, f) // errors show in the next round's leftovers
			}
		}
		if len(left) == 0 && len(errs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			return fmt.Errorf("still there after %s: %s", time.Since(start).Round(time.Second), strings.Join(left, ", "))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// recordTaskStates adds what the task states tell and the event streams may not:
// an OOM kill of a task container whose oom event was missed (State.OOMKilled),
// and tasks that failed on nodes the runner cannot watch, as restarts.
func (st *Stack) recordTaskStates(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dc := st.p.manager()
	svcs, err := dc.Services(ctx, docker.Filter{docker.StackNamespace: st.name})
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, ev := range st.Events() {
		if ev.Kind == result.EventOOM {
			have[ev.Container] = true
		}
	}
	for _, sv := range svcs {
		tasks, err := dc.Tasks(ctx, sv.Name)
		if err != nil {
			continue
		}
		for _, t := range tasks {
			n := st.p.node(t.NodeID)
			if n == nil || n.dc == nil || st.p.isLost(n) {
				if t.State == "failed" && t.Time.After(st.deployed) {
					st.addEvent(result.Event{Time: t.Time, Container: t.Name, Kind: result.EventRestart,
						Message: fmt.Sprintf("task %s failed (%s); the swarm replaced it", t.ID, cmp.Or(t.Err, t.Message))})
				}
				continue
			}
			if t.ContainerID == "" || have[t.Name] {
				continue
			}
			if c, err := n.dc.Inspect(ctx, t.ContainerID); err == nil && c.OOMKilled {
				st.addEvent(result.Event{Time: time.Now(), Container: t.Name, Kind: result.EventOOM, Message: "State.OOMKilled is true at teardown"})
				have[t.Name] = true
			}
		}
	}
}

// manager is the client of the daemon stacks are deployed through.
func (p *Platform) manager() *docker.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dc
}

// node is the node of that ID, nil when unknown.
func (p *Platform) node(id string) *node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nodes[id]
}

// isLost reports whether n's daemon stopped answering mid-run.
func (p *Platform) isLost(n *node) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return n.lost
}

// markLost marks n lost: teardown no longer waits for it. It reports whether
// n was not lost before.
func (p *Platform) markLost(n *node) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := !n.lost
	n.lost = true
	return first
}

// reachable lists the nodes whose Docker API the runner has, the local one first.
func (p *Platform) reachable() []*node {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*node
	for _, n := range p.nodes {
		if n.dc != nil && !n.lost {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *node) int {
		if a.local != b.local {
			if a.local {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Hostname, b.Hostname)
	})
	return out
}

// cli runs the docker command line against the manager and returns its output.
func (p *Platform) cli(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, p.opts.Command, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if host := p.manager().Host(); host != "" {
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	}
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}
