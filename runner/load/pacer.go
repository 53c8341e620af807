package load

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// schedule is a vegeta Pacer that also says when each hit was due, so latency can
// be measured from the intended send time (correcting coordinated omission).
type schedule interface {
	vegeta.Pacer
	// due returns the elapsed time at which hit k (0-based) is meant to be sent.
	due(k uint64) time.Duration
}

// constantRate wraps vegeta's ConstantPacer, which sends hit k at (k+1)*interval.
type constantRate struct{ vegeta.ConstantPacer }

func newConstantRate(perSecond float64) constantRate {
	if perSecond == math.Trunc(perSecond) && perSecond <= math.MaxInt32 {
		return constantRate{vegeta.ConstantPacer{Freq: int(perSecond), Per: time.Second}}
	}
	return constantRate{vegeta.ConstantPacer{Freq: 1, Per: time.Duration(math.Round(1e9 / perSecond))}}
}

func (p constantRate) due(k uint64) time.Duration {
	interval := p.Per.Nanoseconds() / int64(p.Freq)
	return time.Duration(int64(k+1) * interval)
}

// linearRate is vegeta's LinearPacer (rate = StartAt + Slope*t) with an exact Pace.
// LinearPacer.Pace extrapolates the wait from the rate at the current instant, which
// oversleeps while the rate is low and the ramp steep (ramping 1/s to 2000/s over
// 60s, it waits 2s for the second hit that is due after 0.32s); linearRate solves
// the schedule instead, so hit k is sent when the expected hit count reaches k+1,
// as with ConstantPacer.
type linearRate struct{ vegeta.LinearPacer }

func newLinearRate(from, to float64, over time.Duration) linearRate {
	start := newConstantRate(from).ConstantPacer
	return linearRate{vegeta.LinearPacer{StartAt: start, Slope: (to - from) / over.Seconds()}}
}

// Pace implements vegeta.Pacer.
func (p linearRate) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if wait := p.due(hits) - elapsed; wait > 0 {
		return wait, false
	}
	return 0, false
}

// due solves StartAt*t + Slope*t²/2 = k+1 for t, in the form that is stable for
// any slope (including 0 and negative ramps).
func (p linearRate) due(k uint64) time.Duration {
	b := p.StartAt.Rate(0)
	a := p.Slope
	c := float64(k + 1)
	d := b*b + 2*a*c
	if d < 0 { // a falling ramp that would reach zero before hit k: never due
		return math.MaxInt64
	}
	return time.Duration(2 * c / (b + math.Sqrt(d)) * 1e9)
}
