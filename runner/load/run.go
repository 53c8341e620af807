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

	"github.com/infergrid/runner/runner/dataset"
	"github.com/infergrid/runner/runner/result"
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
	pools        []*pool // every pool: one per endpoint and request of the mix
	reqs         []engineReq
	mix          *dataset.Weighted // nil for a single request
	streamEnd    time.Time         // latest end of a stream: the run's end plus the timeout
	read         bodyReader        // the hit path's body hook
	out          chan *exchange
	closeConns   context.CancelFunc // closes every connection at once

	nextTarget, nextBody atomic.Uint64
	inFlight, peak       atomic.Int64
	started              atomic.Int64 // closed-model users started

	haltOnce sync.Once
	halted   chan struct{} // closed on cancellation

	// scheduled is the rate a random arrival schedule (poisson, gamma) drew for
	// the measured window: its hits due within it over its length; 0 otherwise.
	scheduled float64

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
	rw, err := openResults(c)
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
	e.streamEnd = e.measureStart.Add(c.Duration + c.Timeout)
	col := newCollector(e, rw)
	if col.streams.side, err = openSide(c.StreamPath); err != nil {
		_ = rw.close()
		return result.Load{}, err
	}
	if col.streams.side != nil {
		col.streams.side.names = col.streams.names
	}
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
	if len(c.Requests) == 0 {
		c.Requests = []Request{{Weight: 1, Method: c.Method, Path: c.Path, Header: c.Header, Bodies: c.Bodies,
			Dataset: c.Dataset, RandomBodies: c.RandomBodies, Seed: c.BodySeed, Stream: c.Stream}}
	}
	for i := range c.Requests {
		if c.Requests[i].Method == "" {
			c.Requests[i].Method = DefaultMethod
		}
	}
	return c
}

// engineReq is one request of the mix (or the only one) with its pools.
type engineReq struct {
	Request
	data  *dataset.Dataset
	order *dataset.Order
	urls  []string // per target
	pools []*pool  // per target
}

// streams reports whether any request streams.
func (c Config) streams() bool {
	for _, r := range c.Requests {
		if r.Stream {
			return true
		}
	}
	return c.Stream
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
	if c.streams() {
		e.read = e.readStream
	}
	if len(c.Requests) > 1 {
		w := make([]float64, len(c.Requests))
		for i, r := range c.Requests {
			w[i] = r.Weight
		}
		e.mix = dataset.NewWeighted(w, c.MixSeed)
	}
	for _, t := range c.Targets {
		base := strings.TrimRight(t, "/")
		e.bases = append(e.bases, base)
		e.urls = append(e.urls, base+c.Requests[0].Path)
	}
	dial, _ := newDialer(connCtx)
	for _, r := range c.Requests {
		er := engineReq{Request: r, data: r.bodies()}
		er.order = dataset.NewOrder(er.data.Len(), r.RandomBodies, r.Seed)
		for _, base := range e.bases {
			p, err := newPool(base+r.Path, r.Method, r.Header, c.Timeout, e.maxConns(), dial)
			if err != nil {
				e.closeIdle()
				return nil, fmt.Errorf("invalid target %s: %w", base+r.Path, err)
			}
			if c.MaxResponseBytes > 0 {
				p.maxBody = c.MaxResponseBytes
			}
			if r.Stream {
				p.maxBody = 0 // a stream is bounded by its line cap and deadline, not its size
			}
			er.urls = append(er.urls, base+r.Path)
			er.pools = append(er.pools, p)
			e.pools = append(e.pools, p)
		}
		e.reqs = append(e.reqs, er)
	}
	return e, nil
}

// maxConns is the most requests the model has in flight, and so the most
// connections it keeps per endpoint: Users, MaxWorkers, or
// DefaultMaxConnections, within what the process's file descriptor limit
// allows.
func (e *engine) maxConns() int {
	if e.c.closed() {
		return e.c.Users
	}
	n := DefaultMaxConnections
	if m := e.c.MaxWorkers; m > 0 {
		n = int(min(m, math.MaxInt32))
	}
	if budget := fdBudget(len(e.urls)); budget > 0 && budget < n {
		n = budget
	}
	return n
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
	col.streams.fill(&l)
	if err := col.streams.side.close(); err != nil && writeErr == nil {
		writeErr = err
	}
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
		e.openHonesty(l, agg)
	}
	e.selfCheck(l, cpu)
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

// openHonesty records the open model's requested rate, shortfall, send lag and
// connection cap.
func (e *engine) openHonesty(l *result.Load, agg *aggregator) {
	c := e.c
	l.LatencyFrom = "intended-send-time"
	requested := c.Rate
	if c.ramp() {
		frac := min(l.Elapsed.Seconds()/c.Duration.Seconds(), 1)
		requested = c.RampFrom + (c.RampTo-c.RampFrom)*frac/2
	}
	l.RequestedRPS = requested
	// A random schedule's window holds its own number of hits, not rate×duration:
	// the generator fell short only if it sent fewer than the schedule made due.
	if e.scheduled > 0 {
		requested = e.scheduled
		if math.Abs(e.scheduled-l.RequestedRPS) > 0.05*l.RequestedRPS {
			l.Notes = append(l.Notes, fmt.Sprintf(
				"the %s schedule made %.1f/s due in the measured window (mean rate %.1f/s): a window this short "+
					"holds few arrivals, so the rate sent is judged against the schedule", c.Arrival, e.scheduled, l.RequestedRPS))
		}
	}
	l.Shortfall = l.RateRPS < 0.95*requested
	l.MaxInFlight = e.maxConns()
	if h := agg.raw; h != nil && h.n > 0 {
		l.SendLagP50, l.SendLagP99 = agg.lag.quantile(0.5), agg.lag.quantile(0.99)
		l.Notes = append(l.Notes, fmt.Sprintf(
			"latency is from each request's intended send time (coordinated omission corrected, as wrk2 does); "+
				"from the actual send time, as vegeta measures it and the raw results file holds it: "+
				"p50 %s, p99 %s, max %s", fmtDur(h.quantile(0.5)), fmtDur(h.quantile(0.99)), fmtDur(h.max)))
	}
	if l.Shortfall {
		l.Notes = append(l.Notes, fmt.Sprintf(
			"shortfall: achieved %.1f/s is %.1f%% below the requested %.1f/s",
			l.RateRPS, 100*(1-l.RateRPS/requested), requested))
	}
	if l.PeakInFlight >= l.MaxInFlight {
		what := fmt.Sprintf("max_workers (%d) were all busy at some point: requests waited for a free worker", c.MaxWorkers)
		if c.MaxWorkers == 0 || uint64(l.MaxInFlight) < c.MaxWorkers {
			what = fmt.Sprintf("the cap of %d requests in flight (connections per endpoint) bound the load "+
				"at some point: requests waited for a free connection (max_workers raises it, within the file descriptor limit)", l.MaxInFlight)
		}
		l.Notes = append(l.Notes, what)
	}
}

// selfCheck records the generator's own share of the numbers: its CPU, its
// send lag, and whether it, not the service, may have bounded them.
func (e *engine) selfCheck(l *result.Load, cpu time.Duration) {
	procs := runtime.GOMAXPROCS(0)
	if l.Elapsed > 0 {
		l.GeneratorCPUShare = cpu.Seconds() / l.Elapsed.Seconds() / float64(procs)
	}
	check := fmt.Sprintf("generator self-check: CPU %.0f%% of its %d CPUs", 100*l.GeneratorCPUShare, procs)
	if !e.c.closed() {
		check += fmt.Sprintf("; send lag behind the schedule (its own delay, or waiting for a free connection; "+
			"included in the latency) p50 %s, p99 %s", fmtDur(l.SendLagP50), fmtDur(l.SendLagP99))
	}
	l.Notes = append(l.Notes, check)
	var why []string
	if l.GeneratorCPUShare > 0.8 {
		why = append(why, fmt.Sprintf("the load generator used %.0f%% of its %d CPUs: it may have limited the load", 100*l.GeneratorCPUShare, procs))
	}
	if l.SendLagP99 > 0 && l.SendLagP99*10 > l.Latency.P99 {
		why = append(why, fmt.Sprintf("send lag p99 %s: a p99 below %s is not trustworthy here",
			fmtDur(l.SendLagP99), fmtDur(10*l.SendLagP99)))
	}
	if l.Shortfall && l.MaxInFlight > 0 && l.PeakInFlight >= l.MaxInFlight && l.SuccessRatio == 1 {
		why = append(why, fmt.Sprintf("the rate fell short with all %d connections busy and no errors", l.MaxInFlight))
	}
	l.GeneratorBound = len(why) > 0
	l.Notes = append(l.Notes, why...)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
