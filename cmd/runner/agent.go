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
	"runtime"
	"strconv"
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

type agentOptions struct {
	rate, share, start, out, bodyFile, config string
	cfg                                       load.Config
}

func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("agent", agentUsage, stdout)
	o := agentOptions{cfg: load.Config{Header: http.Header{}, Balancer: load.BalanceClient}}
	fs.StringVar(&o.rate, "rate", "", "the whole load's arrival `rate`, e.g. 300/s (this agent sends its share)")
	fs.StringVar(&o.share, "share", cmp.Or(os.Getenv("RUNNER_AGENT_SHARE"), "1/1"), "this agent's share `I/N`: the I-th of N agents sends rate/N (or its part of the users)")
	fs.StringVar(&o.config, "config", "", "read the load from `FILE` (JSON, as the runner writes it for generators) instead of URLs and flags")
	fs.StringVar(&o.start, "start", "", "the agreed start `TIME` (RFC 3339, UTC); empty starts at once")
	fs.StringVar(&o.out, "out", "", "write the raw results to `FILE` (vegeta's gob format); - writes JSON lines and the agent's report to stdout")
	fs.DurationVar(&o.cfg.Duration, "duration", 10*time.Second, "measured load `duration`")
	fs.DurationVar(&o.cfg.Warmup, "warmup", 0, "warm-up before the measured duration, excluded from the metrics")
	fs.StringVar(&o.cfg.Method, "method", "GET", "request `method`")
	fs.StringVar(&o.cfg.Path, "path", "", "request `path` appended to every URL")
	fs.StringVar(&o.bodyFile, "body-file", "", "request body from `FILE`")
	fs.Var(headersFlag(o.cfg.Header), "header", "request header `'Key: value'` (repeatable)")
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	if err := o.resolve(pos); err != nil {
		fmt.Fprintf(stderr, "runner agent: %v\nRun 'runner agent -h' for usage.\n", err)
		return exitUsage
	}
	late, code := waitStart(ctx, o.start, stderr)
	if code != exitOK {
		return code
	}
	if o.out == "-" {
		o.cfg.ResultsWriter = stdout
	}
	l, err := load.Run(ctx, o.cfg)
	fmt.Fprint(stderr, load.Summary(l))
	if o.out == "-" {
		rep := load.AgentReport{Load: l, Late: late, Procs: runtime.GOMAXPROCS(0)}
		if err != nil {
			rep.Error = err.Error()
		}
		if werr := load.WriteAgentReport(stdout, rep); werr != nil && err == nil {
			err = werr
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "runner agent: interrupted; the results so far are in %s\n", o.out)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "runner agent: %v\n", err)
		return exitPlatform
	}
	return exitOK
}

// waitStart waits until the agreed start (RFC 3339; empty starts at once) and
// returns how late the agent is, saying so when it is late by more than 100ms.
func waitStart(ctx context.Context, start string, stderr io.Writer) (time.Duration, int) {
	if start == "" {
		return 0, exitOK
	}
	at, _ := time.Parse(time.RFC3339Nano, start)
	late := time.Since(at)
	if late > 100*time.Millisecond {
		fmt.Fprintf(stderr, "runner agent: started %s after the agreed instant\n", late.Round(time.Millisecond))
	}
	select {
	case <-ctx.Done():
		return late, exitInterrupted
	case <-time.After(time.Until(at)):
	}
	return max(late, 0), exitOK
}

// resolve checks the options and fills the load's targets, rate share and body.
func (o *agentOptions) resolve(urls []string) error {
	if o.out == "" {
		return errors.New("--out FILE is required: the raw results are what the agent delivers (- for stdout)")
	}
	is, ns, _ := strings.Cut(o.share, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return fmt.Errorf("--share %q: want I/N with 1 <= I <= N, e.g. 2/3", o.share)
	}
	if o.start != "" {
		if _, err := time.Parse(time.RFC3339Nano, o.start); err != nil {
			return fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", o.start)
		}
	}
	if o.config != "" {
		return o.fromConfig(urls, i, n)
	}
	if len(urls) == 0 {
		return errors.New("no URL to send the load to")
	}
	o.cfg.Targets = urls
	if o.out != "-" {
		o.cfg.ResultsPath = o.out
	}
	rate, err := strconv.ParseFloat(strings.TrimSuffix(o.rate, "/s"), 64)
	if err != nil || rate <= 0 {
		return fmt.Errorf("--rate %q: want a positive rate such as 300/s", o.rate)
	}
	o.cfg.Rate = rate
	if o.bodyFile != "" {
		b, err := os.ReadFile(o.bodyFile)
		if err != nil {
			return err
		}
		o.cfg.Bodies = [][]byte{b}
	}
	o.cfg, err = o.cfg.Share(i, n)
	return err
}

// fromConfig reads the load from o.config and takes share i of n.
func (o *agentOptions) fromConfig(urls []string, i, n int) error {
	if len(urls) > 0 || o.rate != "" || o.bodyFile != "" {
		return errors.New("--config gives the load: no URL, --rate or --body-file with it")
	}
	b, err := os.ReadFile(o.config)
	if err != nil {
		return err
	}
	c, err := load.UnmarshalAgent(b)
	if err != nil {
		return fmt.Errorf("--config %s: %w", o.config, err)
	}
	if o.out != "-" {
		c.ResultsPath = o.out
	}
	o.cfg, err = c.Share(i, n)
	return err
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
