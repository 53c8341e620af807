package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/load"
)

const agentUsage = `Usage: runner agent URL... --rate R/s --out FILE [--share I/N] [--start TIME] [options]
       runner agent --config FILE --out - [--share I/N] [--start TIME]

Sends one share of a load to URL (every URL in turn) and writes its raw results,
in vegeta's format, to FILE. Several agents started with the same --start and
--rate, each with its own --share, send the whole rate together from one agreed
instant; 'runner merge' then computes the metrics of the whole from their files.
Ctrl-C stops the agent; what it sent so far is kept.

With --config, the load (model, targets, requests) comes from FILE, as a scenario
with generators gives it to the agents it deploys on a swarm; its share of the
users or the rate is taken as for --rate. --out - writes the results to stdout as
JSON lines (vegeta's JSON format) and ends with a line holding the agent's own
report (its metrics, CPU and lateness): that is how the runner reads an agent's
results through the Docker API. RUNNER_AGENT_SHARE, when set, is the default of
--share (a swarm task sets it from its slot).

Options:
OPTIONS
Examples:
  at=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
  runner agent http://127.0.0.1:8000 --path /health --rate 300/s --duration 10s --share 1/3 --start $at --out a1.gob &
  runner agent http://127.0.0.1:8000 --path /health --rate 300/s --duration 10s --share 2/3 --start $at --out a2.gob &
  runner agent http://127.0.0.1:8000 --path /health --rate 300/s --duration 10s --share 3/3 --start $at --out a3.gob &
  wait; runner merge a1.gob a2.gob a3.gob
`

// headersFlag is a repeatable --header 'Key: value'.
type headersFlag http.Header

func (h headersFlag) String() string { return fmt.Sprint(http.Header(h)) }
func (h headersFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New("want 'Key: value'")
	}
	http.Header(h).Add(strings.TrimSpace(k), strings.TrimSpace(val))
	return nil
}

func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("agent", agentUsage, stdout)
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
	fs.Var(headersFlag(o.Load.Header), "header", "request header `'Key: value'` (repeatable)")
	var code int
	var ok bool
	if o.URLs, code, ok = parse(fs, args, stderr); !ok {
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

const mergeUsage = `Usage: runner merge FILE... [--json]

Computes the metrics of one load sent by several generators ('runner agent') from
their raw results files: counts add up, and percentiles are recomputed from every
result, not averaged. Latency is each request's own, as 'vegeta report' gives it.

Options:
OPTIONS
Examples:
  runner merge a1.gob a2.gob a3.gob
  runner merge a*.gob --json > merged.json
`

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", mergeUsage, stdout)
	asJSON := fs.Bool("json", false, "print the merged metrics as JSON (summary.json's load object)")
	pos, code, ok := parse(fs, args, stderr)
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

var _ flag.Value = headersFlag{}
