package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// agentConfig is a Config as a load agent receives it (JSON): no functions, no
// files of the runner's host, a dataset as its bodies.
type agentConfig struct {
	Targets          []string        `json:"targets"`
	Balancer         string          `json:"balancer,omitempty"`
	Requests         []agentRequest  `json:"requests"`
	MixSeed          uint64          `json:"mix_seed,omitempty"`
	Arrival          string          `json:"arrival,omitempty"`
	Burstiness       float64         `json:"burstiness,omitempty"`
	ArrivalSeed      uint64          `json:"arrival_seed,omitempty"`
	Goodput          *result.Goodput `json:"goodput,omitempty"`
	Rate             float64         `json:"rate,omitempty"`
	RampFrom         float64         `json:"ramp_from,omitempty"`
	RampTo           float64         `json:"ramp_to,omitempty"`
	MaxWorkers       uint64          `json:"max_workers,omitempty"`
	Users            int             `json:"users,omitempty"`
	SpawnRate        float64         `json:"spawn_rate,omitempty"`
	ThinkMin         time.Duration   `json:"think_min_ns,omitempty"`
	ThinkMax         time.Duration   `json:"think_max_ns,omitempty"`
	Duration         time.Duration   `json:"duration_ns"`
	Warmup           time.Duration   `json:"warmup_ns,omitempty"`
	Timeout          time.Duration   `json:"timeout_ns,omitempty"`
	MaxResponseBytes int64           `json:"max_response_bytes,omitempty"`
}

// agentRequest is one request of an agentConfig.
type agentRequest struct {
	Name         string      `json:"name,omitempty"`
	Weight       float64     `json:"weight"`
	Method       string      `json:"method,omitempty"`
	Path         string      `json:"path,omitempty"`
	Header       http.Header `json:"header,omitempty"`
	Bodies       [][]byte    `json:"bodies,omitempty"`
	RandomBodies bool        `json:"random_bodies,omitempty"`
	Seed         uint64      `json:"seed,omitempty"`
	Stream       bool        `json:"stream,omitempty"`
}

// MarshalAgent encodes c for a load agent (`runner agent --config FILE`): the
// load model, its targets and every request with its bodies (a dataset's lines
// included). Progress, the results and side files are the agent's own.
func (c Config) MarshalAgent() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid load: %w", err)
	}
	reqs := c.Requests
	if len(reqs) == 0 {
		reqs = []Request{{Weight: 1, Method: c.Method, Path: c.Path, Header: c.Header, Bodies: c.Bodies,
			Dataset: c.Dataset, RandomBodies: c.RandomBodies, Seed: c.BodySeed, Stream: c.Stream}}
	}
	a := agentConfig{
		Targets: c.Targets, Balancer: c.Balancer, MixSeed: c.MixSeed,
		Arrival: c.Arrival, Burstiness: c.Burstiness, ArrivalSeed: c.ArrivalSeed, Goodput: c.Goodput,
		Rate: c.Rate, RampFrom: c.RampFrom, RampTo: c.RampTo, MaxWorkers: c.MaxWorkers,
		Users: c.Users, SpawnRate: c.SpawnRate, ThinkMin: c.ThinkMin, ThinkMax: c.ThinkMax,
		Duration: c.Duration, Warmup: c.Warmup, Timeout: c.Timeout, MaxResponseBytes: c.MaxResponseBytes,
	}
	for _, r := range reqs {
		ar := agentRequest{Name: r.Name, Weight: r.Weight, Method: r.Method, Path: r.Path, Header: r.Header,
			Bodies: r.Bodies, RandomBodies: r.RandomBodies, Seed: r.Seed, Stream: r.Stream}
		if d := r.Dataset; d != nil && d.Len() > 0 {
			ar.Bodies = make([][]byte, d.Len())
			for i := range ar.Bodies {
				ar.Bodies[i] = d.Line(i)
			}
		}
		a.Requests = append(a.Requests, ar)
	}
	return json.Marshal(a)
}

// UnmarshalAgent decodes what MarshalAgent encoded.
func UnmarshalAgent(b []byte) (Config, error) {
	var a agentConfig
	if err := json.Unmarshal(b, &a); err != nil {
		return Config{}, fmt.Errorf("cannot decode the agent's load: %w", err)
	}
	c := Config{
		Targets: a.Targets, Balancer: a.Balancer, MixSeed: a.MixSeed,
		Arrival: a.Arrival, Burstiness: a.Burstiness, ArrivalSeed: a.ArrivalSeed, Goodput: a.Goodput,
		Rate: a.Rate, RampFrom: a.RampFrom, RampTo: a.RampTo, MaxWorkers: a.MaxWorkers,
		Users: a.Users, SpawnRate: a.SpawnRate, ThinkMin: a.ThinkMin, ThinkMax: a.ThinkMax,
		Duration: a.Duration, Warmup: a.Warmup, Timeout: a.Timeout, MaxResponseBytes: a.MaxResponseBytes,
	}
	for _, r := range a.Requests {
		c.Requests = append(c.Requests, Request{Name: r.Name, Weight: r.Weight, Method: r.Method, Path: r.Path,
			Header: r.Header, Bodies: r.Bodies, RandomBodies: r.RandomBodies, Seed: r.Seed, Stream: r.Stream})
	}
	if len(c.Requests) == 1 && c.Requests[0].Name == "" {
		// a single request, as Config's own fields give it
		r := c.Requests[0]
		c.Requests = nil
		c.Method, c.Path, c.Header, c.Bodies, c.RandomBodies, c.BodySeed, c.Stream = r.Method, r.Path, r.Header, r.Bodies, r.RandomBodies, r.Seed, r.Stream
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid agent load: %w", err)
	}
	return c, nil
}

// Share returns the part of c that agent i of n (1 <= i <= n) sends, so that n
// agents started at one instant send c together: a 1/n of the rate (and of a
// ramp's ends, and of the cap on requests in flight, rounded up), and of the
// users (the first users%n agents one more), each starting users at 1/n of the
// spawn rate. Seeds differ per agent, so that their random arrivals, body
// orders and mix choices are independent draws, not n copies of one.
func (c Config) Share(i, n int) (Config, error) {
	if n < 1 || i < 1 || i > n {
		return c, fmt.Errorf("share %d/%d: want 1 <= I <= N", i, n)
	}
	if c.closed() && c.Users < n {
		return c, fmt.Errorf("%d users cannot be shared by %d agents", c.Users, n)
	}
	f := float64(n)
	c.Rate, c.RampFrom, c.RampTo = c.Rate/f, c.RampFrom/f, c.RampTo/f
	if c.MaxWorkers > 0 {
		c.MaxWorkers = (c.MaxWorkers + uint64(n) - 1) / uint64(n)
	}
	if c.closed() {
		users := c.Users / n
		if i <= c.Users%n {
			users++
		}
		c.Users, c.SpawnRate = users, c.SpawnRate/f
	}
	seed := func(s uint64) uint64 {
		if s == 0 {
			return 0 // drawn by each agent
		}
		return s*uint64(n) + uint64(i-1)
	}
	c.ArrivalSeed, c.MixSeed, c.BodySeed = seed(c.ArrivalSeed), seed(c.MixSeed), seed(c.BodySeed)
	if len(c.Requests) > 0 {
		reqs := make([]Request, len(c.Requests))
		for k, r := range c.Requests {
			r.Seed = seed(r.Seed)
			reqs[k] = r
		}
		c.Requests = reqs
	}
	return c, nil
}

// AgentReport is what a load agent says of its own run on the last line of
// its results stream: its metrics (as load.Run measured them: requests, rate,
// shortfall, its CPU, its send lag), how late it started, and its CPUs.
type AgentReport struct {
	// Load is the agent's own metrics, without the per-second series.
	Load result.Load `json:"load"`
	// Late is how long after the agreed instant it started sending.
	Late time.Duration `json:"late_ns"`
	// Procs is the agent's GOMAXPROCS (its CPU limit, where a cgroup sets one).
	Procs int `json:"procs"`
	// Error is why its load ended early; empty when it did not.
	Error string `json:"error,omitempty"`
}

// agentReportKey starts the line of a results stream that holds the report.
const agentReportKey = `{"runner_agent_report":`

// errNoReport says a results stream ended without its report: the agent died.
var errNoReport = errors.New("the results stream ended without the agent's report (the agent died or was killed)")

// IsNoReport reports whether err says that a results stream ended without the
// agent's report.
func IsNoReport(err error) bool { return errors.Is(err, errNoReport) }
