package load

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// gapStats returns the mean rate and the coefficient of variation of the first
// n gaps of s.
func gapStats(s schedule, n int) (rate, cv float64) {
	var sum, sq float64
	prev := time.Duration(0)
	for k := range uint64(n) {
		g := (s.due(k) - prev).Seconds()
		prev = s.due(k)
		sum += g
		sq += g * g
	}
	mean := sum / float64(n)
	sd := math.Sqrt(sq/float64(n) - mean*mean)
	return 1 / mean, sd / mean
}

func TestArrivalStatistics(t *testing.T) {
	const n = 20000
	tests := []struct {
		name       string
		kind       string
		burstiness float64
		wantCV     float64
		cvTol      float64
	}{
		{name: "constant stays regular", kind: ArrivalConstant, wantCV: 0, cvTol: 0.001},
		{name: "poisson has CV 1", kind: ArrivalPoisson, wantCV: 1, cvTol: 0.05},
		{name: "gamma 1 is poisson", kind: ArrivalGamma, burstiness: 1, wantCV: 1, cvTol: 0.05},
		{name: "gamma 0.5 has CV sqrt 2", kind: ArrivalGamma, burstiness: 0.5, wantCV: math.Sqrt2, cvTol: 0.07},
		{name: "gamma 4 is regular-ish", kind: ArrivalGamma, burstiness: 4, wantCV: 0.5, cvTol: 0.03},
	}
	for _, tt := range tests {
		for _, seed := range []uint64{1, 42, 2026} {
			s, _ := newArrival(tt.kind, 200, tt.burstiness, seed)
			rate, cv := gapStats(s, n)
			if math.Abs(rate-200)/200 > 0.05 {
				t.Errorf("%s seed %d: mean rate %.1f/s, want 200/s within 5%%", tt.name, seed, rate)
			}
			if math.Abs(cv-tt.wantCV) > tt.cvTol {
				t.Errorf("%s seed %d: CV %.3f, want %.3f ± %.3f", tt.name, seed, cv, tt.wantCV, tt.cvTol)
			}
		}
	}
}

func TestArrivalSeedRepeats(t *testing.T) {
	a, _ := newArrival(ArrivalPoisson, 50, 0, 7)
	b, _ := newArrival(ArrivalPoisson, 50, 0, 7)
	c, _ := newArrival(ArrivalPoisson, 50, 0, 8)
	same := true
	for k := range uint64(100) {
		if a.due(k) != b.due(k) {
			t.Fatalf("seed 7 gave two schedules: hit %d at %s and %s", k, a.due(k), b.due(k))
		}
		same = same && a.due(k) == c.due(k)
	}
	if same {
		t.Fatal("seeds 7 and 8 gave the same schedule")
	}
	if _, seed := newArrival(ArrivalGamma, 50, 0.5, 0); seed == 0 {
		t.Fatal("a zero seed was not replaced by a drawn one")
	}
}

func TestRandomRatePace(t *testing.T) {
	p := newRandomRate(100, 1, 3)
	// Out-of-order due calls see the same schedule as in-order Pace calls.
	d5 := p.due(5)
	for k := range uint64(10) {
		due := p.due(k)
		if wait, stop := p.Pace(0, k); stop || wait != due {
			t.Fatalf("Pace(0, %d) = %s, %v; want %s", k, wait, stop, due)
		}
		if wait, _ := p.Pace(due+time.Millisecond, k); wait != 0 {
			t.Fatalf("Pace after the due time of hit %d waits %s", k, wait)
		}
	}
	if p.due(5) != d5 || p.Rate(time.Hour) != 100 {
		t.Fatal("schedule changed after more draws")
	}
}

func TestPoissonWindowIsNotAShortfall(t *testing.T) {
	t.Parallel()
	// Seed 9 makes 28 hits due in 2s at a mean of 20/s: 30% fewer than the mean,
	// by chance. The generator kept up with its schedule, so it did not fall short.
	const rate, seed, du = 20, 9, 2 * time.Second
	want := newRandomRate(rate, 1, seed).hitsWithin(du)
	if want != 28 {
		t.Fatalf("the schedule of seed %d holds %d hits in %s; the test needs one well below the mean", seed, want, du)
	}
	s := newServer(t, 0, http.StatusOK)
	l, err := Run(t.Context(), Config{Targets: []string{s.URL}, Rate: rate, Arrival: ArrivalPoisson, ArrivalSeed: seed, Duration: du})
	if err != nil {
		t.Fatal(err)
	}
	if l.Requests < want || l.Requests > want+1 {
		t.Errorf("%d requests, want the schedule's %d (or one more, due just after the window)", l.Requests, want)
	}
	if l.Shortfall || l.RequestedRPS != rate {
		t.Errorf("shortfall %v at %.1f/s sent of %.1f/s requested; want no shortfall, the mean rate requested", l.Shortfall, l.RateRPS, l.RequestedRPS)
	}
	if notes := strings.Join(l.Notes, "\n"); !strings.Contains(notes, "poisson schedule made 14.0/s due") {
		t.Errorf("notes %q do not say what the schedule drew", notes)
	}
	// A generator that cannot keep up with the schedule still falls short.
	slow := newServer(t, 200*time.Millisecond, http.StatusOK)
	l, err = Run(t.Context(), Config{Targets: []string{slow.URL}, Rate: rate, Arrival: ArrivalPoisson, ArrivalSeed: seed, Duration: du, MaxWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Shortfall {
		t.Errorf("one worker against a 200ms service sent %.1f/s and no shortfall was found", l.RateRPS)
	}
}

func BenchmarkRandomRateDue(b *testing.B) {
	p := newRandomRate(1000, 0.5, 1)
	var k uint64
	for b.Loop() {
		p.due(k)
		k++
	}
}

// A Poisson or gamma ramp is a renewal process in the ramp's own clock: the
// hits due in each part of the ramp follow its rate (100/s to 300/s over 10s:
// 750 in the first half, 1250 in the second, 2000 in all, each within 4
// standard deviations for the seeds tried), and the gaps rescaled by the rate
// at their time keep the process's coefficient of variation.
func TestRampArrivalStatistics(t *testing.T) {
	for _, tt := range []struct {
		kind       string
		burstiness float64
		wantCV     float64
	}{{ArrivalPoisson, 0, 1}, {ArrivalGamma, 0.5, math.Sqrt2}, {ArrivalConstant, 0, 0}} {
		for _, seed := range []uint64{1, 42, 2026} {
			s, _ := newRampArrival(tt.kind, 100, 300, 10*time.Second, tt.burstiness, seed)
			count := func(from, to time.Duration) (n float64) {
				for k := uint64(0); s.due(k) <= to; k++ {
					if s.due(k) > from {
						n++
					}
				}
				return n
			}
			for _, w := range []struct {
				from, to time.Duration
				want     float64
			}{{0, 5 * time.Second, 750}, {5 * time.Second, 10 * time.Second, 1250}, {0, 10 * time.Second, 2000}} {
				got, tol := count(w.from, w.to), 4*math.Sqrt(w.want)*math.Max(tt.wantCV, 0.01)+1
				if math.Abs(got-w.want) > tol {
					t.Errorf("%s seed %d: %.0f hits due in %s..%s, want %.0f ± %.0f", tt.kind, seed, got, w.from, w.to, w.want, tol)
				}
			}
			var sum, sq float64
			const n = 1500
			for k := uint64(1); k <= n; k++ {
				g := (s.due(k) - s.due(k-1)).Seconds() * s.Rate(s.due(k-1))
				sum += g
				sq += g * g
			}
			mean := sum / n
			if cv := math.Sqrt(sq/n-mean*mean) / mean; math.Abs(cv-tt.wantCV) > 0.12 {
				t.Errorf("%s seed %d: rescaled gaps have CV %.3f, want %.3f", tt.kind, seed, cv, tt.wantCV)
			}
			if r := s.Rate(5 * time.Second); math.Abs(r-200) > 1e-9 {
				t.Errorf("%s: Rate at 5s is %g, want 200", tt.kind, r)
			}
		}
	}
}
