package platforms

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/swarm"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/run"
	"github.com/infergrid/runner/runner/spec"
)

// FileOptions are what a run adds to the platform settings of its scenario file
// (runner run's --init-swarm, --distribute-image and --swarm-node).
type FileOptions struct {
	// InitSwarm makes a Docker daemon outside any swarm a single-node swarm for
	// the run; DistributeImage copies the service image to the nodes that lack it.
	InitSwarm, DistributeImage bool
	// SwarmNodes are added to the file's swarm.nodes.
	SwarmNodes []swarm.Node
}

// Flags registers on fs the options of runner run that o holds: --init-swarm,
// --distribute-image and --swarm-node NAME=DOCKER_HOST (repeatable).
func (o *FileOptions) Flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.InitSwarm, "init-swarm", false, "with platform swarm, make a Docker daemon outside any swarm a single-node swarm for the run, and leave it afterwards")
	fs.BoolVar(&o.DistributeImage, "distribute-image", false, "with platform swarm, copy the service image to every swarm.nodes node that lacks it (docker save | docker load)")
	fs.Var((*nodesFlag)(&o.SwarmNodes), "swarm-node", "with platform swarm, another node's Docker API as `NAME=DOCKER_HOST`, added to the file's swarm.nodes (repeatable; make testbed-up prints them)")
}

// nodesFlag is --swarm-node NAME=DOCKER_HOST, repeatable.
type nodesFlag []swarm.Node

func (n *nodesFlag) String() string { return fmt.Sprint(*n) }
func (n *nodesFlag) Set(v string) error {
	name, host, ok := strings.Cut(v, "=")
	if !ok || name == "" || host == "" {
		return fmt.Errorf("want NAME=DOCKER_HOST, e.g. node2=tcp://10.0.0.2:2375")
	}
	*n = append(*n, swarm.Node{Name: name, DockerHost: host})
	return nil
}

// unavailable marks an error as the platform's (platform.ErrUnavailable), not the
// file's or the options', without changing its message.
type unavailable struct{ error }

func (u unavailable) Unwrap() error        { return u.error }
func (u unavailable) Is(target error) bool { return target == platform.ErrUnavailable }

// OpenFile opens the platform called name (none for external) for a run of f,
// with f's swarm settings and o. An unknown name is an error; a platform that
// cannot run f's service, or a swarm that does not answer, is an error that
// wraps platform.ErrUnavailable, and nothing is left open. run.Opened.Said holds
// the notes to tell the user, on error too.
func OpenFile(ctx context.Context, f *spec.File, name string, o FileOptions) (run.Opened, error) {
	op := run.Opened{Name: name}
	if name == "external" {
		return op, nil
	}
	opts := Options{Swarm: swarm.Options{Init: o.InitSwarm, DistributeImage: o.DistributeImage}}
	if f.Swarm != nil {
		opts.Swarm.Publish = f.Swarm.Publish
		for _, n := range f.Swarm.Nodes {
			opts.Swarm.Nodes = append(opts.Swarm.Nodes, swarm.Node{Name: n.Name, DockerHost: n.DockerHost, Address: n.Address})
		}
	}
	opts.Swarm.Nodes = append(opts.Swarm.Nodes, o.SwarmNodes...)
	opts.CommandOnly = f.Service.CommandOnly()
	p, note, err := Open(ctx, name, opts)
	if err != nil {
		return op, err
	}
	if note != "" {
		op.Said = append(op.Said, note)
	}
	if err := f.CheckPlatform(p.Name()); err != nil { // what auto chose cannot run the service
		p.Close()
		return op, unavailable{fmt.Errorf("%w\nNothing was started.", err)}
	}
	if note := f.Service.LocalNote(); note != "" && p.Name() == "local" {
		op.Said = append(op.Said, note)
	}
	op.Platform, op.Name, op.Info = p, p.Name(), p.Info(ctx)
	if sp, ok := p.(*swarm.Platform); ok {
		if sp.Publish() == "" { // it could not connect: Info says why
			p.Close()
			return run.Opened{Name: op.Name, Said: op.Said}, unavailable{errors.New(strings.Join(op.Info.Notes, "; "))}
		}
		op.Swarm = &render.Swarm{Publish: sp.Publish()}
		if f.Swarm != nil {
			op.Swarm.Constraints = f.Swarm.Constraints
		}
	}
	return op, nil
}

// Rendering is how runner render writes f's compose files for the platform
// called name (empty: the file's): nil for compose, SwarmRendering's for a
// swarm. A file that starts no containers (platform external, or a service
// given only by its command) has no compose file, which is an error.
func Rendering(f *spec.File, name string) (*render.Swarm, error) {
	if f.Platform == "external" {
		return nil, fmt.Errorf("%s uses platform external: it starts nothing, so there is no compose file to render", f.Path)
	}
	if f.Service.CommandOnly() {
		return nil, fmt.Errorf("%s gives the service only by service.command, which runs as processes on platform local: there is no compose file to render; add build or image to run it on compose or swarm", f.Path)
	}
	switch cmp.Or(name, f.Platform) {
	case "swarm":
		return SwarmRendering(f)
	case "compose", "auto", "local":
		return nil, nil
	}
	return nil, fmt.Errorf("--platform %s: want compose or swarm", name)
}

// SwarmRendering is how f's stacks are rendered for a swarm that is not asked
// (runner render): published as swarm.publish says (auto: ingress where IPVS is
// available here) and placed by swarm.constraints.
func SwarmRendering(f *spec.File) (*render.Swarm, error) {
	sw := &render.Swarm{}
	publish := ""
	if f.Swarm != nil {
		publish, sw.Constraints = f.Swarm.Publish, f.Swarm.Constraints
	}
	var err error
	sw.Publish, err = swarm.DecidePublish(publish)
	return sw, err
}
