package run

import (
	"sync"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
)

// Kind says what an Event reports.
type Kind string

// The kinds of Event, in the order a run sends them.
const (
	// KindRunStart opens the run: Run, Dir and N are set.
	KindRunStart Kind = "run_start"
	// KindPhase says scenario K of N entered Phase (K is 0 for PhaseBuild, which
	// comes before the first scenario).
	KindPhase Kind = "phase"
	// KindProgress is the live state of the running load, about once a second:
	// Progress is set, Line is its one-line rendering.
	KindProgress Kind = "progress"
	// KindStep is a finished capacity-search step: Step and StepN (0-based) are
	// set, Line is its one-line rendering.
	KindStep Kind = "step"
	// KindSample carries one telemetry reading: the Samples of every container
	// of the stack at one instant.
	KindSample Kind = "sample"
	// KindContainer is something that happened to a container of the stack
	// (an OOM kill, a restart, an exit, a failed health check, memory at its
	// limit) as the platform saw it: Container is set. It comes with the
	// telemetry, about once a sampling interval, each event once.
	KindContainer Kind = "container"
	// KindFailure says scenario K failed: Err says why. A KindResult follows.
	KindFailure Kind = "failure"
	// KindResult is scenario K's outcome, as written to its outcome.json (a
	// repeat's, in its repeat folder, with Median the scenario's outcome over
	// its finished repeats), and ETA is the estimated time the rest of the run
	// takes.
	KindResult Kind = "result"
	// KindRunEnd closes the run: Err is set when the run itself stopped early
	// (interrupted, the platform lost); it is the last event.
	KindRunEnd Kind = "run_end"
)

// Phase is a step of a run.
type Phase string

// The phases of a run: PhaseBuild once before the first scenario, then
// PhaseUp, PhaseLoad and PhaseDown for each scenario that has a stack (a
// scenario against external targets only has PhaseLoad).
const (
	PhaseBuild Phase = "build"
	PhaseUp    Phase = "up"
	PhaseLoad  Phase = "load"
	PhaseDown  Phase = "down"
)

// Event is one thing a run reports. Time, Kind, Run and N are always set; K and
// Scenario are set for the events of a scenario; the other fields depend on Kind.
type Event struct {
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Kind says which of the fields below are set.
	Kind Kind `json:"kind"`
	// Run is the run ID (the run directory's base name).
	Run string `json:"run"`
	// Dir is the run directory (KindRunStart).
	Dir string `json:"dir,omitempty"`
	// K is the 1-based index of the scenario in the plan, N the number of
	// scenarios in the plan.
	K int `json:"k,omitempty"`
	N int `json:"n"`
	// Scenario is the ID of scenario K.
	Scenario string `json:"scenario,omitempty"`
	// Repeat is the 1-based repeat of scenario K that the event is about, of
	// Repeats; both 0 for a scenario that runs once.
	Repeat  int `json:"repeat,omitempty"`
	Repeats int `json:"repeats,omitempty"`
	// Phase is the phase entered (KindPhase).
	Phase Phase `json:"phase,omitempty"`
	// Line is the human-readable rendering of a KindProgress or KindStep event.
	Line string `json:"line,omitempty"`
	// Progress is the live state of the load (KindProgress).
	Progress *load.Progress `json:"progress,omitempty"`
	// Step is a finished capacity-search step, StepN its 0-based number (KindStep).
	Step  *result.CapacityStep `json:"step,omitempty"`
	StepN int                  `json:"step_n,omitempty"`
	// Samples is one telemetry reading of every container (KindSample).
	Samples []result.Sample `json:"samples,omitempty"`
	// Container is a container's event (KindContainer).
	Container *result.Event `json:"container,omitempty"`
	// Outcome is the finished scenario's outcome, or the finished repeat's (KindResult).
	Outcome *result.Outcome `json:"outcome,omitempty"`
	// Median is a repeated scenario's outcome over the repeats finished so far
	// (KindResult of a repeat); nil otherwise.
	Median *result.Outcome `json:"median,omitempty"`
	// ETA is the estimated time the rest of the run takes (KindResult).
	ETA time.Duration `json:"eta,omitempty"`
	// Err says why a scenario failed (KindFailure) or why the run stopped
	// early (KindRunEnd).
	Err string `json:"error,omitempty"`
}

// Observer receives a run's events. Execute calls every observer of
// Options.Observers in turn, one event at a time and in order, from whichever
// goroutine produced the event: an observer must return quickly and must not
// call back into the run. Stream is an observer for consumers that read at
// their own pace.
type Observer func(Event)

// emitter stamps and serialises events to the observers.
type emitter struct {
	mu        sync.Mutex
	observers []Observer
	run       string
	n         int
	now       func() time.Time
}

func (e *emitter) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	ev.Run, ev.N = e.run, e.n
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range e.observers {
		o(ev)
	}
}

// unit returns the function a scenario's parts emit their events with: it sets
// K and Scenario, and Repeat and Repeats when the scenario runs n > 1 times.
func (e *emitter) unit(k int, id string, repeat, n int) func(Event) {
	return func(ev Event) {
		ev.K, ev.Scenario = k, id
		if n > 1 {
			ev.Repeat, ev.Repeats = repeat, n
		}
		e.emit(ev)
	}
}

// Stream fans a run's events out to subscribers that read them from channels
// at their own pace (a web dashboard, say). Pass its Observe method in
// Options.Observers. A subscriber whose buffer is full loses the event rather
// than slowing the run down; Dropped counts what it lost. The zero Stream is
// ready to use.
type Stream struct {
	mu      sync.Mutex
	subs    map[*subscription]struct{}
	closed  bool
	dropped int
}

type subscription struct {
	ch chan Event
}

// Observe sends ev to every subscriber; it is an Observer.
func (s *Stream) Observe(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			s.dropped++
		}
	}
	if ev.Kind == KindRunEnd {
		s.closeLocked()
	}
}

// Subscribe returns a channel that receives every later event, with room for
// buffer events, and a cancel function that unsubscribes and closes it. The
// channel is also closed after the KindRunEnd event, or at once when the
// stream has seen it already.
func (s *Stream) Subscribe(buffer int) (events <-chan Event, cancel func()) {
	sub := &subscription{ch: make(chan Event, buffer)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(sub.ch)
		return sub.ch, func() {}
	}
	if s.subs == nil {
		s.subs = map[*subscription]struct{}{}
	}
	s.subs[sub] = struct{}{}
	return sub.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			close(sub.ch)
		}
	}
}

// Dropped is how many events the subscribers lost, in total, because their
// buffers were full.
func (s *Stream) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

func (s *Stream) closeLocked() {
	s.closed = true
	for sub := range s.subs {
		close(sub.ch)
		delete(s.subs, sub)
	}
}
