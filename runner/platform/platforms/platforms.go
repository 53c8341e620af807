// Package platforms opens a platform by the name a scenario file gives: compose,
// swarm, local, or auto (compose when a Docker daemon answers and a compose tool is
// installed, else local; always local for a service given only by its command).
package platforms

import (
	"context"
	"fmt"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/compose"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/platform/local"
	"github.com/infergrid/runner/runner/platform/swarm"
)

// Options configure the platforms Open can return.
type Options struct {
	Compose compose.Options
	Swarm   swarm.Options
	Local   local.Options
	// CommandOnly says that the service is given only by its command (no build,
	// no image): it runs only as local processes, so auto chooses local without
	// asking Docker.
	CommandOnly bool
}

// CommandOnlyNote is the note of auto choosing local for a service given only by
// its command.
const CommandOnlyNote = "platform auto chose local: the service is given only by service.command (no build, no image), which runs as processes on this host; compose and swarm need an image"

// Open returns the platform called name. For auto, note says which one was chosen
// and why; it is empty otherwise. An unknown name is an error.
func Open(ctx context.Context, name string, o Options) (p platform.Platform, note string, err error) {
	switch name {
	case "compose":
		return compose.New(o.Compose), "", nil
	case "swarm":
		return swarm.New(o.Swarm), "", nil
	case "local":
		return local.New(o.Local), "", nil
	case "auto", "":
		if o.CommandOnly {
			return local.New(o.Local), CommandOnlyNote, nil
		}
		dc, err := docker.New(ctx)
		if err != nil {
			return local.New(o.Local), fmt.Sprintf("platform auto chose local: %v", err), nil
		}
		dc.Close()
		tool, err := compose.Detect(ctx, o.Compose.Command)
		if err != nil {
			return local.New(o.Local), fmt.Sprintf("platform auto chose local: %v", err), nil
		}
		return compose.New(o.Compose), fmt.Sprintf("platform auto chose compose (%s)", tool), nil
	}
	return nil, "", fmt.Errorf("unknown platform %q: want auto, compose, swarm or local", name)
}
