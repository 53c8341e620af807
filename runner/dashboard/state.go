package dashboard

import (
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

// Scenario statuses shown in the grid besides the phases of a running one.
const (
	statusPending = "pending"
	statusRunning = "running"
)

// row is one scenario of the grid.
type row struct {
	ID      string
	Status  string // pending, a phase while it runs, then the outcome's status
	Outcome *result.Outcome
}

// tick is one live reading of the running load.
type tick struct {
	T        float64 // seconds since the load started
	RPS      float64
	ErrorsPS float64
	P50, P99 time.Duration
	Users    int
	InFlight int
	// Stream is the last second's streaming figures; nil when no stream
	// finished in it.
	Stream *load.LiveStream
}

// failure is something that went wrong, shown as it happens.
type failure struct {
	Time     time.Time
	Scenario string
	Text     string
}

// live is the running scenario.
type live struct {
	K       int
	ID      string
	Phase   string
	Started time.Time // of the load
	Ticks   []tick
	Samples []result.Sample
	Shares  []result.EndpointCount
	Total   time.Duration // warm-up and measured window
	Elapsed time.Duration
	Notes   []string // capacity-search steps so far
	errors  uint64   // errors so far, to turn the running count into a rate
}

// state is everything the page shows.
type state struct {
	Run      string
	Dir      string
	Started  time.Time
	Rows     []row
	Phase    string // the run's latest phase
	Live     *live
	Failures []failure
	ETA      time.Duration
	Ended    bool
	EndErr   string
	Report   string // path of report.html once written
	Updated  time.Time
	// told counts the OOM kills and restarts shown as they happened, per
	// scenario, so that its result does not repeat them.
	told map[string]*counts
}

type counts struct{ oom, restarts int }

// maxTicks bounds a live series (an hour of one reading a second).
const maxTicks = 3600

// maxSamples bounds the telemetry kept for the running scenario.
const maxSamples = 20000

// maxFailures bounds the failure list.
const maxFailures = 200

func (s *state) row(k int, id string) *row {
	for len(s.Rows) < k {
		s.Rows = append(s.Rows, row{Status: statusPending})
	}
	if k <= 0 {
		return nil
	}
	r := &s.Rows[k-1]
	if id != "" {
		r.ID = id
	}
	return r
}

func (s *state) phase(k int, id, phase string) {
	s.Phase = phase
	if r := s.row(k, id); r != nil {
		r.Status = phase
	}
	if k == 0 {
		return
	}
	if s.Live == nil || s.Live.K != k {
		s.Live = &live{K: k, ID: id}
	}
	s.Live.Phase = phase
}

// progress is a live reading: requests and errors so far, the rate and p99 of
// the last second.
func (s *state) progress(k int, id string, t tick, errors uint64, elapsed, total time.Duration, shares []result.EndpointCount) {
	if s.Live == nil || s.Live.K != k {
		s.phase(k, id, statusRunning)
	}
	l := s.Live
	if len(l.Ticks) > 0 && elapsed < time.Duration(l.Ticks[len(l.Ticks)-1].T*float64(time.Second)) {
		l.Ticks, l.errors = nil, 0 // a new load, e.g. the next capacity-search step
	}
	t.T = elapsed.Seconds()
	if len(l.Ticks) > 0 {
		if dt := t.T - l.Ticks[len(l.Ticks)-1].T; dt > 0 && errors >= l.errors {
			t.ErrorsPS = float64(errors-l.errors) / dt
		}
	}
	l.errors = errors
	l.Ticks = append(l.Ticks, t)
	if len(l.Ticks) > maxTicks {
		l.Ticks = l.Ticks[len(l.Ticks)-maxTicks:]
	}
	l.Elapsed, l.Total = elapsed, total
	if shares != nil {
		l.Shares = shares
	}
}

func (s *state) samples(k int, id string, ss []result.Sample) {
	if s.Live == nil || s.Live.K != k {
		s.phase(k, id, statusRunning)
	}
	l := s.Live
	l.Samples = append(l.Samples, ss...)
	if len(l.Samples) > maxSamples {
		l.Samples = l.Samples[len(l.Samples)-maxSamples:]
	}
}

// note keeps a line about the running scenario, such as a capacity-search step.
func (s *state) note(id, line string) {
	if s.Live != nil && s.Live.ID == id {
		s.Live.Notes = append(s.Live.Notes, line)
	}
}

func (s *state) fail(at time.Time, id, text string) {
	s.Failures = append(s.Failures, failure{Time: at, Scenario: id, Text: text})
	if len(s.Failures) > maxFailures {
		s.Failures = s.Failures[len(s.Failures)-maxFailures:]
	}
}

// median shows repeated scenario k's outcome over its finished repeats.
func (s *state) median(k int, o result.Outcome) {
	if r := s.row(k, o.Scenario.ID); r != nil {
		r.Status, r.Outcome = o.Status, &o
	}
}

// container shows a container's event as it happens when it is notable (an OOM
// kill, a restart, a failed health check, memory at its limit, a crash).
func (s *state) container(at time.Time, id string, ev result.Event) {
	text := run.Notable(ev)
	if text == "" {
		return
	}
	s.fail(at, id, text)
	if s.told == nil {
		s.told = map[string]*counts{}
	}
	c := s.told[id]
	if c == nil {
		c = &counts{}
		s.told[id] = c
	}
	switch ev.Kind {
	case result.EventOOM:
		c.oom++
	case result.EventRestart:
		c.restarts++
	}
}

// result records scenario k's outcome (or one repeat's); its OOM kills and
// restarts are failures too when no event named them as they happened
// (compose finds some only at teardown).
func (s *state) result(at time.Time, k int, o result.Outcome, eta time.Duration) {
	r := s.row(k, o.Scenario.ID)
	if r == nil {
		return
	}
	r.Status, r.Outcome = o.Status, &o
	s.ETA = eta
	var told counts
	if c := s.told[o.Scenario.ID]; c != nil {
		told = *c
		delete(s.told, o.Scenario.ID) // the next repeat counts afresh
	}
	if n := o.Resources.OOMKills - told.oom; n > 0 {
		s.fail(at, o.Scenario.ID, plural(n, "OOM kill", "OOM kills")+" at a memory limit of "+limitText(o.Scenario.MemoryBytes))
	}
	if n := o.Resources.Restarts - told.restarts; n > 0 {
		s.fail(at, o.Scenario.ID, plural(n, "container restart", "container restarts"))
	}
}
