package load

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runOpen sends the open-model load: a warm-up attack at the constant (or ramp
// start) rate, then the measured attack, each paced from its nominal start by a
// vegeta Pacer and carried by one set of workers over the engine's pools, so
// connections carry over.
func (e *engine) runOpen() {
	c := e.c
	main, _ := newArrival(c.Arrival, c.Rate, c.Burstiness, c.ArrivalSeed)
	warmRate := c.Rate
	if c.ramp() {
		main, _ = newRampArrival(c.Arrival, c.RampFrom, c.RampTo, c.Duration, c.Burstiness, c.ArrivalSeed)
		warmRate = c.RampFrom
	}
	w := newWorkers(e, uint64(e.maxConns()))
	if c.Warmup > 0 {
		warmSeed := c.ArrivalSeed
		if warmSeed != 0 {
			warmSeed++ // its own draws, repeatable too
		}
		warm, _ := newArrival(c.Arrival, warmRate, c.Burstiness, warmSeed)
		e.attack(w, warm, e.start, c.Warmup, AttackWarmup)
	}
	if r, ok := main.(*randomRate); ok {
		e.scheduled = float64(r.hitsWithin(c.Duration)) / c.Duration.Seconds()
	}
	if e.sleepUntil(e.measureStart) {
		e.attack(w, main, e.measureStart, c.Duration, AttackMeasure)
	}
	end := e.measureStart.Add(c.Duration)
	e.sleepUntil(end)
	e.stopped = earliest(time.Now(), end)
	w.close()
	close(e.out)
}

// attack sends the hits p schedules from began until du has elapsed or the
// run is halted, each hit labelled name.
func (e *engine) attack(w *workers, p schedule, began time.Time, du time.Duration, name string) {
	clk, stop := newClock(e.halted)
	defer stop()
	pace(clk, p, began, du, func(k uint64) bool {
		x := &exchange{seq: k, attack: name, due: p.due(k), began: began}
		e.pick(x)
		return w.send(x, p.Rate(x.due))
	})
}

// clock is the time source of the pacing loop; tests drive a fake one.
type clock interface {
	Now() time.Time
	// SleepUntil waits until t and reports false if the run was halted first.
	SleepUntil(t time.Time) bool
}

// pace is the open model's pacing loop, vegeta's own: it asks p how long to
// wait before hit k given the time elapsed since began, sleeps that long and
// calls send(k), until du has elapsed, p says stop, or send or a sleep reports
// the run halted. As in vegeta, the hit asked for before du elapsed is sent even
// if it is due after du: the window's last hit is due at its very end. A send that blocks (every
// worker busy) makes the next hits late: they are sent at once, and their
// latency counts from their intended send time.
func pace(clk clock, p vegeta.Pacer, began time.Time, du time.Duration, send func(k uint64) bool) {
	for k := uint64(0); ; k++ {
		elapsed := clk.Now().Sub(began)
		if elapsed > du {
			return
		}
		wait, stop := p.Pace(elapsed, k)
		if stop {
			return
		}
		if wait > 0 && !clk.SleepUntil(began.Add(elapsed+wait)) {
			return
		}
		if !send(k) {
			return
		}
	}
}

// wallClock is the real clock; its sleeps end early when halted is closed.
type wallClock struct{ halted <-chan struct{} }

func (wallClock) Now() time.Time { return time.Now() }

func (c wallClock) SleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-c.halted:
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-c.halted:
		return false
	}
}

// minSleep is the shortest wait the pacing loop sleeps: a hit due sooner is
// sent at once, a little early, since waking up costs about as much. Its
// latency still counts from the actual send (the later of the two origins).
const minSleep = 20 * time.Microsecond

// newClock returns the clock of one pacing loop and a function that releases
// it: on Linux a timerfd-backed clock that wakes within microseconds, else
// wallClock.
func newClock(halted <-chan struct{}) (clock, func()) {
	t, err := newFDTimer()
	if err != nil {
		return wallClock{halted: halted}, func() {}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-halted:
			t.interrupt()
		case <-done:
		}
	}()
	return &preciseClock{t: t, halted: halted}, func() { close(done); t.close() }
}

// preciseClock sleeps on an fdTimer. A wake-up still comes some tens of
// microseconds late (the poller, the scheduler, a CPU coming out of idle), which
// would be the generator's lag in every latency at moderate rates. So it learns
// how late it wakes (a moving average, at most maxSpin), sleeps that much less,
// and yields the CPU in a loop for the rest (the error of its estimate): a send
// lag of a few microseconds. Hits closer than that lead never yield (see
// SleepUntil).
type preciseClock struct {
	t      *fdTimer
	halted <-chan struct{}
	late   time.Duration
}

// maxSpin bounds how early the clock wakes before a hit, and so the CPU its
// yielding loop may take per hit.
const maxSpin = 100 * time.Microsecond

func (*preciseClock) Now() time.Time { return time.Now() }

func (c *preciseClock) SleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d < minSleep {
		return c.running()
	}
	wake := t.Add(-c.late)
	if d < c.late+minSleep {
		// Hits this close together (a high rate): sleep to the hit itself, as
		// the loop did before it learned to wake early, so it never spends on
		// yielding the CPU that the connections need.
		return c.t.sleep(d) && c.running()
	}
	if !c.t.sleep(time.Until(wake)) {
		return false
	}
	c.late += (min(time.Since(wake), maxSpin) - c.late) / 8
	for time.Now().Before(t) {
		runtime.Gosched()
	}
	return c.running()
}

func (c *preciseClock) running() bool {
	select {
	case <-c.halted:
		return false
	default:
		return true
	}
}

// workers carry the open model's hits, as wrk2's connections do: an idle worker
// takes the next hit, a new one starts when all are busy (see send), up to max,
// and beyond that the pacing loop waits for a free one. Each worker uses one
// connection at a time, so the connections in use follow rate x latency
// (Little's law) and never exceed max.
type workers struct {
	e     *engine
	max   uint64
	n     uint64 // started, touched only by the pacing goroutines
	queue chan *exchange
	wg    sync.WaitGroup

	meanLatency atomic.Int64 // of the actual sends, nanoseconds
}

func newWorkers(e *engine, max uint64) *workers {
	return &workers{e: e, max: max, queue: make(chan *exchange)}
}

// send hands x to a worker; it reports false if the run was halted while it
// waited for one. A new worker starts at once while fewer run than the rate
// needs (rate x twice the mean latency so far, plus spare); beyond that only
// when no worker frees up within growAfter, so a burst of late hits after a
// stall of the generator itself does not open a burst of connections to a fast
// service, while a service that slows down still gets its arrivals.
func (w *workers) send(x *exchange, rate float64) bool {
	select {
	case w.queue <- x:
		return true
	default:
	}
	if w.n < w.max && w.n < w.needed(rate) {
		w.start(x)
		return true
	}
	if w.n < w.max {
		t := time.NewTimer(growAfter)
		defer t.Stop()
		select {
		case w.queue <- x:
			return true
		case <-w.e.halted:
			return false
		case <-t.C:
			w.start(x)
			return true
		}
	}
	select {
	case w.queue <- x:
		return true
	case <-w.e.halted:
		return false
	}
}

// growAfter is the shortest time the pacing loop waits for a busy worker
// before it starts one more, beyond what the rate needs.
const growAfter = time.Millisecond

// needed is how many workers rate needs at the mean latency so far.
func (w *workers) needed(rate float64) uint64 {
	lat := time.Duration(w.meanLatency.Load())
	if lat == 0 {
		lat = 10 * time.Millisecond // until the first answers: a guess, generous for loopback
	}
	return uint64(rate*2*lat.Seconds()) + spareWorkers
}

// spareWorkers are started beyond rate x latency without waiting.
const spareWorkers = 4

func (w *workers) start(x *exchange) {
	w.n++
	w.wg.Add(1)
	go w.work(x)
}

// observe folds a latency into the mean (an exponentially weighted one, 1/16
// per sample; races between workers only lose a sample).
func (w *workers) observe(d time.Duration) {
	m := w.meanLatency.Load()
	if m == 0 {
		w.meanLatency.Store(int64(d))
		return
	}
	w.meanLatency.Store(m + (int64(d)-m)/16)
}

// work sends x and then every hit it is handed until the queue closes.
func (w *workers) work(x *exchange) {
	defer w.wg.Done()
	for ok := true; ok; x, ok = <-w.queue {
		w.e.hit(x)
		w.observe(x.res.Latency)
		w.e.out <- x
	}
}

// close ends the workers once their hits are done.
func (w *workers) close() {
	close(w.queue)
	w.wg.Wait()
}
