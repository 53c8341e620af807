package run

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// TestExecuteEvents pins the event stream of a run: its order, and the fields
// each kind carries.
func TestExecuteEvents(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run-1")
	p := &fakePlatform{failUp: map[string]error{"b": errors.New("replica b-1 exited with code 1")}}
	jobs := []Job{job("a", okLoad), job("b", okLoad)}
	var got []Event
	var s Stream
	ch, cancel := s.Subscribe(100)
	defer cancel()
	_, err := Execute(t.Context(), result.Run{ID: "run-1"}, jobs, Options{
		Dir: dir, Platform: p, Interval: time.Hour,
		Observers: []Observer{func(e Event) { got = append(got, e) }, s.Observe},
	})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range got {
		k := string(e.Kind)
		if e.Phase != "" {
			k += ":" + string(e.Phase)
		}
		if e.Scenario != "" {
			k = e.Scenario + " " + k
		}
		kinds = append(kinds, k)
		if e.Run != "run-1" || e.N != 2 || e.Time.IsZero() {
			t.Errorf("%s: run %q, n %d, time %v: want every event stamped", k, e.Run, e.N, e.Time)
		}
	}
	want := []string{
		"run_start", "phase:build",
		"a phase:up", "a phase:load", "a progress", "a phase:down", "a result",
		"b phase:up", "b failure", "b result",
		"run_end",
	}
	// The samples (from the stack's start) race with the phases and the load's
	// progress: there must be one between up and down.
	up, down := slices.Index(kinds, "a phase:up"), slices.Index(kinds, "a phase:down")
	if i := slices.Index(kinds, "a sample"); i < up || i > down {
		t.Errorf("events %s: want a sample of a between its up and down phases", strings.Join(kinds, ", "))
	}
	// The stack's events come with the samples, each once: a's one event.
	if n := len(slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return k != "a container" })); n != 1 {
		t.Errorf("events %s: want a's one container event once, got %d", strings.Join(kinds, ", "), n)
	}
	kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == "a sample" || k == "a container" })
	if strings.Join(kinds, ", ") != strings.Join(want, ", ") {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(kinds, ", "), strings.Join(want, ", "))
	}
	for _, e := range got {
		switch e.Kind {
		case KindRunStart:
			if e.Dir != dir {
				t.Errorf("run_start dir %q, want %q", e.Dir, dir)
			}
		case KindSample:
			if len(e.Samples) != 1 || e.Samples[0].MemBytes != 42 {
				t.Errorf("sample %+v, want the stack's reading", e.Samples)
			}
		case KindResult:
			if e.Outcome == nil || e.Outcome.Scenario.ID != e.Scenario || e.K == 0 {
				t.Errorf("result %+v without its scenario's outcome", e)
			}
		case KindFailure:
			if !strings.Contains(e.Err, "replica b-1 exited") {
				t.Errorf("failure %q, want the platform's reason", e.Err)
			}
		}
	}
	var streamed []Event
	for e := range ch { // closed after run_end
		streamed = append(streamed, e)
	}
	if len(streamed) != len(got) || s.Dropped() != 0 {
		t.Errorf("stream passed %d events (%d dropped), the observer saw %d", len(streamed), s.Dropped(), len(got))
	}
}

// TestWatcherEmitsEachEventOnce: the events of a stack are emitted as they
// appear, each once however often the stack is sampled; Notable tells the
// ones worth a line.
func TestWatcherEmitsEachEventOnce(t *testing.T) {
	var got []result.Event
	w := &watcher{ctx: t.Context(), emit: func(e Event) {
		if e.Kind == KindContainer {
			got = append(got, *e.Container)
		}
	}}
	t0 := time.Now()
	st := &eventStack{evs: []result.Event{{Time: t0, Container: "a-1", Kind: result.EventStart}}}
	w.newEvents(st)
	w.newEvents(st)
	st.evs = append(st.evs, result.Event{Time: t0.Add(time.Second), Container: "a-1", Kind: result.EventOOM, AtLimit: 98 * time.Second})
	w.newEvents(st)
	w.newEvents(st)
	if len(got) != 2 || got[0].Kind != result.EventStart || got[1].Kind != result.EventOOM {
		t.Fatalf("emitted %+v, want the start then the OOM kill, once each", got)
	}
	code := func(c int) *int { return &c }
	for _, tt := range []struct {
		ev   result.Event
		want string
	}{
		{got[1], "OOM kill of a-1, after 1m38s at its memory limit"},
		{result.Event{Kind: result.EventRestart, Container: "db", Role: result.RoleSide}, "side service db restarted"},
		{result.Event{Kind: result.EventDie, Container: "a-1", ExitCode: code(2)}, "a-1 exited with code 2"},
		{result.Event{Kind: result.EventDie, Container: "a-1", ExitCode: code(143)}, ""},
		{got[0], ""},
	} {
		if s := Notable(tt.ev); s != tt.want {
			t.Errorf("Notable(%+v) = %q, want %q", tt.ev, s, tt.want)
		}
	}
}

// eventStack is a sampler whose stack has events.
type eventStack struct{ evs []result.Event }

func (s *eventStack) Sample(context.Context) ([]result.Sample, error) { return nil, nil }
func (s *eventStack) Events() []result.Event                          { return slices.Clone(s.evs) }

func TestStreamDropsForSlowSubscribers(t *testing.T) {
	var s Stream
	slow, cancelSlow := s.Subscribe(1)
	defer cancelSlow()
	fast, cancelFast := s.Subscribe(10)
	for range 3 {
		s.Observe(Event{Kind: KindProgress})
	}
	cancelFast()
	if n := len(fast); n != 3 {
		t.Errorf("fast subscriber got %d events, want 3", n)
	}
	if n := len(slow); n != 1 || s.Dropped() != 2 {
		t.Errorf("slow subscriber holds %d, %d dropped; want 1 held, 2 dropped", n, s.Dropped())
	}
	s.Observe(Event{Kind: KindRunEnd})
	late, _ := s.Subscribe(1)
	if _, open := <-late; open {
		t.Error("a subscription after run_end is open, want it closed")
	}
}
