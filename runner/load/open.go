package load

import (
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runOpen sends the open-model load with vegeta: a warm-up attack at the constant
// (or ramp start) rate, then the measured attack. Each is a new Attacker (an
// Attacker cannot be reused) sharing one client, so connections carry over.
func (e *engine) runOpen() {
	c := e.c
	var main schedule = newConstantRate(c.Rate)
	warmRate := c.Rate
	if c.ramp() {
		main = newLinearRate(c.RampFrom, c.RampTo, c.Duration)
		warmRate = c.RampFrom
	}
	var wg sync.WaitGroup
	if c.Warmup > 0 {
		e.attack(&wg, newConstantRate(warmRate), c.Warmup, AttackWarmup)
	}
	if e.sleepUntil(e.measureStart) {
		e.attack(&wg, main, c.Duration, AttackMeasure)
	}
	end := e.measureStart.Add(c.Duration)
	e.sleepUntil(end)
	e.stopped = earliest(time.Now(), end)
	wg.Wait()
	close(e.out)
}

// attack starts one vegeta attack and forwards its results to the collector, with
// measured latencies taken from the intended send time of each hit.
func (e *engine) attack(wg *sync.WaitGroup, p schedule, du time.Duration, name string) {
	opts := []func(*vegeta.Attacker){vegeta.Client(e.client)}
	if m := e.c.MaxWorkers; m > 0 {
		opts = append(opts, vegeta.MaxWorkers(m))
	}
	e.mu.Lock()
	if e.isHalted() {
		e.mu.Unlock()
		return
	}
	a := vegeta.NewAttacker(opts...)
	e.attackers = append(e.attackers, a)
	e.mu.Unlock()

	began := time.Now()
	results := a.Attack(e.targeter(), p, du, name)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case r, ok := <-results:
				if !ok {
					return
				}
				e.inFlight.Add(-1)
				lat := r.Latency
				if name == AttackMeasure {
					// The k-th hit sent is the k-th the pacer scheduled (wrk2's rule).
					if d := r.End().Sub(began.Add(p.due(r.Seq))); d > lat {
						lat = d
					}
				}
				e.out <- item{res: r, latency: lat}
			case <-e.abandon:
				go func() {
					for range results {
						e.inFlight.Add(-1)
					}
				}()
				return
			}
		}
	}()
}

// targeter returns the vegeta Targeter for the configured request and balancing.
// vegeta calls it once per hit, from its workers, just before sending.
func (e *engine) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		i, body := e.pick()
		t.Method = e.c.Method
		t.URL = e.urls[i]
		t.Body = body
		t.Header = e.c.Header
		e.begin()
		return nil
	}
}
