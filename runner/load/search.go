package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Defaults of a capacity search, applied by Search to zero fields.
const (
	// DefaultSearchSteps is the step budget: widening and bisection together.
	DefaultSearchSteps = 10
	// DefaultSearchPrecision is the relative bracket width at which bisection stops.
	DefaultSearchPrecision = 0.05
)

// SearchConfig is one capacity search: constant-rate open-model steps between
// From and To requests per second.
type SearchConfig struct {
	// Load is the template of every step: targets, request, Duration and Warmup
	// of one step, Timeout, MaxWorkers. Its model fields (Rate, Ramp, Users) must
	// be zero: Search sets Rate per step. Its ResultsPath, if set, names the raw
	// results of the search: step k writes PATH-stepK.gob (PATH without .gob).
	// Its Progress, if set, receives each step's live progress.
	Load Config
	// From and To bound the searched arrival rates, requests per second.
	From, To float64
	// MaxSteps is the step budget; 0 means DefaultSearchSteps.
	MaxSteps int
	// Precision is the relative width (hi-lo)/lo at which bisection stops;
	// 0 means DefaultSearchPrecision.
	Precision float64
	// Step runs one step; nil means Run. Tests inject a model of a service here.
	Step func(context.Context, Config) (result.Load, error)
	// OnStep, if set, is called after each step with its number (from 1).
	OnStep func(n int, s result.CapacityStep)
}

// SearchResult is the outcome of Search.
type SearchResult struct {
	// Capacity holds the capacity and every step.
	Capacity result.Capacity
	// Best is the Load of the highest passing step (of the first step when none
	// passed), with Capacity set and a note saying which step it is.
	Best result.Load
}

// Validate reports every problem of c at once.
func (c SearchConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(c.From > 0) || math.IsInf(c.From, 0) {
		bad("search from %g/s: want a positive rate", c.From)
	}
	if !(c.To > c.From) || math.IsInf(c.To, 0) {
		bad("search to %g/s: want a rate above from (%g/s)", c.To, c.From)
	}
	if c.MaxSteps < 0 {
		bad("search steps %d: want 1 or more", c.MaxSteps)
	}
	if c.Precision < 0 || c.Precision >= 1 {
		bad("search precision %g: want a share in (0, 1)", c.Precision)
	}
	if c.Load.Rate != 0 || c.Load.ramp() || c.Load.Users != 0 {
		bad("a search sets the rate of each step: leave Rate, RampFrom, RampTo and Users zero")
	}
	return errors.Join(errs...)
}

// Search finds the highest constant arrival rate between From and To whose step
// passes: check(load) is true, the generator did not fall short of the rate, and
// at least one request succeeded. It widens from From, doubling the rate while
// steps pass (the last step runs at To), then bisects between the highest passing
// and the lowest failing rate until they are within Precision of each other or the
// step budget is spent. Each step is a fresh Run (or cfg.Step) with its own
// warm-up.
//
// check is typically result.SLO.Check. Cancelling ctx stops the running step; the
// steps so far are returned with an error wrapping ctx's error.
func Search(ctx context.Context, cfg SearchConfig, check func(result.Load) (bool, []string)) (SearchResult, error) {
	if err := cfg.Validate(); err != nil {
		return SearchResult{}, fmt.Errorf("invalid search: %w", err)
	}
	s := newSearcher(cfg, check)
	s.widen(ctx)
	s.bisect(ctx)
	s.verdict()
	return s.result(), s.err
}

// searcher is the state of one Search: the steps so far and the bracket
// [lo, hi] around the capacity.
type searcher struct {
	cfg   SearchConfig
	check func(result.Load) (bool, []string)
	step  func(context.Context, Config) (result.Load, error)

	capa           result.Capacity
	loads          []result.Load
	lo, hi         float64 // highest passing, lowest failing rate; 0 = none yet
	hiShort        bool    // at hi the generator fell short and nothing else failed
	hiShortToo     bool    // at hi the generator fell short and the SLO was missed too
	firstFailLoad  int     // index into loads; -1 = none
	bestLoad       int     // index into loads; -1 = none
	budgetWidening bool    // the budget ran out while widening
	err            error   // what stopped the search early
}

func newSearcher(cfg SearchConfig, check func(result.Load) (bool, []string)) *searcher {
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultSearchSteps
	}
	if cfg.Precision == 0 {
		cfg.Precision = DefaultSearchPrecision
	}
	step := cfg.Step
	if step == nil {
		step = Run
	}
	return &searcher{
		cfg: cfg, check: check, step: step, firstFailLoad: -1, bestLoad: -1,
		capa: result.Capacity{FromRPS: cfg.From, ToRPS: cfg.To, Precision: cfg.Precision, Steps: []result.CapacityStep{}},
	}
}

// widen runs From, 2 From, 4 From, ... while steps pass; the last one is To.
func (s *searcher) widen(ctx context.Context) {
	for rate := s.cfg.From; ; rate = math.Min(2*rate, s.cfg.To) {
		if len(s.capa.Steps) == s.cfg.MaxSteps {
			s.budgetWidening = true
			return
		}
		pass, err := s.run(ctx, rate)
		if err != nil {
			s.err = err
			return
		}
		if !pass || rate >= s.cfg.To {
			return
		}
	}
}

// bisect halves the bracket between the highest passing and the lowest failing
// rate until it is within Precision or the budget is spent.
func (s *searcher) bisect(ctx context.Context) {
	for s.err == nil && s.lo > 0 && s.hi > 0 && s.hi-s.lo > s.cfg.Precision*s.lo && len(s.capa.Steps) < s.cfg.MaxSteps {
		mid := (s.lo + s.hi) / 2
		if s.hi-s.lo >= 4 {
			mid = math.Round(mid)
		}
		if mid <= s.lo || mid >= s.hi {
			return
		}
		if _, err := s.run(ctx, mid); err != nil {
			s.err = err
		}
	}
}

// run runs one step at rate, records it and moves the bracket. It reports
// whether the step passed.
func (s *searcher) run(ctx context.Context, rate float64) (bool, error) {
	n := len(s.capa.Steps) + 1
	c := s.cfg.Load
	c.Rate = rate
	var file string
	if s.cfg.Load.ResultsPath != "" {
		c.ResultsPath = StepResultsPath(s.cfg.Load.ResultsPath, n)
		file = filepath.Base(c.ResultsPath)
	}
	if p := s.cfg.Load.StreamPath; p != "" {
		ext := filepath.Ext(p)
		c.StreamPath = strings.TrimSuffix(p, ext) + "-step" + strconv.Itoa(n) + ext
	}
	l, err := s.step(ctx, c)
	if err != nil && ctx.Err() == nil {
		return false, fmt.Errorf("step %d at %s: %w", n, RateLabel(rate), err)
	}
	ok, failures := s.check(l)
	succeeded := l.Requests > 0 && l.SuccessRatio > 0
	st := judge(rate, l, ok, succeeded, failures, err)
	st.ResultsFile = file
	s.capa.Steps = append(s.capa.Steps, st)
	s.loads = append(s.loads, l)
	if s.cfg.OnStep != nil {
		s.cfg.OnStep(n, st)
	}
	if err != nil {
		return false, err
	}
	if st.Pass {
		if rate > s.lo {
			s.lo, s.bestLoad = rate, len(s.loads)-1
		}
	} else if s.hi == 0 || rate < s.hi {
		s.hi, s.hiShort, s.hiShortToo = rate, l.Shortfall && ok && succeeded, l.Shortfall && !(ok && succeeded)
		if s.firstFailLoad < 0 {
			s.firstFailLoad = len(s.loads) - 1
		}
	}
	return st.Pass, nil
}

// judge returns the step at rate that measured l: ok and failures are the
// check's, err a cancellation.
func judge(rate float64, l result.Load, ok, succeeded bool, failures []string, err error) result.CapacityStep {
	if !succeeded {
		failures = append(failures, "no successful request")
	}
	if l.Shortfall {
		failures = append(failures, fmt.Sprintf("generator fell short: sent %s", RateLabel(l.RateRPS)))
	}
	s := result.CapacityStep{
		RateRPS: rate, Pass: ok && succeeded && !l.Shortfall && err == nil,
		AchievedRPS: l.RateRPS, ThroughputRPS: l.ThroughputRPS,
		P50: l.Latency.P50, P95: l.Latency.P95, P99: l.Latency.P99,
		ErrorRatio: 1 - l.SuccessRatio, Requests: l.Requests,
		Shortfall: l.Shortfall, Failures: failures,
	}
	if l.Requests == 0 {
		s.ErrorRatio = 0
	}
	if err != nil { // cancelled: record what was measured, do not judge it
		s.Pass = false
		s.Failures = append(s.Failures, "interrupted")
	}
	return s
}

// verdict sets the capacity, its bracket and the reason in words.
func (s *searcher) verdict() {
	capa, cfg, lo, hi := &s.capa, s.cfg, s.lo, s.hi
	capa.RPS, capa.UpperRPS = lo, hi
	capa.Converged = lo > 0 && hi > 0 && hi-lo <= cfg.Precision*lo
	switch {
	case s.err != nil:
		capa.Reason = fmt.Sprintf("the search was stopped after %d steps: %v", len(capa.Steps), s.err)
		capa.LowerBound = true
	case lo == 0:
		capa.Reason = fmt.Sprintf("even the lowest rate, %s, missed the SLO: the capacity is below it", RateLabel(cfg.From))
		if s.hiShort {
			capa.Reason = fmt.Sprintf("the load generator fell short already at %s: no capacity could be measured", RateLabel(cfg.From))
		}
	case hi == 0 && lo >= cfg.To:
		capa.LowerBound = true
		capa.Reason = fmt.Sprintf("every step met the SLO up to the top of the range, %s: the capacity is at least that", RateLabel(cfg.To))
	case s.budgetWidening:
		capa.LowerBound = true
		capa.Reason = fmt.Sprintf("the step budget (%d) ran out while widening: the capacity is at least %s", cfg.MaxSteps, RateLabel(lo))
	case s.hiShort:
		capa.LowerBound = true
		capa.Reason = fmt.Sprintf("the load generator fell short at %s: the capacity is a lower bound limited by the generator, not the service", RateLabel(hi))
	case capa.Converged:
		capa.Reason = fmt.Sprintf("met the SLO at %s, missed it at %s (within %s)", RateLabel(lo), RateLabel(hi), pct(cfg.Precision))
	default:
		capa.Reason = fmt.Sprintf("the step budget (%d) ran out: met the SLO at %s, missed it at %s (%s apart, aimed at %s)",
			cfg.MaxSteps, RateLabel(lo), RateLabel(hi), pct((hi-lo)/lo), pct(cfg.Precision))
	}
	if s.hiShortToo && lo > 0 {
		capa.Reason += fmt.Sprintf("; at %s the load generator also fell short, so part of that miss may be the generator's", RateLabel(hi))
	}
}

// result returns the outcome: the capacity and the Load of the best step.
func (s *searcher) result() SearchResult {
	capa := s.capa
	res := SearchResult{Capacity: capa}
	idx := s.bestLoad
	note := ""
	switch {
	case idx >= 0:
		note = fmt.Sprintf("capacity search: these metrics are those of step %d at %s, the highest rate that met the SLO, of %d steps (capacity.steps lists them all)", idx+1, RateLabel(s.lo), len(capa.Steps))
	case s.firstFailLoad >= 0:
		idx = s.firstFailLoad
		note = fmt.Sprintf("capacity search: no step met the SLO; these metrics are those of step %d at %s", idx+1, RateLabel(capa.Steps[idx].RateRPS))
	case len(s.loads) > 0:
		idx = 0
		note = "capacity search: these metrics are those of step 1"
	}
	if idx >= 0 {
		res.Best = s.loads[idx]
		res.Best.Notes = append(append([]string(nil), res.Best.Notes...), note)
	}
	res.Best.Capacity = &capa
	return res
}

// StepResultsPath is the raw results file of step n of a search whose results
// path is path: results.gob becomes results-step3.gob.
func StepResultsPath(path string, n int) string {
	return strings.TrimSuffix(path, ".gob") + "-step" + strconv.Itoa(n) + ".gob"
}

// RateLabel formats a rate as "800/s" (at most one decimal).
func RateLabel(r float64) string {
	return strconv.FormatFloat(math.Round(r*10)/10, 'f', -1, 64) + "/s"
}

func pct(r float64) string {
	return strconv.FormatFloat(math.Round(r*1000)/10, 'f', -1, 64) + "%"
}

// StepLine is the one-line summary of a search step, e.g.
// "step 3: 800/s pass p99 12ms".
func StepLine(n int, s result.CapacityStep) string {
	verdict := "pass"
	if !s.Pass {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("step %d: %s %s p99 %s", n, RateLabel(s.RateRPS), verdict, s.P99.Round(roundTo(s.P99)))
	if s.ErrorRatio > 0 {
		line += fmt.Sprintf(", %.2f%% errors", 100*s.ErrorRatio)
	}
	if !s.Pass && len(s.Failures) > 0 {
		line += " (" + strings.Join(s.Failures, "; ") + ")"
	}
	return line
}

func roundTo(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return 10 * time.Millisecond
	case d >= 10*time.Millisecond:
		return time.Millisecond
	case d >= time.Millisecond:
		return 100 * time.Microsecond
	}
	return time.Microsecond
}
