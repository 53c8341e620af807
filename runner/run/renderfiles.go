package run

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/spec"
)

// RenderOptions says where and how RenderFiles writes a file's stacks.
type RenderOptions struct {
	// Dir gets DIR/SCENARIO_ID/compose.yml and the files it mounts.
	Dir string
	// RunID labels the stacks.
	RunID string
	// FixedPorts publishes the first ports of service.host_ports without
	// checking that they are free.
	FixedPorts bool
	// Swarm renders for docker stack deploy; nil renders for compose.
	Swarm *render.Swarm
}

// RenderFiles writes the stack of every scenario of f exactly as a run would
// deploy it, and starts nothing. Each publishes one host port per replica from
// service.host_ports: the lowest block that is free on this host now, unless
// o.FixedPorts. It returns the compose files' paths; an error wrapping
// render.ErrNoPorts means the host has no free block.
func RenderFiles(f *spec.File, o RenderOptions) ([]string, error) {
	var written []string
	for _, s := range f.Scenarios() {
		p := render.Params{RunID: o.RunID, Project: render.Project(o.RunID, s.ID), Swarm: o.Swarm}
		need := render.PortsNeeded(s, o.Swarm)
		switch {
		case need == 0:
		case o.FixedPorts:
			p.Ports = spec.PortRange{Lo: f.Service.HostPorts.Lo, Hi: f.Service.HostPorts.Lo + need - 1}
		default:
			var err error
			if p.Ports, err = render.FreePorts(f.Service.HostPorts, need); err != nil {
				return written, fmt.Errorf("scenario %s: %w", s.ID, err)
			}
		}
		file, err := renderOne(s, filepath.Join(o.Dir, s.ID), p)
		if err != nil {
			return written, err
		}
		written = append(written, file)
	}
	return written, nil
}

// renderOne writes s's compose.yml and the files it mounts (a balancer's
// configuration) into dir.
func renderOne(s spec.Scenario, dir string, p render.Params) (string, error) {
	b, err := render.Render(s, p)
	if err != nil {
		return "", err
	}
	files, err := render.Files(s, p)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return "", err
	}
	return file, platform.WriteFiles(dir, files)
}
