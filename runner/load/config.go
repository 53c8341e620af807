package load

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/infergrid/runner/runner/dataset"
	"github.com/infergrid/runner/runner/result"
)

// Balancing modes of Config.Balancer.
const (
	// BalanceNone sends every request to Targets[0].
	BalanceNone = "none"
	// BalanceClient spreads requests round-robin over all Targets.
	BalanceClient = "client"
)

// Attack names in the raw results file: a result's Attack field says whether it was
// sent during the warm-up (and excluded from the metrics) or measured.
const (
	AttackWarmup  = "warmup"
	AttackMeasure = "measure"
)

// Defaults applied by Run to zero fields.
const (
	// DefaultTimeout is the per-request timeout (vegeta's default).
	DefaultTimeout = 30 * time.Second
	// DefaultMethod is the request method.
	DefaultMethod = http.MethodGet
	// DefaultMaxConnections caps the open model's requests in flight (and
	// connections per endpoint) when MaxWorkers is 0. It carries 1,000 ms of
	// service time per ms: 100,000/s at 10 ms, 10,000/s at 100 ms.
	DefaultMaxConnections = 1000
)

// Config is one load scenario. Exactly one model is set: Rate (open, constant),
// RampFrom/RampTo (open, linear ramp over Duration) or Users (closed).
type Config struct {
	// Targets are the endpoints' base URLs, e.g. http://127.0.0.1:18089, one per replica.
	Targets []string
	// Balancer is BalanceNone (everything to Targets[0]) or BalanceClient
	// (round-robin over all Targets); empty means none.
	Balancer string
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to every target, e.g. /predict.
	Path string
	// Header is sent with every request (a Host entry sets the Host).
	Header http.Header
	// Bodies are the request bodies, cycled in order; empty means no body.
	Bodies [][]byte
	// RandomBodies picks each request's body uniformly at random instead.
	RandomBodies bool
	// Dataset holds the bodies instead of Bodies (a JSON Lines file); nil for none.
	Dataset *dataset.Dataset
	// BodySeed seeds RandomBodies; 0 draws one.
	BodySeed uint64
	// Stream reads every answer as Server-Sent Events and measures its tokens.
	Stream bool
	// Requests is a weighted mix that replaces Method, Path, Header, Bodies,
	// Dataset, RandomBodies, BodySeed and Stream: each request sent picks an
	// entry by Weight. Empty means the single request those fields describe.
	Requests []Request
	// MixSeed seeds the mix's choices; 0 draws one.
	MixSeed uint64

	// Arrival is ArrivalConstant (or empty), ArrivalPoisson or ArrivalGamma:
	// how the open model's constant-rate arrivals are spaced.
	Arrival string
	// Burstiness is the gamma shape of ArrivalGamma; 0 means 1.
	Burstiness float64
	// ArrivalSeed makes poisson and gamma arrivals repeatable; 0 draws one.
	ArrivalSeed uint64
	// Goodput, if set, counts the measured requests that met its limits.
	Goodput *result.Goodput
	// StreamPath, if set, receives the per-request streaming figures as JSON
	// Lines (the raw results file stays vegeta's format).
	StreamPath string

	// Rate is the open model's constant arrival rate in requests per second.
	Rate float64
	// RampFrom and RampTo make the open model's arrival rate go linearly from
	// RampFrom to RampTo requests per second over Duration (the warm-up runs at
	// RampFrom). Both must be positive.
	RampFrom, RampTo float64
	// MaxWorkers caps the open model's requests in flight, and so its
	// connections per endpoint; 0 means DefaultMaxConnections. Either is
	// lowered to what the file descriptor limit allows. Beyond the cap, hits
	// wait for a free connection: they are sent late, their latency counts from
	// their intended send time, and a rate that cannot be kept is a shortfall.
	MaxWorkers uint64

	// Users is the closed model's number of users; each sends its next request
	// only after the previous one was answered and its think time passed.
	Users int
	// SpawnRate is how many users start per second until all run; 0 starts all at once.
	SpawnRate float64
	// ThinkMin and ThinkMax bound the wait between one user's requests, drawn
	// uniformly; ThinkMax 0 means a fixed ThinkMin.
	ThinkMin, ThinkMax time.Duration

	// Duration is the measured load time, after Warmup.
	Duration time.Duration
	// Warmup is sent before Duration and excluded from the metrics.
	Warmup time.Duration
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes caps each response body: a longer one fails its request
	// with "response body over N bytes". 0 means DefaultMaxResponseBytes;
	// negative means no cap.
	MaxResponseBytes int64

	// ResultsPath, if set, receives every result in vegeta's gob format, streamed
	// as results arrive (`vegeta report FILE` reads it).
	ResultsPath string
	// ResultsWriter, if set, receives every result instead of ResultsPath, as
	// one JSON object per line (vegeta's JSON format), flushed about once a
	// second: a load agent's stdout, which the runner reads (see Gather).
	ResultsWriter io.Writer
	// Progress, if set, is called about once per second from Run's goroutine.
	Progress func(Progress)
}

// Request is one entry of a weighted mix of requests.
type Request struct {
	// Name identifies the entry in the per-name counts.
	Name string
	// Weight is the entry's share relative to the others'.
	Weight float64
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to every target.
	Path string
	// Header is sent with the entry's requests.
	Header http.Header
	// Bodies are the entry's bodies; Dataset replaces them when set.
	Bodies  [][]byte
	Dataset *dataset.Dataset
	// RandomBodies picks bodies at random (seeded by Seed) instead of in turn.
	RandomBodies bool
	Seed         uint64
	// Stream reads the answers as Server-Sent Events.
	Stream bool
}

// bodies returns the entry's bodies as a dataset (one empty body for none).
func (r Request) bodies() *dataset.Dataset {
	if r.Dataset != nil && r.Dataset.Len() > 0 {
		return r.Dataset
	}
	if len(r.Bodies) == 0 {
		return dataset.New([][]byte{nil})
	}
	return dataset.New(r.Bodies)
}

// Progress is a live view of a running load, for progress lines and bars.
type Progress struct {
	// Elapsed is the time since the load (including warm-up) started.
	Elapsed time.Duration
	// Total is Warmup+Duration.
	Total time.Duration
	// Phase is AttackWarmup or AttackMeasure.
	Phase string
	// Requests completed so far (warm-up included).
	Requests uint64
	// Errors among them.
	Errors uint64
	// RatePerSecond is the completions per second over the last interval.
	RatePerSecond float64
	// P50 and P99 are the median and 99th percentile latency of the last
	// interval's completions.
	P50, P99 time.Duration
	// Users is the number of closed-model users started.
	Users int
	// InFlight is the number of requests in flight now.
	InFlight int
	// Endpoints are the requests and errors per endpoint so far, in the order
	// of the targets (the per-replica share of a client-balanced load).
	Endpoints []result.EndpointCount
	// Stream is the last interval's streaming figures; nil when no stream
	// finished in it (or the requests do not stream).
	Stream *LiveStream
}

// LiveStream is the streaming part of a Progress: the time to first token and
// the gap between tokens (median and 99th percentile) of the streams that
// finished in the last interval, and the tokens they delivered per second.
type LiveStream struct {
	TTFTP50, TTFTP99 time.Duration
	ITLP50, ITLP99   time.Duration
	TokensPerSecond  float64
}

func (c Config) closed() bool { return c.Users > 0 }
func (c Config) ramp() bool   { return c.RampFrom > 0 || c.RampTo > 0 }

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Targets) == 0 {
		bad("no targets: give at least one base URL like http://127.0.0.1:8080")
	}
	for _, t := range c.Targets {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("target %q is not an http(s) base URL like http://127.0.0.1:8080", t)
		}
	}
	switch c.Balancer {
	case "", BalanceNone, BalanceClient:
	default:
		bad("balancer %q: want %q or %q", c.Balancer, BalanceNone, BalanceClient)
	}
	models := 0
	if c.Rate != 0 {
		models++
		if c.Rate < 0 {
			bad("rate %g/s: want a positive rate", c.Rate)
		}
	}
	if c.ramp() {
		models++
		if c.RampFrom <= 0 || c.RampTo <= 0 {
			bad("ramp %g/s..%g/s: both ends must be positive rates", c.RampFrom, c.RampTo)
		}
	}
	if c.Users != 0 {
		models++
		if c.Users < 0 {
			bad("users %d: want a positive number", c.Users)
		}
		if c.SpawnRate < 0 {
			bad("spawn rate %g/s: want a positive rate, or 0 to start all users at once", c.SpawnRate)
		}
		if c.ThinkMin < 0 || (c.ThinkMax != 0 && c.ThinkMax < c.ThinkMin) {
			bad("think %s..%s: want 0 <= min <= max", c.ThinkMin, c.ThinkMax)
		}
	}
	switch c.Arrival {
	case "", ArrivalConstant, ArrivalPoisson, ArrivalGamma:
		if c.Arrival != "" && c.Arrival != ArrivalConstant && c.closed() {
			bad("arrival %s applies to an arrival rate (constant or a ramp), not to users", c.Arrival)
		}
	default:
		bad("arrival %q: want %s, %s or %s", c.Arrival, ArrivalConstant, ArrivalPoisson, ArrivalGamma)
	}
	if c.Burstiness < 0 {
		bad("burstiness %g: want a positive gamma shape", c.Burstiness)
	}
	total := 0.0
	for _, r := range c.Requests {
		total += max(r.Weight, 0)
	}
	if len(c.Requests) > 0 && !(total > 0) {
		bad("request mix: want at least one positive weight")
	}
	if models != 1 {
		bad("set exactly one load model (rate, ramp or users), got %d", models)
	}
	if c.Duration <= 0 {
		bad("duration %s: want a positive duration", c.Duration)
	}
	if c.Warmup < 0 {
		bad("warmup %s: want 0 or a positive duration", c.Warmup)
	}
	if c.Timeout < 0 {
		bad("timeout %s: want 0 (default %s) or a positive duration", c.Timeout, DefaultTimeout)
	}
	return errors.Join(errs...)
}
