package load

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Pace(due(k)-d, k) must wait d and Pace(due(k), k) must send at once: the due
// times are exactly when the pacer sends.
func checkDueMatchesPace(t *testing.T, name string, p schedule, hits uint64) {
	t.Helper()
	prev := time.Duration(-1)
	for k := range hits {
		due := p.due(k)
		if due <= prev {
			t.Fatalf("%s: due(%d) = %s not after due(%d) = %s", name, k, due, k-1, prev)
		}
		prev = due
		if wait, stop := p.Pace(due, k); wait > 0 || stop {
			t.Fatalf("%s: Pace(due(%d)) waits %s (stop %v), want 0", name, k, wait, stop)
		}
		if wait, _ := p.Pace(due-time.Millisecond, k); wait < time.Millisecond-time.Microsecond || wait > time.Millisecond {
			t.Fatalf("%s: Pace(due(%d)-1ms) waits %s, want 1ms", name, k, wait)
		}
	}
}

func TestConstantRateDue(t *testing.T) {
	for _, r := range []float64{1, 200, 1000, 0.5, 333.3} {
		p := newConstantRate(r)
		checkDueMatchesPace(t, p.String(), p, 2000)
		if got, want := p.due(uint64(10*r)-1).Seconds(), 10.0; math.Abs(got-want) > 1e-3 {
			t.Errorf("rate %g: hit %d due at %.6fs, want %gs", r, uint64(10*r)-1, got, want)
		}
	}
}

func TestLinearRateDue(t *testing.T) {
	for _, tc := range []struct{ from, to float64 }{{1, 2000}, {50, 250}, {100, 100}, {300, 10}} {
		p := newLinearRate(tc.from, tc.to, 60*time.Second)
		checkDueMatchesPace(t, "linear", p, 5000)
		// Expected hits from the rate's integral: from*t + slope*t²/2.
		for _, k := range []uint64{0, 1, 10, 999, 4999} {
			x := p.due(k).Seconds()
			if h := tc.from*x + p.Slope*x*x/2; math.Abs(h-float64(k+1)) > 1e-6*float64(k+1) {
				t.Errorf("%g..%g: at due(%d) = %.6fs the expected hits are %.6f, want %d", tc.from, tc.to, k, x, h, k+1)
			}
		}
	}
}

// The reason for linearRate: vegeta's LinearPacer oversleeps early in steep ramps.
func TestLinearPacerOversleeps(t *testing.T) {
	vp := vegeta.LinearPacer{StartAt: vegeta.Rate{Freq: 1, Per: time.Second}, Slope: 1999.0 / 60}
	ours := newLinearRate(1, 2000, time.Minute)
	vwait, _ := vp.Pace(0, 1)
	wait, _ := ours.Pace(0, 1)
	if vwait != 2*time.Second || wait < 310*time.Millisecond || wait > 330*time.Millisecond {
		t.Errorf("second hit: vegeta waits %s, ours %s; want 2s and about 0.32s", vwait, wait)
	}
}
