package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/load"
)

const agentUsage = `Usage: runner agent URL... --rate R/s --out FILE [--share I/N] [--start TIME] [options]

Sends one share of an open-model load to URL (every URL in turn) and writes its
raw results, in vegeta's format, to FILE. Several agents started with the same
--start and --rate, each with its own --share, send the whole rate together from
one agreed instant; 'runner merge' then computes the metrics of the whole from
their files. Ctrl-C stops the agent; what it sent so far is kept.

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
	rate, share, start, out, bodyFile string
	cfg                               load.Config
}

func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("agent", agentUsage, stdout)
	o := agentOptions{cfg: load.Config{Header: http.Header{}, Balancer: load.BalanceClient}}
	fs.StringVar(&o.rate, "rate", "", "the whole load's arrival `rate`, e.g. 300/s (this agent sends its share)")
	fs.StringVar(&o.share, "share", "1/1", "this agent's share `I/N`: the I-th of N agents sends rate/N")
	fs.StringVar(&o.start, "start", "", "the agreed start `TIME` (RFC 3339, UTC); empty starts at once")
	fs.StringVar(&o.out, "out", "", "write the raw results to `FILE` (vegeta's gob format)")
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
	if o.start != "" {
		at, _ := time.Parse(time.RFC3339Nano, o.start)
		if late := time.Since(at); late > 100*time.Millisecond {
			fmt.Fprintf(stderr, "runner agent: started %s after the agreed instant\n", late.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return exitInterrupted
		case <-time.After(time.Until(at)):
		}
	}
	l, err := load.Run(ctx, o.cfg)
	fmt.Fprint(stderr, load.Summary(l))
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

// resolve checks the options and fills the load's targets, rate share and body.
func (o *agentOptions) resolve(urls []string) error {
	if len(urls) == 0 {
		return errors.New("no URL to send the load to")
	}
	if o.out == "" {
		return errors.New("--out FILE is required: the raw results are what the agent delivers")
	}
	o.cfg.Targets, o.cfg.ResultsPath = urls, o.out
	rate, err := strconv.ParseFloat(strings.TrimSuffix(o.rate, "/s"), 64)
	if err != nil || rate <= 0 {
		return fmt.Errorf("--rate %q: want a positive rate such as 300/s", o.rate)
	}
	is, ns, _ := strings.Cut(o.share, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return fmt.Errorf("--share %q: want I/N with 1 <= I <= N, e.g. 2/3", o.share)
	}
	o.cfg.Rate = rate / float64(n)
	if o.start != "" {
		if _, err := time.Parse(time.RFC3339Nano, o.start); err != nil {
			return fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", o.start)
		}
	}
	if o.bodyFile != "" {
		b, err := os.ReadFile(o.bodyFile)
		if err != nil {
			return err
		}
		o.cfg.Bodies = [][]byte{b}
	}
	return nil
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
