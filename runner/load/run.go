package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infergrid/runner/runner/result"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// keptBodyBytes is how much of a failed response's body goes into the raw results
// (successful bodies are not kept).
const keptBodyBytes = 1024

// engine is the state of one Run shared by the model and the collector.
type engine struct {
	c            Config
	bases, urls  []string
	start        time.Time
	measureStart time.Time
	pools        []*pool    // one per endpoint, shared by every model
	read         bodyReader // the hit path's body hook
	out          chan *exchange
	closeConns   context.CancelFunc // closes every connection at once

	nextTarget, nextBody atomic.Uint64
	inFlight, peak       atomic.Int64
	started              atomic.Int64 // closed-model users started

	haltOnce sync.Once
	halted   chan struct{} // closed on cancellation

	// written by the model before it closes out
	stopped time.Time   // when sending stopped
	spawned []time.Time // closed model: user start times
}

// Run sends the load c describes and returns its metrics. It returns when the
// load is over: Warmup+Duration, plus at most Timeout for requests in flight.
// Cancelling ctx stops sending at once, aborts requests in flight (they are
// neither counted nor written), and returns within about a second the metrics so
// far with an error wrapping ctx's error. The results file is complete up to its
// last record in either case.
//
// Its steps: open the results file, build the clients (one pool per endpoint),
// start the model, collect the results, finish the metrics.
func Run(ctx context.Context, c Config) (result.Load, error) {
	if err := c.Validate(); err != nil {
		return result.Load{}, fmt.Errorf("invalid load: %w", err)
	}
	c = c.withDefaults()
	rw, err := openResults(c.ResultsPath)
	if err != nil {
		return result.Load{}, err
	}
	e, err := buildClients(c)
	if err != nil {
		_ = rw.close()
		return result.Load{}, err
	}
	defer e.closeIdle()
	meter := startMeter(c.Warmup)
	defer meter.stop()

	e.start = time.Now()
	e.measureStart = e.start.Add(c.Warmup)
	col := newCollector(e, rw)
	finished := make(chan struct{})
	go col.watch(ctx, finished)
	if c.closed() {
		go e.runClosed()
	} else {
		go e.runOpen()
	}
	col.collect()
	close(finished)
	return e.finish(ctx, col, meter)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Balancer == "" {
		c.Balancer = BalanceNone
	}
	if len(c.Bodies) == 0 {
		c.Bodies = [][]byte{nil}
	}
	return c
}

// buildClients returns the engine for c with one connection pool per endpoint.
// Every connection closes when e.closeConns is called.
func buildClients(c Config) (*engine, error) {
	connCtx, closeConns := context.WithCancel(context.Background())
	e := &engine{
		c:          c,
		read:       discardBody,
		out:        make(chan *exchange, 1024),
		halted:     make(chan struct{}),
		closeConns: closeConns,
	}
	dial, _ := newDialer(connCtx)
	for _, t := range c.Targets {
		base := strings.TrimRight(t, "/")
		e.bases = append(e.bases, base)
		e.urls = append(e.urls, base+c.Path)
		p, err := newPool(base+c.Path, c.Method, c.Header, c.Timeout, e.maxConns(), dial)
		if err != nil {
			e.closeIdle()
			return nil, fmt.Errorf("invalid target %s: %w", base+c.Path, err)
		}
		if c.MaxResponseBytes > 0 {
			p.maxBody = c.MaxResponseBytes
		}
		e.pools = append(e.pools, p)
	}
	return e, nil
}

// maxConns is the most connections the model keeps per endpoint.
func (e *engine) maxConns() int {
	if e.c.closed() {
		return e.c.Users
	}
	if m := e.c.MaxWorkers; m > 0 && m < math.MaxInt32 {
		return int(m)
	}
	return vegeta.DefaultConnections
}

// closeIdle closes every connection and the idle pools.
func (e *engine) closeIdle() {
	e.closeConns()
	for _, p := range e.pools {
		p.closeIdle()
	}
}

// finish returns the metrics of the run the collector saw, with the honesty
// fields, and the error of a cancellation or of the results file.
func (e *engine) finish(ctx context.Context, col *collector, meter *meter) (result.Load, error) {
	c := e.c
	cpu := meter.cpu()
	writeErr := col.rw.close()
	var users func(time.Time) int
	if c.closed() {
		users = e.usersAt
	}
	l := col.agg.load(e.stopped, users)
	l.GeneratorCPU = cpu
	l.GeneratorPeakRSSBytes = peakRSS()
	l.PeakInFlight = int(e.peak.Load())
	e.honesty(&l, col.agg, cpu, meter.rssReset, col.aborted)

	var err error
	if at := col.cancelledAt.Load(); at != nil {
		err = fmt.Errorf("load cancelled after %s: %w", at.Sub(e.start).Round(time.Millisecond), context.Cause(ctx))
	}
	return l, errors.Join(err, writeErr)
}

// halt stops sending.
func (e *engine) halt() {
	e.haltOnce.Do(func() {
		close(e.halted)
	})
}

func (e *engine) isHalted() bool {
	select {
	case <-e.halted:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t or halt, and reports whether t was reached.
func (e *engine) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !e.isHalted()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-e.halted:
		return false
	}
}

// honesty records how far the numbers can be trusted.
func (e *engine) honesty(l *result.Load, agg *aggregator, cpu time.Duration, rssReset bool, aborted uint64) {
	c := e.c
	if c.closed() {
		l.LatencyFrom = "actual-send-time: closed model, each user sends only after its previous " +
			"response, so waiting on a slow service is part of the model (nothing to correct)"
	} else {
		l.LatencyFrom = "intended-send-time"
		requested := c.Rate
		if c.ramp() {
			frac := min(l.Elapsed.Seconds()/c.Duration.Seconds(), 1)
			requested = c.RampFrom + (c.RampTo-c.RampFrom)*frac/2
		}
		l.RequestedRPS = requested
		l.Shortfall = l.RateRPS < 0.95*requested
		if h := agg.raw; h != nil && h.n > 0 {
			l.Notes = append(l.Notes, fmt.Sprintf(
				"latency is from each request's intended send time (coordinated omission corrected, as wrk2 does); "+
					"from the actual send time, as vegeta measures it and the raw results file holds it: "+
					"p50 %s, p99 %s, max %s", fmtDur(h.quantile(0.5)), fmtDur(h.quantile(0.99)), fmtDur(h.max)))
			lag := agg.lag
			l.Notes = append(l.Notes, fmt.Sprintf(
				"send lag behind the schedule (the generator's own delay, or waiting for a free worker; "+
					"included in the latency): p50 %s, p99 %s, max %s",
				fmtDur(lag.quantile(0.5)), fmtDur(lag.quantile(0.99)), fmtDur(lag.max)))
		}
		if l.Shortfall {
			l.Notes = append(l.Notes, fmt.Sprintf(
				"shortfall: achieved %.1f/s is %.1f%% below the requested %.1f/s",
				l.RateRPS, 100*(1-l.RateRPS/requested), requested))
		}
		if c.MaxWorkers > 0 && uint64(l.PeakInFlight) >= c.MaxWorkers {
			l.Notes = append(l.Notes, fmt.Sprintf(
				"max_workers (%d) were all busy at some point: requests waited for a free worker", c.MaxWorkers))
		}
	}
	if l.Elapsed > 0 {
		procs := runtime.GOMAXPROCS(0)
		share := cpu.Seconds() / l.Elapsed.Seconds() / float64(procs)
		if share > 0.8 {
			l.Notes = append(l.Notes, fmt.Sprintf(
				"the load generator used %.0f%% of its %d CPUs: it may have limited the load", 100*share, procs))
		}
	}
	if !rssReset {
		l.Notes = append(l.Notes, "generator peak RSS is the process's lifetime peak (could not reset it)")
	}
	if _, ok := l.Errors[otherErrors]; ok {
		l.Notes = append(l.Notes, fmt.Sprintf("only the first %d distinct error messages are listed", maxErrorMessages))
	}
	if aborted > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf(
			"cancelled: %d requests in flight were aborted and are not counted", aborted))
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
