// Package swarm runs scenarios as Docker swarm stacks: the scenario's compose
// file, rendered in its swarm flavour, is deployed with `docker stack deploy`
// onto the swarm that DOCKER_HOST (or the local socket) manages.
//
// Up waits for convergence (every task running, its port published, its health
// path answering), Down runs `docker stack rm` and waits until every task and
// network of the stack is gone. Telemetry comes from the Docker API of every node
// the runner can reach: the manager's, and those a scenario's swarm.nodes lists.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/render"
)

// Options configure the swarm platform.
type Options struct {
	// Init makes a daemon outside any swarm the single node of a new one for the
	// run (docker swarm init), and makes it leave again at Close. Without it, a
	// daemon outside a swarm is an error.
	Init bool
	// Publish is auto, host or ingress (see spec.Swarm.Publish); empty is auto.
	Publish string
	// Nodes are the Docker APIs of other nodes of the swarm, by hostname.
	Nodes []Node
	// Command is the docker CLI; empty means "docker".
	Command string
	// DistributeImage copies the images a stack needs from the manager to every
	// reachable node that lacks them (docker save | docker load), instead of
	// failing with the command that would.
	DistributeImage bool
}

// Node is another node of the swarm that the runner can reach.
type Node struct {
	// Name is the node's hostname as the swarm knows it.
	Name string
	// DockerHost is its Docker API (tcp://HOST:PORT or unix:///PATH).
	DockerHost string
	// Address is where its published ports answer; empty: DockerHost's host, or
	// the address the swarm knows the node by.
	Address string
}

// Platform deploys scenarios as swarm stacks. Use New.
type Platform struct {
	opts Options

	mu      sync.Mutex
	dc      *docker.Client
	state   docker.SwarmState
	publish string // host or ingress, decided once
	notes   []string
	// inited is true when Prepare created the swarm; gwExisted says whether the
	// gateway bridge existed before, so that Close removes it only if not.
	inited, gwExisted bool
	nodes             map[string]*node // by node ID, once resolved
	built             map[platform.Build]bool
}

// node is a swarm node as the runner reaches it.
type node struct {
	docker.Node
	dc    *docker.Client // nil when the runner cannot reach its API
	local bool           // the daemon the runner talks to
	addr  string         // where its published ports answer
	lost  bool           // its daemon stopped answering mid-run (under Platform.mu)
}

var _ platform.Platform = (*Platform)(nil)

// New returns a swarm platform; nothing is contacted before Prepare or Up.
func New(opts Options) *Platform {
	if opts.Command == "" {
		opts.Command = "docker"
	}
	return &Platform{opts: opts, built: map[platform.Build]bool{}}
}

// Name is "swarm".
func (p *Platform) Name() string { return "swarm" }

// connect dials the manager once, joins or creates the swarm as the options
// allow, decides the publish mode and reaches the nodes.
func (p *Platform) connect(ctx context.Context) (*docker.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dc != nil {
		return p.dc, nil
	}
	dc, err := docker.New(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(p.opts.Command); err != nil {
		dc.Close()
		return nil, fmt.Errorf("%w: docker stack deploy needs the docker command line: %w", platform.ErrUnavailable, err)
	}
	st, err := dc.Swarm(ctx)
	if err != nil {
		dc.Close()
		return nil, dc.Lost(err, false)
	}
	switch {
	case !st.Active && !p.opts.Init:
		dc.Close()
		return nil, fmt.Errorf("%w: the Docker daemon at %s is not part of a swarm (state %s): run `docker swarm init`, or pass --init-swarm to make it a single-node swarm for this run", platform.ErrUnavailable, dc.Host(), st.State)
	case !st.Active:
		if p.gwExisted, err = dc.NetworkExists(ctx, docker.GatewayBridge); err == nil {
			err = dc.SwarmInit(ctx, "127.0.0.1")
		}
		if err != nil {
			dc.Close()
			return nil, fmt.Errorf("%w: %w", platform.ErrUnavailable, err)
		}
		p.inited = true
		p.notes = append(p.notes, "the runner made this Docker daemon a single-node swarm for the run (--init-swarm) and leaves the swarm afterwards")
		if st, err = dc.Swarm(ctx); err != nil {
			p.leave(dc)
			dc.Close()
			return nil, err
		}
	case !st.Manager:
		dc.Close()
		return nil, fmt.Errorf("%w: the Docker daemon at %s is a swarm worker; stacks are deployed through a manager: point DOCKER_HOST at one", platform.ErrUnavailable, dc.Host())
	case p.opts.Init:
		p.notes = append(p.notes, "--init-swarm: this Docker daemon was already in a swarm, which the runner used and left as it was")
	}
	p.state = st
	p.publish, err = DecidePublish(p.opts.Publish)
	if err != nil {
		p.leave(dc)
		dc.Close()
		return nil, err
	}
	p.notes = append(p.notes, publishNote(p.opts.Publish, p.publish))
	p.dc = dc
	if err := p.reachNodes(ctx); err != nil {
		p.closeLocked()
		return nil, err
	}
	return dc, nil
}

// reachNodes lists the swarm's nodes and connects to those listed in the options.
func (p *Platform) reachNodes(ctx context.Context) error {
	nodes, err := p.dc.Nodes(ctx)
	if err != nil {
		return p.dc.Lost(err, false)
	}
	p.nodes = map[string]*node{}
	byName := map[string]Node{}
	for _, n := range p.opts.Nodes {
		byName[n.Name] = n
	}
	var unreached []string
	for _, n := range nodes {
		nd := &node{Node: n, addr: n.Addr}
		if n.ID == p.state.NodeID {
			// the manager's published ports answer where its API does
			nd.local, nd.dc, nd.addr = true, p.dc, hostOf(p.dc.Host(), "127.0.0.1")
		} else if o, ok := byName[n.Hostname]; ok {
			dc, err := docker.NewAt(ctx, o.DockerHost)
			if err != nil {
				return fmt.Errorf("swarm node %s: %w", n.Hostname, err)
			}
			nd.dc = dc
			if nd.addr = o.Address; nd.addr == "" {
				nd.addr = hostOf(o.DockerHost, n.Addr)
			}
		} else {
			unreached = append(unreached, n.Hostname)
		}
		delete(byName, n.Hostname)
		p.nodes[n.ID] = nd
	}
	for name := range byName {
		return fmt.Errorf("swarm.nodes lists %s, which is not a node of this swarm (docker node ls lists its hostnames)", name)
	}
	if len(unreached) > 0 {
		p.notes = append(p.notes, fmt.Sprintf("no Docker API for swarm nodes %s (swarm.nodes): no telemetry from tasks there, restarts from task states only", strings.Join(unreached, ", ")))
	}
	return nil
}

// hostOf is the host of a tcp:// Docker API address, else fallback.
func hostOf(dockerHost, fallback string) string {
	if u, err := url.Parse(dockerHost); err == nil && u.Scheme == "tcp" && u.Hostname() != "" {
		return u.Hostname()
	}
	return fallback
}

// Prepare connects (see connect) and builds the service image once per Build on
// the manager's daemon; every reachable node must already have it.
func (p *Platform) Prepare(ctx context.Context, b platform.Build) error {
	dc, err := p.connect(ctx)
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
		return dc.Lost(err, false)
	}
	images := []string{b.Image}
	if b.ProxyImage != "" {
		if err := dc.BuildImage(ctx, platform.Build{Dir: b.ProxyDir, Image: b.ProxyImage, RunID: b.RunID}); err != nil {
			return dc.Lost(fmt.Errorf("cannot build the load balancer image: %w", err), false)
		}
		images = append(images, b.ProxyImage)
	}
	if b.AgentImage != "" {
		if err := dc.BuildImage(ctx, platform.Build{Dir: b.AgentDir, Image: b.AgentImage, RunID: b.RunID}); err != nil {
			return dc.Lost(fmt.Errorf("cannot build the load agents' image: %w", err), false)
		}
		images = append(images, b.AgentImage)
	}
	if err := p.checkImages(ctx, images); err != nil {
		return err
	}
	p.mu.Lock()
	p.built[b] = true
	p.mu.Unlock()
	return nil
}

// checkImages fails, naming the command that fixes it, when a reachable node
// lacks an image: without a registry, every node needs its own copy. With
// DistributeImage it makes that copy itself.
func (p *Platform) checkImages(ctx context.Context, images []string) error {
	var errs []error
	for _, n := range p.nodes {
		if n.dc == nil || n.local {
			continue
		}
		for _, img := range images {
			ok, err := n.dc.ImageExists(ctx, img)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("swarm node %s: %w", n.Hostname, err))
			case !ok && p.opts.DistributeImage:
				if err := p.dc.CopyImage(ctx, img, n.dc); err != nil {
					errs = append(errs, fmt.Errorf("swarm node %s: %w", n.Hostname, err))
				} else {
					p.mu.Lock()
					p.notes = append(p.notes, fmt.Sprintf("image %s copied to swarm node %s (--distribute-image)", img, n.Hostname))
					p.mu.Unlock()
				}
			case !ok:
				errs = append(errs, fmt.Errorf("swarm node %s has no image %s; copy it there with\n  docker save %s | docker -H %s load\nor run with --distribute-image", n.Hostname, img, img, n.dc.Host()))
			}
		}
	}
	return errors.Join(errs...)
}

// Publish is the publish mode stacks are rendered with, host or ingress; empty
// before Prepare.
func (p *Platform) Publish() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.publish
}

// Info reports the Docker version, the docker CLI that deploys stacks and how
// ports are published.
func (p *Platform) Info(ctx context.Context) platform.Info {
	dc, err := p.connect(ctx)
	if err != nil {
		return platform.Info{Notes: []string{err.Error()}}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	info := platform.Info{DockerVersion: dc.Version, ComposeVersion: "docker stack " + cliVersion(ctx, p.opts.Command)}
	info.Notes = append(info.Notes, fmt.Sprintf("swarm of %d node(s), managed through %s", len(p.nodes), dc.Host()))
	info.Notes = append(info.Notes, p.notes...)
	return info
}

// cliVersion is the docker CLI's own version.
func cliVersion(ctx context.Context, cmd string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cmd, "version", "--format", "{{.Client.Version}}").Output()
	if err != nil {
		return "(docker CLI version unknown)"
	}
	return "(docker CLI " + strings.TrimSpace(string(out)) + ")"
}

// Close leaves the swarm if Prepare created it (removing the gateway bridge the
// swarm created) and closes the Docker connections. Stacks must be down before.
func (p *Platform) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeLocked()
}

func (p *Platform) closeLocked() error {
	if p.dc == nil {
		return nil
	}
	err := p.leave(p.dc)
	for _, n := range p.nodes {
		if n.dc != nil && !n.local {
			n.dc.Close()
		}
	}
	err = errors.Join(err, p.dc.Close())
	p.dc, p.nodes = nil, nil
	return err
}

// leave undoes what connect's swarm init did.
func (p *Platform) leave(dc *docker.Client) error {
	if !p.inited {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := dc.SwarmLeave(ctx)
	if err == nil && !p.gwExisted {
		// The bridge lingers a moment after the swarm's last sandbox goes.
		for {
			if err = dc.RemoveNetwork(ctx, docker.GatewayBridge); err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	p.inited = false
	return err
}

// DecidePublish turns the file's publish mode into host or ingress: auto is
// ingress only where the routing mesh can work, which needs IPVS in the kernel.
func DecidePublish(mode string) (string, error) {
	switch mode {
	case "", "auto":
		if ipvs() {
			return render.PublishIngress, nil
		}
		return render.PublishHost, nil
	case render.PublishHost, render.PublishIngress:
		return mode, nil
	}
	return "", fmt.Errorf("swarm publish mode %q: want auto, host or ingress", mode)
}

// publishNote says in the run metadata how ports were published and why.
func publishNote(asked, mode string) string {
	switch {
	case mode == render.PublishHost && (asked == "" || asked == "auto"):
		return "swarm publishes in host mode (each task on its own host port): the routing mesh needs IPVS, which this machine's kernel lacks (no /proc/net/ip_vs, no ip_vs module)"
	case mode == render.PublishHost:
		return "swarm publishes in host mode (each task on its own host port), as swarm.publish asks"
	case asked == render.PublishIngress:
		return "swarm publishes in ingress mode, as swarm.publish asks: one port on every node, the routing mesh spreads connections over the tasks, whatever the balancer says"
	}
	return "swarm publishes in ingress mode (IPVS is available): one port on every node, the routing mesh spreads connections over the tasks, whatever the balancer says"
}

// ipvsPaths are where a kernel with IPVS shows it: loaded, built in or loadable.
var ipvsPaths = []string{"/proc/net/ip_vs", "/sys/module/ip_vs"}

// ipvs reports whether this machine's kernel has, or can load, IPVS.
func ipvs() bool {
	for _, p := range ipvsPaths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		dep, err := os.ReadFile("/lib/modules/" + strings.TrimSpace(string(rel)) + "/modules.dep")
		return err == nil && strings.Contains(string(dep), "/ip_vs.ko")
	}
	return false
}
