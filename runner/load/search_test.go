package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// model is a fake service for Search: steps at or below capacity meet a p99 of
// 10ms, above it take 1s; the generator cannot send more than generator/s.
type model struct {
	capacity, generator float64
	rates               []float64
}

func (m *model) step(_ context.Context, c Config) (result.Load, error) {
	m.rates = append(m.rates, c.Rate)
	l := result.Load{Requests: uint64(c.Rate * c.Duration.Seconds()), SuccessRatio: 1, RequestedRPS: c.Rate, RateRPS: c.Rate}
	l.Latency.P99 = 10 * time.Millisecond
	if c.Rate > m.capacity {
		l.Latency.P99 = time.Second
	}
	if m.generator > 0 && c.Rate > m.generator {
		l.RateRPS, l.Shortfall = m.generator, true
	}
	return l, nil
}

var p99SLO = result.SLO{P99: 100 * time.Millisecond}

func searchConfig(m *model, from, to float64, steps int, precision float64) SearchConfig {
	return SearchConfig{
		Load: Config{Targets: []string{"http://127.0.0.1:1"}, Duration: time.Second},
		From: from, To: to, MaxSteps: steps, Precision: precision, Step: m.step,
	}
}

func TestSearchAlgorithm(t *testing.T) {
	tests := []struct {
		name                  string
		capacity, generator   float64
		from, to              float64
		steps                 int
		precision             float64
		wantLo, wantHi        float64 // the capacity must lie in [wantLo, wantHi]
		wantUpper             float64 // -1: do not check
		wantRates             []float64
		converged, lowerBound bool
		reason                string
	}{
		{name: "found within precision", capacity: 730, from: 50, to: 5000, steps: 12, precision: 0.05,
			wantLo: 730 / 1.05, wantHi: 730, wantUpper: -1, converged: true, reason: "met the SLO at"},
		{name: "exact rates", capacity: 300, from: 50, to: 5000, steps: 10, precision: 0.05,
			wantLo: 300, wantHi: 300, wantUpper: 313,
			wantRates: []float64{50, 100, 200, 400, 300, 350, 325, 313}, converged: true},
		{name: "all pass: capacity is to", capacity: 1e9, from: 50, to: 1000, steps: 10, precision: 0.05,
			wantLo: 1000, wantHi: 1000, wantUpper: 0, wantRates: []float64{50, 100, 200, 400, 800, 1000}, lowerBound: true, reason: "top of the range"},
		{name: "first step fails: capacity 0", capacity: 20, from: 50, to: 1000, steps: 10, precision: 0.05,
			wantLo: 0, wantHi: 0, wantUpper: 50, wantRates: []float64{50}, reason: "below it"},
		{name: "budget spent while bisecting", capacity: 730, from: 50, to: 5000, steps: 6, precision: 0.01,
			wantLo: 400, wantHi: 730, wantUpper: -1, reason: "step budget (6) ran out: met"},
		{name: "budget spent while widening", capacity: 1e9, from: 50, to: 5000, steps: 3, precision: 0.05,
			wantLo: 200, wantHi: 200, wantUpper: 0, wantRates: []float64{50, 100, 200}, lowerBound: true, reason: "while widening"},
		{name: "generator falls short: lower bound", capacity: 5000, generator: 600, from: 50, to: 5000, steps: 12, precision: 0.05,
			wantLo: 570, wantHi: 600, wantUpper: -1, converged: true, lowerBound: true, reason: "limited by the generator"},
		{name: "generator short where the SLO is missed too: not a bound", capacity: 300, generator: 310, from: 50, to: 5000, steps: 12, precision: 0.05,
			wantLo: 300 / 1.05, wantHi: 300, wantUpper: -1, converged: true, reason: "also fell short, so part of that miss may be the generator's"},
		{name: "one step budget", capacity: 100, from: 50, to: 5000, steps: 1, precision: 0.05,
			wantLo: 50, wantHi: 50, wantUpper: 0, wantRates: []float64{50}, lowerBound: true, reason: "while widening"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &model{capacity: tt.capacity, generator: tt.generator}
			var seen []int
			cfg := searchConfig(m, tt.from, tt.to, tt.steps, tt.precision)
			cfg.OnStep = func(n int, s result.CapacityStep) { seen = append(seen, n) }
			res, err := Search(t.Context(), cfg, p99SLO.Check)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Capacity
			if c.RPS < tt.wantLo || c.RPS > tt.wantHi {
				t.Errorf("capacity %v, want in [%v, %v]; rates %v", c.RPS, tt.wantLo, tt.wantHi, m.rates)
			}
			if tt.wantUpper >= 0 && c.UpperRPS != tt.wantUpper {
				t.Errorf("upper %v, want %v", c.UpperRPS, tt.wantUpper)
			}
			if c.RPS > 0 && c.UpperRPS > 0 && c.UpperRPS <= c.RPS {
				t.Errorf("bracket [%v, %v] is empty", c.RPS, c.UpperRPS)
			}
			if tt.wantRates != nil && !equalFloats(m.rates, tt.wantRates) {
				t.Errorf("rates %v, want %v", m.rates, tt.wantRates)
			}
			if len(m.rates) > tt.steps {
				t.Errorf("%d steps, budget %d", len(m.rates), tt.steps)
			}
			if len(c.Steps) != len(m.rates) || len(seen) != len(m.rates) {
				t.Errorf("%d steps recorded, %d reported, %d run", len(c.Steps), len(seen), len(m.rates))
			}
			for i, s := range c.Steps {
				want := s.RateRPS <= tt.capacity && (tt.generator == 0 || s.RateRPS <= tt.generator)
				if s.Pass != want {
					t.Errorf("step %d at %v: pass %v, want %v", i+1, s.RateRPS, s.Pass, want)
				}
			}
			if c.Converged != tt.converged || c.LowerBound != tt.lowerBound {
				t.Errorf("converged %v lower bound %v, want %v %v (%s)", c.Converged, c.LowerBound, tt.converged, tt.lowerBound, c.Reason)
			}
			if !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", c.Reason, tt.reason)
			}
			// The main metrics are those of the highest passing step.
			if res.Best.Capacity == nil || res.Best.Capacity.RPS != c.RPS {
				t.Fatalf("Best.Capacity = %+v", res.Best.Capacity)
			}
			wantRate := c.RPS
			if c.RPS == 0 {
				wantRate = tt.from
			}
			if res.Best.RequestedRPS != wantRate {
				t.Errorf("best load is the step at %v, want %v", res.Best.RequestedRPS, wantRate)
			}
			if n := res.Best.Notes; len(n) == 0 || !strings.HasPrefix(n[len(n)-1], "capacity search:") {
				t.Errorf("notes %q lack the capacity search note", n)
			}
		})
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSearchStepResultsAndErrors(t *testing.T) {
	m := &model{capacity: 100}
	cfg := searchConfig(m, 50, 400, 4, 0.05)
	cfg.Load.ResultsPath = "/x/results.gob"
	var paths []string
	cfg.Step = func(ctx context.Context, c Config) (result.Load, error) {
		paths = append(paths, c.ResultsPath)
		return m.step(ctx, c)
	}
	res, err := Search(t.Context(), cfg, p99SLO.Check)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/x/results-step1.gob", "/x/results-step2.gob", "/x/results-step3.gob", "/x/results-step4.gob"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if f := res.Capacity.Steps[2].ResultsFile; f != "results-step3.gob" {
		t.Errorf("step 3 results file %q", f)
	}

	// A failing step ends the search with its error.
	boom := errors.New("boom")
	cfg.Step = func(ctx context.Context, c Config) (result.Load, error) { return result.Load{}, boom }
	if _, err := Search(t.Context(), cfg, p99SLO.Check); !errors.Is(err, boom) || !strings.Contains(err.Error(), "step 1 at 50/s") {
		t.Errorf("err = %v, want boom at step 1", err)
	}

	// Cancellation returns the steps so far.
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	cfg.Step = func(_ context.Context, c Config) (result.Load, error) {
		n++
		l, _ := m.step(ctx, c)
		if n == 2 {
			cancel()
			return l, ctx.Err()
		}
		return l, nil
	}
	res, err = Search(ctx, cfg, p99SLO.Check)
	if !errors.Is(err, context.Canceled) || len(res.Capacity.Steps) != 2 || res.Capacity.RPS != 50 || !res.Capacity.LowerBound {
		t.Errorf("cancelled: err %v, capacity %+v", err, res.Capacity)
	}

	// No successful request is no pass, whatever the SLO says.
	cfg.Step = func(_ context.Context, c Config) (result.Load, error) {
		return result.Load{Requests: 10, SuccessRatio: 0, RequestedRPS: c.Rate, RateRPS: c.Rate}, nil
	}
	res, err = Search(t.Context(), cfg, p99SLO.Check)
	if err != nil || res.Capacity.RPS != 0 || res.Capacity.Steps[0].Failures[0] != "no successful request" {
		t.Errorf("all failed: err %v, capacity %+v", err, res.Capacity)
	}
}

func TestSearchConfigValidate(t *testing.T) {
	ok := SearchConfig{Load: Config{Targets: []string{"http://127.0.0.1:1"}, Duration: time.Second}, From: 10, To: 100}
	tests := []struct {
		name string
		edit func(*SearchConfig)
		want string
	}{
		{"from zero", func(c *SearchConfig) { c.From = 0 }, "want a positive rate"},
		{"to below from", func(c *SearchConfig) { c.To = 5 }, "want a rate above from"},
		{"negative steps", func(c *SearchConfig) { c.MaxSteps = -1 }, "steps -1"},
		{"precision 1", func(c *SearchConfig) { c.Precision = 1 }, "precision 1"},
		{"rate set", func(c *SearchConfig) { c.Load.Rate = 5 }, "leave Rate"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := Search(t.Context(), c, p99SLO.Check)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStepLine(t *testing.T) {
	s := result.CapacityStep{RateRPS: 800, Pass: true, P99: 12345 * time.Microsecond}
	if got, want := StepLine(3, s), "step 3: 800/s pass p99 12ms"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	s = result.CapacityStep{RateRPS: 1600, P99: 1234 * time.Millisecond, ErrorRatio: 0.02, Failures: []string{"p99 1.234s > 100ms"}}
	if got, want := StepLine(4, s), "step 4: 1600/s FAIL p99 1.23s, 2.00% errors (p99 1.234s > 100ms)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSearchFindsServerCapacity runs a real search against a server with slots
// concurrent requests of service time each, so that it serves about
// slots/service requests per second and queues beyond that.
func TestSearchFindsServerCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load for a few seconds")
	}
	const (
		slots   = 4
		service = 20 * time.Millisecond
		want    = slots / 0.020 // 200/s
	)
	sem := make(chan struct{}, slots)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		time.Sleep(service)
		<-sem
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	slo := result.SLO{P99: 150 * time.Millisecond}
	var lines []string
	res, err := Search(t.Context(), SearchConfig{
		Load: Config{
			Targets: []string{srv.URL}, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond,
			Timeout: 2 * time.Second, ResultsPath: filepath.Join(dir, "results.gob"),
		},
		From: 25, To: 1600, MaxSteps: 9, Precision: 0.1,
		OnStep: func(n int, s result.CapacityStep) { lines = append(lines, StepLine(n, s)) },
	}, slo.Check)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Capacity
	t.Logf("capacity %v/s (upper %v/s, want about %v/s): %s\n%s", c.RPS, c.UpperRPS, want, c.Reason, strings.Join(lines, "\n"))
	// Loose bounds: a busy CI machine adds latency (lower capacity), and short
	// steps let a queue build only so far (higher).
	if c.RPS < want/4 || c.RPS > want*2.5 {
		t.Errorf("capacity %v/s, want within [%v, %v] of the server's %v/s", c.RPS, want/4, want*2.5, want)
	}
	if c.UpperRPS == 0 {
		t.Errorf("no step failed up to %v/s; the server cannot serve that", c.ToRPS)
	}
	// Every step's raw results are vegeta-readable.
	for i, s := range c.Steps {
		if s.ResultsFile == "" {
			t.Fatalf("step %d has no results file", i+1)
		}
		n := decodeCount(t, filepath.Join(dir, s.ResultsFile))
		if n == 0 {
			t.Errorf("step %d: %s holds no results", i+1, s.ResultsFile)
		}
	}
}

// decodeCount reads a vegeta gob file and returns its number of results.
func decodeCount(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", path, err)
			}
			return n
		}
		n++
	}
}
