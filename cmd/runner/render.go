package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/run"
)

func cmdRender(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("render", usageText("render"), stdout)
	out := fs.String("out", "", "write the compose files under `DIR` (required)")
	runID := fs.String("run-id", "", "label the stacks with this run `ID` (default NAME-YYYYMMDDTHHMMSSZ, now)")
	fixed := fs.Bool("fixed-ports", false, "publish the first ports of service.host_ports without checking that they are free")
	platformName := fs.String("platform", "", "render for `compose` or swarm (default: the file's platform)")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	path, ok := cli.OneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "runner render: --out DIR is required\nRun 'runner render -h' for usage.")
		return exitUsage
	}
	f, code := cli.LoadFile(path, stderr)
	if code != exitOK {
		return code
	}
	sw, err := platforms.Rendering(f, *platformName)
	if err != nil {
		fmt.Fprintf(stderr, "runner render: %v\n", err)
		return exitUsage
	}
	if *runID == "" {
		*runID = run.ID(f.Name, time.Now())
	}
	files, err := run.RenderFiles(f, run.RenderOptions{Dir: *out, RunID: *runID, FixedPorts: *fixed, Swarm: sw})
	for _, file := range files {
		fmt.Fprintln(stdout, file)
	}
	switch {
	case errors.Is(err, render.ErrNoPorts):
		fmt.Fprintf(stderr, "runner render: %v; widen service.host_ports or use --fixed-ports\n", err)
		return exitPlatform
	case err != nil:
		fmt.Fprintf(stderr, "runner render: %v\n", err)
		return exitUsage
	}
	n := len(files)
	fmt.Fprintf(stderr, "wrote %d compose file%s under %s (run %s)\n", n, cli.Plural(n), *out, *runID)
	return exitOK
}
