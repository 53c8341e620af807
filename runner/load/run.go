package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
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

// haltGrace is how long a cancelled run waits for vegeta to close its results
// channel before leaving a goroutine to drain it: vegeta's pacer sleeps until the
// next hit is due and cannot be woken.
const haltGrace = 500 * time.Millisecond

// item is a result on its way to the collector with the latency the metrics use.
type item struct {
	res     *vegeta.Result
	latency time.Duration
}

// engine is the state of one Run shared by the model and the collector.
type engine struct {
	c            Config
	bases, urls  []string
	start        time.Time
	measureStart time.Time
	client       *http.Client // open model
	pools        []*pool      // closed model, one per endpoint
	out          chan item

	nextTarget, nextBody atomic.Uint64
	inFlight, peak       atomic.Int64
	started              atomic.Int64 // closed-model users started

	haltOnce sync.Once
	halted   chan struct{} // closed on cancellation
	abandon  chan struct{} // closed haltGrace after halted

	mu        sync.Mutex
	attackers []*vegeta.Attacker

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
func Run(ctx context.Context, c Config) (result.Load, error) {
	if err := c.Validate(); err != nil {
		return result.Load{}, fmt.Errorf("invalid load: %w", err)
	}
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

	var (
		file *os.File
		buf  *bufio.Writer
		enc  vegeta.Encoder
	)
	if c.ResultsPath != "" {
		f, err := os.Create(c.ResultsPath)
		if err != nil {
			return result.Load{}, fmt.Errorf("cannot create results file: %w", err)
		}
		file, buf = f, bufio.NewWriterSize(f, 256<<10)
		enc = vegeta.NewEncoder(buf)
	}

	rssReset := resetPeakRSS()
	// The generator's CPU is counted from the start of the measured window, so it
	// compares with Elapsed; the warm-up's is left out like its requests.
	var cpu0 atomic.Int64
	cpu0.Store(int64(cpuTime()))
	if c.Warmup > 0 {
		cpuTimer := time.AfterFunc(c.Warmup, func() { cpu0.Store(int64(cpuTime())) })
		defer cpuTimer.Stop()
	}

	connCtx, closeConns := context.WithCancel(context.Background())
	defer closeConns()
	e := &engine{
		c:       c,
		out:     make(chan item, 1024),
		halted:  make(chan struct{}),
		abandon: make(chan struct{}),
	}
	for _, t := range c.Targets {
		base := strings.TrimRight(t, "/")
		e.bases = append(e.bases, base)
		e.urls = append(e.urls, base+c.Path)
	}
	if c.closed() {
		dial, _ := newDialer(connCtx)
		for _, u := range e.urls {
			p, err := newPool(u, c.Method, c.Header, c.Timeout, c.Users, dial)
			if err != nil {
				return result.Load{}, fmt.Errorf("invalid target %s: %w", u, err)
			}
			p.maxBody = c.MaxResponseBytes
			e.pools = append(e.pools, p)
			defer p.closeIdle()
		}
	} else {
		idle := vegeta.DefaultConnections
		if c.MaxWorkers > 0 && c.MaxWorkers < uint64(idle) {
			idle = int(c.MaxWorkers)
		}
		e.client = newClient(connCtx, c.Timeout, idle)
		if c.MaxResponseBytes > 0 {
			e.client.Transport = &capTransport{rt: e.client.Transport, max: c.MaxResponseBytes, timeout: e.client.Timeout}
			e.client.Timeout = 0
		}
	}

	e.start = time.Now()
	e.measureStart = e.start.Add(c.Warmup)
	agg := newAggregator(e.measureStart, c.Duration, e.urls, e.bases, !c.closed())

	var cancelledAt atomic.Pointer[time.Time]
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			now := time.Now()
			cancelledAt.Store(&now)
			e.halt()
			closeConns()
			time.AfterFunc(haltGrace, func() { close(e.abandon) })
		case <-finished:
		}
	}()
	if c.closed() {
		go e.runClosed()
	} else {
		go e.runOpen()
	}

	var (
		aborted  uint64
		writeErr error
		lastTick = e.start
		ticker   = time.NewTicker(time.Second)
	)
	defer ticker.Stop()
	for done := false; !done; {
		select {
		case it, ok := <-e.out:
			if !ok {
				done = true
				break
			}
			r := it.res
			if at := cancelledAt.Load(); at != nil && failed(r) && !r.End().Before(*at) {
				aborted++ // cut short by the cancellation, not by the target
				continue
			}
			agg.add(r, it.latency)
			if enc != nil && writeErr == nil {
				r.Headers = nil
				if !failed(r) {
					r.Body = nil
				} else if len(r.Body) > keptBodyBytes {
					r.Body = r.Body[:keptBodyBytes]
				}
				if err := enc.Encode(r); err != nil {
					writeErr = fmt.Errorf("cannot write results file: %w", err)
				}
			}
		case <-ticker.C:
			now := time.Now()
			if buf != nil && writeErr == nil {
				if err := buf.Flush(); err != nil {
					writeErr = fmt.Errorf("cannot write results file: %w", err)
				}
			}
			if c.Progress != nil {
				rate, p99 := agg.takeTick(now.Sub(lastTick))
				phase := AttackMeasure
				if now.Before(e.measureStart) {
					phase = AttackWarmup
				}
				c.Progress(Progress{
					Elapsed:       now.Sub(e.start),
					Total:         c.Warmup + c.Duration,
					Phase:         phase,
					Requests:      agg.done,
					Errors:        agg.failed,
					RatePerSecond: rate,
					P99:           p99,
					Users:         int(e.started.Load()),
					InFlight:      int(e.inFlight.Load()),
				})
			}
			lastTick = now
		}
	}
	close(finished)

	cpu := cpuTime() - time.Duration(cpu0.Load())
	if file != nil {
		if writeErr == nil {
			if err := buf.Flush(); err != nil {
				writeErr = fmt.Errorf("cannot write results file: %w", err)
			}
		}
		if err := file.Close(); err != nil && writeErr == nil {
			writeErr = fmt.Errorf("cannot write results file: %w", err)
		}
	}

	var users func(time.Time) int
	if c.closed() {
		users = e.usersAt
	}
	l := agg.load(e.stopped, users)
	l.GeneratorCPU = cpu
	l.GeneratorPeakRSSBytes = peakRSS()
	l.PeakInFlight = int(e.peak.Load())
	if m := c.MaxWorkers; m > 0 && !c.closed() {
		// The open model counts from vegeta's Targeter call to the result's
		// arrival, which can overlap a worker's next hit by a moment.
		l.PeakInFlight = min(l.PeakInFlight, int(min(m, math.MaxInt32)))
	}
	e.honesty(&l, agg, cpu, rssReset, aborted)

	var err error
	if at := cancelledAt.Load(); at != nil {
		err = fmt.Errorf("load cancelled after %s: %w", at.Sub(e.start).Round(time.Millisecond), context.Cause(ctx))
	}
	return l, errors.Join(err, writeErr)
}

// halt stops sending: it stops the attackers (open) or the users (closed).
func (e *engine) halt() {
	e.haltOnce.Do(func() {
		e.mu.Lock()
		close(e.halted)
		for _, a := range e.attackers {
			a.Stop()
		}
		e.mu.Unlock()
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

// pick returns the index of the next target and the next body, round-robin (or
// a random body with RandomBodies).
func (e *engine) pick() (target int, body []byte) {
	if len(e.urls) > 1 && e.c.Balancer == BalanceClient {
		target = int((e.nextTarget.Add(1) - 1) % uint64(len(e.urls)))
	}
	b := e.c.Bodies
	if len(b) > 1 {
		if e.c.RandomBodies {
			return target, b[rand.IntN(len(b))]
		}
		return target, b[(e.nextBody.Add(1)-1)%uint64(len(b))]
	}
	return target, b[0]
}

// begin counts a request in flight.
func (e *engine) begin() {
	n := e.inFlight.Add(1)
	for p := e.peak.Load(); n > p && !e.peak.CompareAndSwap(p, n); p = e.peak.Load() {
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
