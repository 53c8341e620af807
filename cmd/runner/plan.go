package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/plan"
	"github.com/infergrid/runner/runner/preflight"
)

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("plan", usageText("plan"), stdout)
	asJSON := fs.Bool("json", false, "print a JSON array of scenarios (keys follow results.csv) instead of a table")
	hostCPUs := fs.Int("host-cpus", 0, "plan for a host with `N` CPUs (default: this host's)")
	hostMem := fs.String("host-memory", "", "plan for a host with `SIZE` of memory, e.g. 16G (default: this host's)")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	path, ok := cli.OneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	h, err := preflight.ReadHost()
	if err != nil && *hostMem == "" {
		fmt.Fprintf(stderr, "runner plan: %v; pass --host-memory\n", err)
		return exitPlatform
	}
	if h, err = h.With(*hostCPUs, *hostMem); err != nil {
		fmt.Fprintf(stderr, "runner plan: %v\n", err)
		return exitUsage
	}
	f, code := cli.LoadFile(path, stderr)
	if code != exitOK {
		return code
	}
	rows := plan.Rows(f, h)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fmt.Fprintf(stderr, "runner plan: %v\n", err)
			return exitPlatform
		}
		return exitOK
	}
	if err := plan.Table(stdout, f, h, rows); err != nil {
		fmt.Fprintf(stderr, "runner plan: %v\n", err)
		return exitPlatform
	}
	return exitOK
}
