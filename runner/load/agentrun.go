package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// AgentOptions are what a load agent (runner agent) is given: its targets and
// rate, or a Config file, its share of the load, and the agreed start.
type AgentOptions struct {
	// URLs are the targets; none with Config.
	URLs []string
	// Rate is the whole load's arrival rate, e.g. 300/s; the agent sends its share.
	Rate string
	// Share is this agent's share, I/N: the I-th of N agents.
	Share string
	// Start is the agreed start (RFC 3339, UTC); empty starts at once.
	Start string
	// Out is the raw results file (vegeta's gob format); - is the agent's
	// standard output (JSON lines, then its AgentReport).
	Out string
	// BodyFile is the request body's file; none with Config.
	BodyFile string
	// Config is a file of the load as MarshalAgent writes it, instead of URLs,
	// Rate and the request options.
	Config string
	// Load holds the request options (duration, warm-up, method, path, headers).
	Load Config
}

// HeaderFlag is a repeatable flag that adds a request header, 'Key: value', to
// the header it converts.
type HeaderFlag http.Header

func (h HeaderFlag) String() string { return fmt.Sprint(http.Header(h)) }
func (h HeaderFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New("want 'Key: value'")
	}
	http.Header(h).Add(strings.TrimSpace(k), strings.TrimSpace(val))
	return nil
}

// Resolve checks o and returns the load this agent sends (its share, its
// results file) and the agreed start (zero: at once).
func (o AgentOptions) Resolve() (Config, time.Time, error) {
	var at time.Time
	if o.Out == "" {
		return Config{}, at, errors.New("--out FILE is required: the raw results are what the agent delivers (- for stdout)")
	}
	is, ns, _ := strings.Cut(o.Share, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Config{}, at, fmt.Errorf("--share %q: want I/N with 1 <= I <= N, e.g. 2/3", o.Share)
	}
	if o.Start != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, o.Start); err != nil {
			return Config{}, at, fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", o.Start)
		}
	}
	if o.Config != "" {
		c, err := o.fromConfig(i, n)
		return c, at, err
	}
	c, err := o.fromFlags(i, n)
	return c, at, err
}

// fromFlags is the load of URLs, Rate and the request options, share i of n.
func (o AgentOptions) fromFlags(i, n int) (Config, error) {
	if len(o.URLs) == 0 {
		return Config{}, errors.New("no URL to send the load to")
	}
	c := o.Load
	c.Targets = o.URLs
	if o.Out != "-" {
		c.ResultsPath = o.Out
	}
	rate, err := strconv.ParseFloat(strings.TrimSuffix(o.Rate, "/s"), 64)
	if err != nil || rate <= 0 {
		return Config{}, fmt.Errorf("--rate %q: want a positive rate such as 300/s", o.Rate)
	}
	c.Rate = rate
	if o.BodyFile != "" {
		b, err := os.ReadFile(o.BodyFile)
		if err != nil {
			return Config{}, err
		}
		c.Bodies = [][]byte{b}
	}
	return c.Share(i, n)
}

// fromConfig reads the load from o.Config and takes share i of n.
func (o AgentOptions) fromConfig(i, n int) (Config, error) {
	if len(o.URLs) > 0 || o.Rate != "" || o.BodyFile != "" {
		return Config{}, errors.New("--config gives the load: no URL, --rate or --body-file with it")
	}
	b, err := os.ReadFile(o.Config)
	if err != nil {
		return Config{}, err
	}
	c, err := UnmarshalAgent(b)
	if err != nil {
		return Config{}, fmt.Errorf("--config %s: %w", o.Config, err)
	}
	if o.Out != "-" {
		c.ResultsPath = o.Out
	}
	return c.Share(i, n)
}

// WaitUntil waits until at (at once when at is zero) and returns how late the
// agent is, negative when it waited; the error is ctx's when it ended first.
func WaitUntil(ctx context.Context, at time.Time) (time.Duration, error) {
	if at.IsZero() {
		return 0, nil
	}
	late := time.Since(at)
	select {
	case <-ctx.Done():
		return late, ctx.Err()
	case <-time.After(time.Until(at)):
	}
	return late, nil
}

// RunAgent runs an agent's load c, which started late after the agreed instant.
// With stream set, the raw results go to stream as JSON lines, followed by the
// agent's AgentReport; c's own results file is left as it is otherwise.
func RunAgent(ctx context.Context, c Config, late time.Duration, stream io.Writer) (result.Load, error) {
	if stream != nil {
		c.ResultsWriter = stream
	}
	l, err := Run(ctx, c)
	if stream == nil {
		return l, err
	}
	rep := AgentReport{Load: l, Late: max(late, 0), Procs: runtime.GOMAXPROCS(0)}
	if err != nil {
		rep.Error = err.Error()
	}
	if werr := WriteAgentReport(stream, rep); werr != nil && err == nil {
		err = werr
	}
	return l, err
}
