package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/swarm"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/spec"
)

func cmdRender(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("render", `Usage: runner render FILE --out DIR [--run-id ID] [--fixed-ports] [--platform compose|swarm]

Writes DIR/SCENARIO_ID/compose.yml for every scenario of FILE, exactly as runner run
would deploy it, and starts nothing. Each file publishes one host port per replica
from service.host_ports; by default the lowest block that is free on this host now.
For a swarm (platform: swarm, or --platform swarm) the files are for docker stack
deploy, publishing as swarm.publish says (auto: ingress where IPVS is available).

Options:
OPTIONS
Examples:
  runner render scenarios/workshop5.yaml --out /tmp/workshop5
  docker-compose -f /tmp/workshop5/memory-r1-cpu_unl-mem10g-client-u10000s500/compose.yml config
  runner render scenarios/smoke.yaml --platform swarm --out /tmp/smoke-swarm
`, stdout)
	out := fs.String("out", "", "write the compose files under `DIR` (required)")
	runID := fs.String("run-id", "", "label the stacks with this run `ID` (default NAME-YYYYMMDDTHHMMSSZ, now)")
	fixed := fs.Bool("fixed-ports", false, "publish the first ports of service.host_ports without checking that they are free")
	platformName := fs.String("platform", "", "render for `compose` or swarm (default: the file's platform)")
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	path, ok := oneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "runner render: --out DIR is required\nRun 'runner render -h' for usage.")
		return exitUsage
	}
	f, code := loadFile(path, stderr)
	if code != exitOK {
		return code
	}
	if f.Platform == "external" {
		fmt.Fprintf(stderr, "runner render: %s uses platform external: it starts nothing, so there is no compose file to render\n", path)
		return exitUsage
	}
	var sw *render.Swarm
	switch cmp.Or(*platformName, f.Platform) {
	case "swarm":
		sw = &render.Swarm{}
		publish := ""
		if f.Swarm != nil {
			publish, sw.Constraints = f.Swarm.Publish, f.Swarm.Constraints
		}
		var err error
		if sw.Publish, err = swarm.DecidePublish(publish); err != nil {
			fmt.Fprintf(stderr, "runner render: %v\n", err)
			return exitUsage
		}
	case "compose", "auto", "local":
	default:
		fmt.Fprintf(stderr, "runner render: --platform %s: want compose or swarm\n", *platformName)
		return exitUsage
	}
	if *runID == "" {
		*runID = f.Name + "-" + time.Now().UTC().Format("20060102T150405Z")
	}
	n := 0
	for _, s := range f.Scenarios() {
		need := render.PortsNeeded(s, sw)
		ports := spec.PortRange{Lo: f.Service.HostPorts.Lo, Hi: f.Service.HostPorts.Lo + need - 1}
		if need == 0 {
			ports = spec.PortRange{}
		} else if !*fixed {
			var err error
			if ports, err = render.FreePorts(f.Service.HostPorts, need); err != nil {
				fmt.Fprintf(stderr, "runner render: scenario %s: %v; widen service.host_ports or use --fixed-ports\n", s.ID, err)
				return exitPlatform
			}
		}
		b, err := render.Render(s, render.Params{RunID: *runID, Project: render.Project(*runID, s.ID), Ports: ports, Swarm: sw})
		if err != nil {
			fmt.Fprintf(stderr, "runner render: %v\n", err)
			return exitUsage
		}
		p := filepath.Join(*out, s.ID, "compose.yml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintf(stderr, "runner render: %v\n", err)
			return exitUsage
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "runner render: %v\n", err)
			return exitUsage
		}
		files, err := render.Files(s, render.Params{RunID: *runID, Project: render.Project(*runID, s.ID), Swarm: sw})
		if err == nil {
			err = platform.WriteFiles(filepath.Dir(p), files) // the balancer's config, which compose.yml mounts
		}
		if err != nil {
			fmt.Fprintf(stderr, "runner render: %v\n", err)
			return exitUsage
		}
		fmt.Fprintln(stdout, p)
		n++
	}
	fmt.Fprintf(stderr, "wrote %d compose file%s under %s (run %s)\n", n, plural(n), *out, *runID)
	return exitOK
}
