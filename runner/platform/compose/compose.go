package compose

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

// Options configure the compose platform.
type Options struct {
	// Command is the compose tool to use, e.g. ["docker-compose"]; empty detects
	// `docker compose` then `docker-compose`.
	Command []string
}

// Platform runs scenarios as compose projects. Use New.
type Platform struct {
	opts Options

	mu    sync.Mutex
	dc    *docker.Client
	tool  *Tool
	built map[platform.Build]bool
}

var _ platform.Platform = (*Platform)(nil)

// New returns a compose platform; nothing is contacted before Prepare or Up.
func New(opts Options) *Platform {
	return &Platform{opts: opts, built: map[platform.Build]bool{}}
}

// Name is "compose".
func (p *Platform) Name() string { return "compose" }

// connect dials the daemon and detects the compose tool, once.
func (p *Platform) connect(ctx context.Context) (*docker.Client, Tool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dc == nil {
		dc, err := docker.New(ctx)
		if err != nil {
			return nil, Tool{}, err
		}
		p.dc = dc
	}
	if p.tool == nil {
		t, err := Detect(ctx, p.opts.Command)
		if err != nil {
			return nil, Tool{}, err
		}
		p.tool = &t
	}
	return p.dc, *p.tool, nil
}

// Prepare checks that the daemon answers and a compose tool exists (else an error
// wrapping platform.ErrUnavailable) and makes b.Image available, building it once:
// a second Prepare with the same Build does nothing.
func (p *Platform) Prepare(ctx context.Context, b platform.Build) error {
	dc, _, err := p.connect(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	done := p.built[b]
	p.mu.Unlock()
	if done {
		return nil
	}
	if err := dc.BuildImage(ctx, b); err != nil {
		return lost(dc, err)
	}
	if b.ProxyImage != "" {
		pb := platform.Build{Dir: b.ProxyDir, Image: b.ProxyImage, RunID: b.RunID}
		if err := dc.BuildImage(ctx, pb); err != nil {
			return lost(dc, fmt.Errorf("cannot build the load balancer image: %w", err))
		}
	}
	p.mu.Lock()
	p.built[b] = true
	p.mu.Unlock()
	return nil
}

// Info reports the Docker and compose versions.
func (p *Platform) Info(ctx context.Context) platform.Info {
	dc, tool, err := p.connect(ctx)
	if err != nil {
		return platform.Info{Notes: []string{err.Error()}}
	}
	info := platform.Info{DockerVersion: dc.Version, ComposeVersion: tool.String()}
	if tool.V1 {
		info.Notes = append(info.Notes, "docker-compose v1 runs with --compatibility so that deploy.replicas and deploy.resources limits apply")
	}
	return info
}

// Close closes the Docker connection.
func (p *Platform) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dc == nil {
		return nil
	}
	err := p.dc.Close()
	p.dc = nil
	return err
}

// Up writes s.Compose to s.Dir/compose.yml, creates s.Network if missing, starts the
// project (images are not built here: Prepare did), finds every replica's published
// port and waits until each answers s.Health with 2xx, as platform.Up does it
// with the Stack as its driver. On any failure everything it started is removed
// before it returns; a replica that exits or stays unhealthy is named in the
// error with its last log lines. When the daemon stops answering, the error
// wraps platform.ErrUnavailable.
func (p *Platform) Up(ctx context.Context, s platform.Spec) (platform.Stack, error) {
	return platform.Up(ctx, s, &Stack{p: p, spec: s, project: ProjectName(s.Project)})
}

// Kind is compose's: it deploys the compose file.
func (st *Stack) Kind() platform.Kind { return platform.Kind{Name: "compose", Compose: true} }

// Open connects, writes the compose file, creates the network the scenario
// names if it is missing, and starts watching the project's events
// (platform.Driver).
func (st *Stack) Open(ctx context.Context) error {
	s := st.spec
	dc, tool, err := st.p.connect(ctx)
	if err != nil {
		return err
	}
	st.dc, st.tool = dc, tool
	if st.file, err = platform.WriteStack(s); err != nil {
		return err
	}
	if s.Network != "" {
		created, err := dc.EnsureNetwork(ctx, s.Network, "bridge", map[string]string{
			label.Managed: "true", label.Run: s.RunID, label.Scenario: s.ScenarioID, label.Project: s.Project,
		})
		if err != nil {
			return lost(dc, err)
		}
		st.createdNetwork = created
	}
	st.watch = dc.Watch(ctx, docker.Filter{docker.ComposeProject: st.project})
	return nil
}

// Start runs `compose up` and samples every container of the project from then
// on (platform.Driver).
func (st *Stack) Start(ctx context.Context) error {
	upArgs := []string{"up", "--detach", "--no-build"}
	if !st.tool.V1 {
		upArgs = append(upArgs, "--pull", "never") // v1 lacks the flag; it pulls only missing images, and Prepare made sure none is
	}
	if out, err := st.tool.run(ctx, st.project, st.file, upArgs...); err != nil {
		if portTaken(out) {
			err = fmt.Errorf("%w: %w", platform.ErrPortsTaken, err)
		}
		return fmt.Errorf("cannot start project %s: %w", st.spec.Project, err)
	}
	return st.startSampling(ctx)
}

// Replicas checks that the project runs the replicas the scenario asks for and
// returns them, each with its published port unless a balancer is in front
// (platform.Driver).
func (st *Stack) Replicas(ctx context.Context, _ time.Time) (platform.Group, error) {
	s, cs := st.spec, st.found
	if len(cs) == 0 || len(cs) != s.Replicas {
		return platform.Group{}, fmt.Errorf("project %s runs %d containers of service %s, want %d (does the compose file set deploy.replicas?)", s.Project, len(cs), s.Service, s.Replicas)
	}
	var g platform.Group
	for _, c := range cs {
		if s.Balancer != "" {
			if !c.Running { // behind a balancer, a replica's exit is seen only here
				return g, fmt.Errorf("project %s: %w", s.Project, st.exitError(ctx, c))
			}
		} else {
			ep, err := st.endpoint(ctx, c, s.Port, "replica")
			if err != nil {
				return g, err
			}
			g.Endpoints = append(g.Endpoints, ep)
		}
		st.containers = append(st.containers, c)
		g.Members = append(g.Members, platform.Member{Name: c.Name, ID: c.ID})
	}
	return g, nil
}

// endpoint is where the load generator reaches c's port: its published host
// port on 127.0.0.1, or its own address (address: container); what names c in
// errors.
func (st *Stack) endpoint(ctx context.Context, c docker.Container, port int, what string) (platform.Endpoint, error) {
	hp, ok := c.HostPorts[port]
	if !ok {
		if !c.Running {
			return platform.Endpoint{}, fmt.Errorf("project %s: %w", st.spec.Project, st.exitError(ctx, c))
		}
		return platform.Endpoint{}, fmt.Errorf("%s %s publishes no host port for container port %d", what, c.Name, port)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", hp)
	if st.spec.Address == platform.AddressContainer {
		ip := c.IP(st.project + "_default")
		if ip == "" {
			return platform.Endpoint{}, fmt.Errorf("%s %s has no network address to reach it at directly; use address: published", what, c.Name)
		}
		url = fmt.Sprintf("http://%s:%d", ip, port)
	}
	return platform.Endpoint{Name: c.Name, URL: url}, nil
}

// CheckLimits checks the limits of members as `docker inspect` showed them
// when the project started (platform.Driver).
func (st *Stack) CheckLimits(_ context.Context, members []platform.Member, cpus float64, memoryBytes int64) error {
	for _, m := range members {
		if err := checkLimits(st.byID[m.ID], cpus, memoryBytes); err != nil {
			return err
		}
	}
	return nil
}

// Exited inspects m's container (platform.Driver).
func (st *Stack) Exited(ctx context.Context, m platform.Member) (bool, string) {
	c, err := st.dc.Inspect(ctx, m.ID)
	if err != nil || c.Running {
		return false, ""
	}
	return true, exitHow(c)
}

// Logs are the last 20 lines of m's container (platform.Driver).
func (st *Stack) Logs(ctx context.Context, m platform.Member) string {
	logs, _ := st.dc.Logs(ctx, m.ID, 20)
	return logs
}

// Record adds ev to the project's events (platform.Driver).
func (st *Stack) Record(ev result.Event) { st.watch.Add(ev) }

// Lost says whether err comes from the daemon no longer answering
// (platform.Driver).
func (st *Stack) Lost(err error) error { return lost(st.dc, err) }

// startSampling lists the project's containers and samples every one from now
// on, each with its role: the replicas of the service under test, the balancer,
// and the side services a user's template runs beside them, whose names it
// remembers so that their events carry the role too. It keeps the replicas.
func (st *Stack) startSampling(ctx context.Context) error {
	all, err := st.dc.Containers(ctx, docker.Filter{docker.ComposeProject: st.project})
	if err != nil {
		return err
	}
	var targets []docker.Target
	side := map[string]bool{}
	st.byID = map[string]docker.Container{}
	for _, c := range all {
		st.byID[c.ID] = c
		svc := c.Labels[docker.ComposeService]
		role := result.RoleSide
		switch {
		case svc == st.spec.Service:
			role = result.RoleReplica
			st.found = append(st.found, c)
		case st.spec.Balancer != "" && svc == st.spec.Balancer:
			role = result.RoleBalancer
		default:
			side[c.Name] = true
		}
		targets = append(targets, docker.Target{ID: c.ID, Name: c.Name, Role: role})
	}
	st.mu.Lock()
	st.side = side
	st.mu.Unlock()
	st.sampler.Store(st.dc.NewSampler(targets))
	return nil
}

func exitHow(c docker.Container) string {
	if c.OOMKilled {
		return fmt.Sprintf("OOM-killed (exit code %d)", c.ExitCode)
	}
	return fmt.Sprintf("exit code %d", c.ExitCode)
}

func (st *Stack) exitError(ctx context.Context, c docker.Container) error {
	logs, _ := st.dc.Logs(context.WithoutCancel(ctx), c.ID, 20)
	return &platform.HealthError{Replica: c.Name, Exited: true, Reason: exitHow(c), Logs: logs}
}

// Stack is a running compose project. It is platform.Up's driver while it
// comes up.
type Stack struct {
	platform.Base
	p              *Platform
	dc             *docker.Client
	tool           Tool
	spec           platform.Spec
	project        string
	file           string
	createdNetwork bool
	watch          *docker.Watch
	// sampler samples every container of the project from startSampling on.
	sampler atomic.Pointer[docker.Sampler]
	// byID is every container of the project at startSampling, found the
	// replicas among them, containers the replicas Up accepted.
	byID       map[string]docker.Container
	found      []docker.Container
	containers []docker.Container
	// balancer is the load balancer container (balancer: proxy), else nil.
	balancer *docker.Container
	// side names the containers of side services (see startSampling).
	side map[string]bool

	mu          sync.Mutex
	watchOver   bool
	down        bool
	networkGone bool
}

var _ platform.Driver = (*Stack)(nil)

// Containers returns the replicas as inspected at Up (IDs, limits, ports).
func (st *Stack) Containers() []docker.Container { return st.containers }

// Sample returns the latest stats of every running container of the project,
// each with its role. The daemon collects them once a second; the first call
// waits (within ctx) for two readings, so that the CPU % is defined. Before the
// containers exist, and once Down began, it returns nothing.
func (st *Stack) Sample(ctx context.Context) ([]result.Sample, error) {
	s := st.sampler.Load()
	if s == nil {
		return nil, nil
	}
	return s.Sample(ctx)
}

// Events returns the container events seen since Up, in time order; those of side
// services carry their role.
func (st *Stack) Events() []result.Event {
	evs := st.watch.Events()
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range evs {
		if st.side[evs[i].Container] {
			evs[i].Role = result.RoleSide
		}
	}
	return evs
}

// Advisory is false: Docker enforces the limits.
func (st *Stack) Advisory() bool { return false }

// Down records OOM kills the daemon's state shows, stops the event watch, runs
// `down --volumes --remove-orphans --timeout 5`, then removes by label whatever is
// left of the project and, if Up created it, the network. It can be called again
// after a failure, and after a success it does nothing. When the daemon no longer
// answers, its error wraps platform.ErrUnavailable.
func (st *Stack) Down(ctx context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.down {
		return nil
	}
	var errs []error
	if s := st.sampler.Swap(nil); s != nil {
		s.Close()
	}
	if !st.watchOver {
		if err := st.watch.Stop(ctx); err != nil {
			st.watch.Add(result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: "event stream: " + err.Error()})
		}
		st.recordOOMKills(ctx)
		st.watchOver = true
	}
	_, downErr := st.tool.run(ctx, st.project, st.file, "down", "--volumes", "--remove-orphans", "--timeout", "5")
	for _, f := range []docker.Filter{{docker.ComposeProject: st.project}, {label.Project: st.spec.Project}} {
		if err := st.dc.Sweep(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	if st.createdNetwork && !st.networkGone {
		if err := st.dc.RemoveNetwork(ctx, st.spec.Network); err != nil {
			errs = append(errs, err)
		} else {
			st.networkGone = true
		}
	}
	if len(errs) > 0 {
		if downErr != nil {
			errs = append(errs, downErr)
		}
		return lost(st.dc, fmt.Errorf("cannot bring down project %s: %w", st.spec.Project, errors.Join(errs...)))
	}
	st.down = true
	return nil
}

// recordOOMKills adds an oom event for every replica the daemon marks OOMKilled
// that has none yet (the oom event can be missed when the stream lags).
func (st *Stack) recordOOMKills(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a hung daemon leaves the rest of the teardown its time
	defer cancel()
	cs, err := st.dc.Containers(ctx, docker.Filter{docker.ComposeProject: st.project})
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, ev := range st.watch.Events() {
		if ev.Kind == result.EventOOM {
			have[ev.Container] = true
		}
	}
	for _, c := range cs {
		if c.OOMKilled && !have[c.Name] {
			st.watch.Add(result.Event{Time: time.Now(), Container: c.Name, Kind: result.EventOOM, Message: "State.OOMKilled is true at teardown"})
		}
	}
}

// lost wraps err in platform.ErrUnavailable when it comes from the Docker daemon
// no longer answering (then the run cannot go on), else returns it as is.
func lost(dc *docker.Client, err error) error {
	return dc.Lost(err, errors.Is(err, errNoDaemon))
}

// ProjectName is the compose project name Up uses for project: lower case, only
// letters, digits, '-' and '_', starting with a letter or digit, as compose itself
// requires. The runner's own project label keeps the name as given.
func ProjectName(project string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(project) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || ((r == '-' || r == '_') && b.Len() > 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkLimits fails when a container does not run with the limits the spec asks
// for, e.g. when a compose file lacks deploy.resources.limits.
func checkLimits(c docker.Container, cpus float64, memoryBytes int64) error {
	if memoryBytes > 0 && c.MemoryBytes != memoryBytes {
		return fmt.Errorf("container %s runs with a memory limit of %d bytes, want %d: the compose file's deploy.resources.limits.memory did not apply", c.Name, c.MemoryBytes, memoryBytes)
	}
	if want := int64(math.Round(cpus * 1e9)); cpus > 0 && (c.NanoCPUs < want-want/100 || c.NanoCPUs > want+want/100) {
		return fmt.Errorf("container %s runs with a CPU limit of %g CPUs, want %g: the compose file's deploy.resources.limits.cpus did not apply", c.Name, float64(c.NanoCPUs)/1e9, cpus)
	}
	return nil
}

// portTaken reports whether compose output says a published host port is taken
// (Docker's words differ between a port range and a single port).
func portTaken(out string) bool {
	for _, m := range []string{"port is already allocated", "ports are allocated", "address already in use"} {
		if strings.Contains(out, m) {
			return true
		}
	}
	return false
}
