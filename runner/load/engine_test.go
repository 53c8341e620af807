package load

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/timingtest"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// fakeClock is a pacing clock whose time moves only when the loop sleeps, or
// when a test's send says a hit took time.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
	haltAt time.Time // a sleep reaching it reports the run halted
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) SleepUntil(t time.Time) bool {
	if !c.haltAt.IsZero() && !t.Before(c.haltAt) {
		c.now = c.haltAt
		return false
	}
	if t.After(c.now) {
		c.sleeps = append(c.sleeps, t.Sub(c.now))
		c.now = t
	}
	return true
}

func TestPace(t *testing.T) {
	began := time.Unix(1000, 0)
	for _, tc := range []struct {
		name     string
		p        schedule
		du       time.Duration
		cost     time.Duration // fake time each send takes (at least 1ns)
		haltAt   time.Duration // 0: never
		hits     int
		maxLagMs float64 // the latest send behind its due time
	}{
		// vegeta's rule: hit k is due at (k+1)/rate, and the one asked for
		// before du elapsed is sent, so 1s at 1000/s is 1000 hits, the last at 1s.
		{name: "constant", p: newConstantRate(1000), du: time.Second, hits: 1000},
		{name: "fractional", p: newConstantRate(333.3), du: 3 * time.Second, hits: 1000},
		{name: "ramp", p: newLinearRate(10, 1990, time.Second), du: time.Second, hits: 1000},
		// Sends that take 2ms each at 1000/s fall behind: the late hits go at
		// once, one after another, until du has elapsed.
		{name: "slow sends", p: newConstantRate(1000), du: time.Second, cost: 2 * time.Millisecond, hits: 500, maxLagMs: 500},
		{name: "halted", p: newConstantRate(100), du: time.Second, haltAt: 255 * time.Millisecond, hits: 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: began}
			if tc.haltAt > 0 {
				clk.haltAt = began.Add(tc.haltAt)
			}
			var sent []time.Duration
			var maxLag time.Duration
			pace(clk, tc.p, began, tc.du, func(k uint64) bool {
				at := clk.now.Sub(began)
				if k != uint64(len(sent)) {
					t.Fatalf("hit %d sent as number %d", k, len(sent))
				}
				due := tc.p.due(k)
				if at < due {
					t.Fatalf("hit %d sent at %s, before it was due at %s", k, at, due)
				}
				maxLag = max(maxLag, at-due)
				sent = append(sent, at)
				clk.now = clk.now.Add(max(tc.cost, time.Nanosecond))
				return true
			})
			if len(sent) != tc.hits {
				t.Errorf("%d hits, want %d", len(sent), tc.hits)
			}
			if tc.maxLagMs == 0 && maxLag != 0 {
				t.Errorf("a hit was sent %s after it was due, want each exactly on time", maxLag)
			}
			if tc.maxLagMs > 0 && (maxLag < time.Duration(tc.maxLagMs*0.9)*time.Millisecond ||
				maxLag > time.Duration(tc.maxLagMs*1.1)*time.Millisecond) {
				t.Errorf("latest hit %s behind, want about %vms", maxLag, tc.maxLagMs)
			}
		})
	}
}

// A Pacer that says stop ends the loop; any vegeta Pacer drives it.
func TestPaceStops(t *testing.T) {
	clk := &fakeClock{now: time.Unix(0, 0)}
	n := 0
	p := stopAt{vegeta.ConstantPacer{Freq: 1000, Per: time.Second}, 3}
	pace(clk, p, clk.now, time.Hour, func(uint64) bool { n++; return true })
	if n != 3 {
		t.Errorf("%d hits, want 3 before the pacer stopped", n)
	}
}

// stopAt is a Pacer that stops at hit n.
type stopAt struct {
	vegeta.ConstantPacer
	n uint64
}

func (p stopAt) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits == p.n {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// The measured latency is the server's, within a tolerance, at several rates
// and in both models. It is never below the server's: that would be a bug, not
// noise. The tolerance above is for a shared, noisy machine.
func TestLatencyIsTheServers(t *testing.T) {
	const delay = 20 * time.Millisecond
	for _, c := range []Config{{Rate: 25}, {Rate: 100}, {Users: 2}} {
		name := fmt.Sprintf("rate %v users %v", c.Rate, c.Users)
		t.Run(name, func(t *testing.T) {
			timingtest.Measured(t, func() (problems []string) {
				s := newServer(t, delay, http.StatusOK)
				c := c
				c.Targets, c.Duration, c.Warmup = []string{s.URL}, time.Second, 200*time.Millisecond
				l, err := Run(t.Context(), c)
				if err != nil {
					t.Fatal(err)
				}
				// At least the server's delay; the slack is the generator's and the
				// loopback's share on a shared, noisy machine.
				if p := l.Latency.P50; p < delay || p > delay+15*time.Millisecond {
					problems = append(problems, fmt.Sprintf("p50 %s, want the server's %s within 15ms", p, delay))
				}
				if l.SuccessRatio != 1 || l.Shortfall {
					problems = append(problems, fmt.Sprintf("success %v shortfall %v", l.SuccessRatio, l.Shortfall))
				}
				return problems
			})
		})
	}
}

// A server slower than the rate: the open model keeps to its cap on requests
// in flight (and so on connections), flags the shortfall and names the cap.
func TestOverloadIsBounded(t *testing.T) {
	t.Parallel()
	var conns, open, peakOpen atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			conns.Add(1)
			n := open.Add(1)
			for p := peakOpen.Load(); n > p && !peakOpen.CompareAndSwap(p, n); p = peakOpen.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	// 5,000/s against 20 connections of 50ms each: at most 400/s get through.
	l, err := Run(t.Context(), Config{Targets: []string{s.URL}, Rate: 5000, MaxWorkers: 20, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := peakOpen.Load(); n > 20 || conns.Load() > 20 {
		t.Errorf("server saw %d connections, %d at once; want at most the cap, 20", conns.Load(), n)
	}
	if l.PeakInFlight != 20 || l.MaxInFlight != 20 || !l.Shortfall || !l.GeneratorBound {
		t.Errorf("peak %d cap %d shortfall %v generator bound %v; want 20 20 true true",
			l.PeakInFlight, l.MaxInFlight, l.Shortfall, l.GeneratorBound)
	}
	if l.RateRPS > 500 || len(l.Errors) > 0 {
		t.Errorf("rate %.0f/s errors %v, want at most about 400/s and no errors", l.RateRPS, l.Errors)
	}
	notes := strings.Join(l.Notes, "\n")
	for _, want := range []string{"max_workers (20)", "shortfall", "generator self-check", "send lag"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not mention %q:\n%s", want, notes)
		}
	}
}

// The default cap applies when MaxWorkers is 0, within the fd limit.
func TestDefaultCap(t *testing.T) {
	e := &engine{c: Config{Rate: 1}, urls: []string{"a"}}
	if n := e.maxConns(); n < 1 || n > DefaultMaxConnections {
		t.Errorf("cap %d, want 1..%d", n, DefaultMaxConnections)
	}
	e = &engine{c: Config{Users: 7}}
	if n := e.maxConns(); n != 7 {
		t.Errorf("closed cap %d, want the users, 7", n)
	}
	if b := fdBudget(1); b > 0 && b < 64 {
		t.Errorf("fd budget %d per endpoint", b)
	}
}
