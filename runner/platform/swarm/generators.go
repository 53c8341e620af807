package swarm

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

var _ platform.Generating = (*Stack)(nil)

// AgentService is the name of the load agents' service in a stack.
const AgentService = "agent"

// agentConfigPath is where an agent task finds its load.
const agentConfigPath = "/agent.json"

// agentTeardown bounds the removal of the agents' service, which runs even
// after ctx is cancelled.
const agentTeardown = 60 * time.Second

// AgentEndpoints are the replicas' (or the balancer's) addresses on the
// stack's network, where tasks of the stack reach them, on any node.
func (st *Stack) AgentEndpoints(ctx context.Context) ([]platform.Endpoint, error) {
	svc, port := st.name+"_"+st.spec.Service, st.spec.Port
	if st.spec.Balancer != "" {
		svc, port = st.name+"_"+st.spec.Balancer, st.spec.BalancerPort
	}
	tasks, err := st.p.manager().Tasks(ctx, svc)
	if err != nil {
		return nil, err
	}
	network := st.network(tasks)
	var eps []platform.Endpoint
	for _, t := range tasks {
		if !t.Running() {
			continue
		}
		ip := t.IPs[network]
		if ip == "" {
			return nil, fmt.Errorf("task %s has no address on network %s, where the load agents would reach it", t.Name, network)
		}
		eps = append(eps, platform.Endpoint{Name: t.Name, URL: "http://" + ip + ":" + strconv.Itoa(port)})
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("service %s has no running task for the load agents to reach", svc)
	}
	return eps, nil
}

// network is the stack network the agents join: STACK_default when the tasks
// are on it, else the first other than the routing mesh's.
func (st *Stack) network(tasks []docker.Task) string {
	var names []string
	for _, t := range tasks {
		for n := range t.IPs {
			if n != "ingress" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	if slices.Contains(names, st.name+"_default") || len(names) == 0 {
		return st.name + "_default"
	}
	return names[0]
}

// Generate deploys the agents as the service STACK_agent (labelled as the
// stack, so docker stack rm and the label sweeps find it too), follows each
// task's container logs on its node from its start, and returns when every
// agent ended. See platform.Generating.
func (st *Stack) Generate(ctx context.Context, g platform.Generation) ([]platform.Generator, error) {
	if g.N < 1 || g.Read == nil {
		return nil, errors.New("generate: no agents or no reader")
	}
	dc := st.p.manager()
	tasks, err := st.manager().Tasks(ctx, st.name+"_"+st.spec.Service)
	if err != nil {
		return nil, err
	}
	start := time.Now().Add(cmp.Or(g.Lead, platform.DefaultGeneratorLead)).UTC()
	name := st.name + "_" + AgentService
	labels := map[string]string{
		label.Managed: "true", label.Run: st.spec.RunID, label.Scenario: st.spec.ScenarioID,
		label.Project: st.spec.Project, docker.StackNamespace: st.name,
	}
	svcID, cfgID, err := dc.CreateJobService(ctx, docker.JobService{
		Name: name, Image: g.Image, Replicas: g.N, Labels: labels, Constraints: g.Constraints,
		Args:     []string{"agent", "--config", agentConfigPath, "--out", "-", "--start", start.Format(time.RFC3339Nano)},
		Env:      []string{"RUNNER_AGENT_SHARE={{.Task.Slot}}/" + strconv.Itoa(g.N)},
		Networks: []string{st.network(tasks)},
		File:     g.Config, FilePath: agentConfigPath,
	})
	if err != nil {
		return nil, dc.Lost(err, false)
	}
	defer st.removeAgents(ctx, svcID, cfgID)
	if g.Start != nil {
		g.Start(start)
	}
	a := &agents{st: st, g: g, service: name, start: start, followed: map[int]*follower{}}
	err = a.follow(ctx)
	done := make(chan struct{})
	var watching sync.WaitGroup
	watching.Go(func() { a.watch(ctx, done) })
	a.wg.Wait()
	close(done)
	watching.Wait()
	if ctx.Err() != nil {
		// what each agent was when followed: its task is removed, not awaited
		return a.result(ctx), fmt.Errorf("load agents stopped: %w", context.Cause(ctx))
	}
	gens := a.result(ctx)
	return gens, errors.Join(err, failed(gens))
}

// manager is the platform's manager client.
func (st *Stack) manager() *docker.Client { return st.p.manager() }

// removeAgents removes the agents' service, waits until its containers are
// gone from every reachable node, then removes its config; within
// agentTeardown, even after ctx is cancelled. Down sweeps what is left.
func (st *Stack) removeAgents(ctx context.Context, svcID, cfgID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), agentTeardown)
	defer cancel()
	dc := st.manager()
	if err := dc.RemoveService(ctx, svcID); err != nil {
		st.addEvent(result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: "load agents: " + err.Error()})
	}
	f := docker.Filter{"com.docker.swarm.service.id": svcID}
	for ctx.Err() == nil {
		left := 0
		for _, n := range st.p.reachable() {
			cs, err := n.dc.Containers(ctx, f)
			if err == nil {
				left += len(cs)
			}
		}
		if left == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if cfgID != "" {
		if err := dc.RemoveConfig(ctx, cfgID); err != nil {
			st.addEvent(result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: "load agents: " + err.Error()})
		}
	}
}

// agents follows the tasks of one Generate.
type agents struct {
	st       *Stack
	g        platform.Generation
	service  string
	start    time.Time
	wg       sync.WaitGroup
	mu       sync.Mutex
	followed map[int]*follower // by slot
}

// follower is one agent's task and what reading its logs came to.
type follower struct {
	task   docker.Task
	node   string
	n      *node
	err    error // the logs' or the reader's, or the node's loss
	stderr tail
	ended  bool               // its logs ended
	lost   bool               // its node stopped answering: no longer followed
	stop   context.CancelFunc // stops following its logs
	pw     *io.PipeWriter     // its results stream, to the reader
}

// agentStartSlack is how long after the agreed instant an agent's task may
// still come to run: it then starts late, and says by how much.
const agentStartSlack = 30 * time.Second

// follow waits until each task has a container that ran, and follows its logs
// on its node; it returns when every slot is followed, or with an error naming
// the tasks that were rejected or never ran.
func (a *agents) follow(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := a.start.Add(agentStartSlack)
	for {
		tasks, err := a.st.manager().Tasks(ctx, a.service)
		if err != nil {
			return a.st.manager().Lost(err, false)
		}
		var waiting []string
		for _, t := range latestPerSlot(tasks) {
			if a.isFollowed(t.Slot) {
				continue
			}
			switch {
			case t.ContainerID != "" && (t.State == "running" || t.Ended()):
				if err := a.followTask(ctx, t); err != nil {
					return err
				}
			case t.Ended():
				return fmt.Errorf("load agent %s %s before it ran: %s", t.Name, t.State, cmp.Or(t.Err, t.Message))
			default:
				waiting = append(waiting, fmt.Sprintf("%s is %s: %s", t.Name, t.State, cmp.Or(t.Err, t.Message)))
			}
		}
		if a.count() == a.g.N {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("load agents: %d of %d running %s after the agreed start; %s", a.count(), a.g.N, agentStartSlack, strings.Join(waiting, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// latestPerSlot keeps the latest task of each slot.
func latestPerSlot(tasks []docker.Task) []docker.Task {
	var out []docker.Task
	for _, t := range tasks { // by slot, then time
		if len(out) > 0 && out[len(out)-1].Slot == t.Slot {
			out[len(out)-1] = t
			continue
		}
		out = append(out, t)
	}
	return out
}

func (a *agents) isFollowed(slot int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.followed[slot] != nil
}

func (a *agents) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.followed)
}

// followTask reads task t's logs on its node: stdout to the Generation's
// reader, stderr's last lines kept.
func (a *agents) followTask(ctx context.Context, t docker.Task) error {
	n := a.st.p.node(t.NodeID)
	if n == nil || n.dc == nil {
		host := t.NodeID
		if n != nil {
			host = n.Hostname
		}
		return fmt.Errorf("load agent %s runs on swarm node %s, whose Docker API the runner does not reach, so it cannot read its results; name the node in swarm.nodes (or --swarm-node), or place the agents with swarm.generator_constraints", t.Name, host)
	}
	fctx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	f := &follower{task: t, node: n.Hostname, n: n, stop: stop, pw: pw}
	a.mu.Lock()
	a.followed[t.Slot] = f
	a.mu.Unlock()
	a.wg.Go(func() {
		err := a.g.Read(t.Slot, t.Name, pr)
		pr.CloseWithError(errors.New("the results reader stopped"))
		a.mu.Lock()
		if !f.lost { // its node's loss says why its stream ended
			f.err = errors.Join(f.err, err)
		}
		a.mu.Unlock()
	})
	a.wg.Go(func() {
		defer stop()
		err := n.dc.Follow(fctx, t.ContainerID, pw, &f.stderr)
		pw.CloseWithError(cmp.Or(err, io.EOF))
		if err != nil && ctx.Err() == nil && !a.isLost(f) {
			err = n.dc.Lost(err, false)
			a.mu.Lock()
			f.err = errors.Join(f.err, fmt.Errorf("its logs stopped: %w", err))
			a.mu.Unlock()
		}
		a.mu.Lock()
		f.ended = true
		a.mu.Unlock()
	})
	return nil
}

func (a *agents) isLost(f *follower) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return f.lost
}

// nodeProbe is how often the nodes of agents whose logs are still followed
// are checked: a node that is switched off may leave the log stream hanging.
const nodeProbe = 2 * time.Second

// watch checks the nodes of the agents whose logs are still followed every
// nodeProbe, until done is closed (see nodeGone).
func (a *agents) watch(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(nodeProbe)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.mu.Lock()
		var nodes []*node
		for _, f := range a.followed {
			if !f.ended && !f.lost && !slices.Contains(nodes, f.n) {
				nodes = append(nodes, f.n)
			}
		}
		a.mu.Unlock()
		for _, n := range nodes {
			a.nodeGone(ctx, n)
		}
	}
}

// nodeProbes is how many pings a second apart, each bounded by
// docker.LostPing, a node must fail before it is taken as lost: a node busy for
// a moment is not.
const nodeProbes = 2

// nodeGone reports whether node n's daemon no longer answers. Then n is
// marked lost (teardown no longer waits for it), and each agent there is no
// longer followed, with an error naming the node: what it sent until then is
// kept. The manager is not checked: without it the run fails anyway.
func (a *agents) nodeGone(ctx context.Context, n *node) bool {
	if n.local { // the manager: the run fails with it
		return false
	}
	var err error
	for try := range nodeProbes {
		if try > 0 {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(time.Second):
			}
		}
		pctx, cancel := context.WithTimeout(ctx, docker.LostPing)
		err = n.dc.Ping(pctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return false
		}
	}
	a.st.p.markLost(n)
	why := strings.TrimPrefix(err.Error(), platform.ErrUnavailable.Error()+": ")
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.followed {
		if f.n != n || f.lost {
			continue
		}
		f.lost = true
		f.err = errors.Join(fmt.Errorf("swarm node %s (%s) stopped answering mid-run (%s); its results until then are kept", n.Hostname, n.dc.Host(), why), f.err)
		f.stop()
		f.pw.CloseWithError(fmt.Errorf("swarm node %s stopped answering", n.Hostname))
	}
	return true
}

// agentEndWait bounds the wait for the swarm to record the end of a task
// whose logs ended.
const agentEndWait = 15 * time.Second

// result is what became of every followed agent, by slot, once the swarm
// recorded the end of its task or its node stopped answering (or
// agentEndWait passed, or ctx is done: an interrupted Generate does not wait).
func (a *agents) result(ctx context.Context) []platform.Generator {
	tasks := a.ended(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []platform.Generator
	for _, slot := range slices.Sorted(maps.Keys(a.followed)) {
		f := a.followed[slot]
		t := f.task
		for _, u := range tasks {
			if u.Slot == slot {
				t = u
			}
		}
		out = append(out, generatorOf(f, t))
	}
	return out
}

// ended waits until the swarm recorded the end of every agent's task, except
// those on nodes that stopped answering, and returns the latest task of each
// slot.
func (a *agents) ended(ctx context.Context) []docker.Task {
	ctx, cancel := context.WithTimeout(ctx, agentEndWait)
	defer cancel()
	var tasks []docker.Task
	for ctx.Err() == nil {
		all, err := a.st.manager().Tasks(ctx, a.service)
		if err == nil {
			tasks = latestPerSlot(all)
			if !slices.ContainsFunc(tasks, func(t docker.Task) bool { return !t.Ended() && !a.onLostNode(ctx, t) }) {
				break
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return tasks
}

// onLostNode reports whether the followed agent of task t is on a node that
// stopped answering, checking its node (nodeGone) if it is not known lost.
func (a *agents) onLostNode(ctx context.Context, t docker.Task) bool {
	a.mu.Lock()
	f := a.followed[t.Slot]
	a.mu.Unlock()
	if f == nil {
		return false
	}
	return a.isLost(f) || a.nodeGone(ctx, f.n)
}

// generatorOf is what became of follower f, whose task is last seen as t.
func generatorOf(f *follower, t docker.Task) platform.Generator {
	g := platform.Generator{Name: t.Name, Node: f.node, State: t.State, ExitCode: t.ExitCode, Logs: f.stderr.String()}
	var why []string
	if !f.lost && (t.State != "complete" || t.ExitCode != 0) { // a lost node's tasks are as last seen
		why = append(why, fmt.Sprintf("task %s with exit code %d (%s)", t.State, t.ExitCode, cmp.Or(t.Err, t.Message)))
	}
	if f.err != nil {
		why = append(why, f.err.Error())
	}
	g.Err = strings.Join(why, "; ")
	return g
}

// failed names every agent that did not finish.
func failed(gens []platform.Generator) error {
	var errs []error
	for _, g := range gens {
		if g.Err != "" {
			errs = append(errs, fmt.Errorf("load agent %s on node %s: %s", g.Name, g.Node, g.Err))
		}
	}
	return errors.Join(errs...)
}

// tailBytes is how much of an agent's stderr is kept.
const tailBytes = 4 << 10

// tail keeps the last tailBytes written to it, from a line start.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailBytes; over > 0 {
		cut := t.buf[over:]
		if i := bytes.IndexByte(cut, '\n'); i >= 0 {
			cut = cut[i+1:]
		}
		t.buf = append(t.buf[:0], cut...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimRight(string(t.buf), "\n")
}
