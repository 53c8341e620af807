package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/load"
)

var agentUsage = usageText("agent")

func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("agent", agentUsage, stdout)
	o := load.AgentOptions{Load: load.Config{Header: http.Header{}, Balancer: load.BalanceClient}}
	fs.StringVar(&o.Rate, "rate", "", "the whole load's arrival `rate`, e.g. 300/s (this agent sends its share)")
	fs.StringVar(&o.Share, "share", cmp.Or(os.Getenv("RUNNER_AGENT_SHARE"), "1/1"), "this agent's share `I/N`: the I-th of N agents sends rate/N (or its part of the users)")
	fs.StringVar(&o.Config, "config", "", "read the load from `FILE` (JSON, as the runner writes it for generators) instead of URLs and flags")
	fs.StringVar(&o.Start, "start", "", "the agreed start `TIME` (RFC 3339, UTC); empty starts at once")
	fs.StringVar(&o.Out, "out", "", "write the raw results to `FILE` (vegeta's gob format); - writes JSON lines and the agent's report to stdout")
	fs.DurationVar(&o.Load.Duration, "duration", 10*time.Second, "measured load `duration`")
	fs.DurationVar(&o.Load.Warmup, "warmup", 0, "warm-up before the measured duration, excluded from the metrics")
	fs.StringVar(&o.Load.Method, "method", "GET", "request `method`")
	fs.StringVar(&o.Load.Path, "path", "", "request `path` appended to every URL")
	fs.StringVar(&o.BodyFile, "body-file", "", "request body from `FILE`")
	fs.Var(load.HeaderFlag(o.Load.Header), "header", "request header `'Key: value'` (repeatable)")
	var code int
	var ok bool
	if o.URLs, code, ok = cli.Parse(fs, args, stderr); !ok {
		return code
	}
	c, at, err := o.Resolve()
	if err != nil {
		fmt.Fprintf(stderr, "runner agent: %v\nRun 'runner agent -h' for usage.\n", err)
		return exitUsage
	}
	late, err := load.WaitUntil(ctx, at)
	if late > 100*time.Millisecond {
		fmt.Fprintf(stderr, "runner agent: started %s after the agreed instant\n", late.Round(time.Millisecond))
	}
	if err != nil {
		return exitInterrupted
	}
	var stream io.Writer
	if o.Out == "-" {
		stream = stdout
	}
	l, err := load.RunAgent(ctx, c, late, stream)
	fmt.Fprint(stderr, load.Summary(l))
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "runner agent: interrupted; the results so far are in %s\n", o.Out)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "runner agent: %v\n", err)
		return exitPlatform
	}
	return exitOK
}

var mergeUsage = usageText("merge")

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("merge", mergeUsage, stdout)
	asJSON := fs.Bool("json", false, "print the merged metrics as JSON (summary.json's load object)")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "runner merge: no results file given\nRun 'runner merge -h' for usage.")
		return exitUsage
	}
	l, err := load.Merge(pos)
	if err != nil {
		fmt.Fprintf(stderr, "runner merge: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(l); err != nil {
			fmt.Fprintf(stderr, "runner merge: %v\n", err)
			return exitPlatform
		}
		return exitOK
	}
	fmt.Fprint(stdout, load.Summary(l))
	return exitOK
}
