package docker

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/result"
)

// watchedActions are the container events the runner records.
var watchedActions = []events.Action{events.ActionStart, events.ActionDie, events.ActionOOM, events.ActionKill, events.ActionRestart, events.ActionHealthStatusUnhealthy}

// ToEvent converts a daemon event; ok is false for events the runner does not record.
func ToEvent(m events.Message) (ev result.Event, ok bool) {
	ev = result.Event{Time: time.Unix(0, m.TimeNano), Container: m.Actor.Attributes["name"]}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	switch m.Action {
	case events.ActionStart:
		ev.Kind = result.EventStart
	case events.ActionDie:
		ev.Kind = result.EventDie
		if code, err := strconv.Atoi(m.Actor.Attributes["exitCode"]); err == nil {
			ev.ExitCode = &code
		}
	case events.ActionOOM:
		ev.Kind = result.EventOOM
		ev.Message = "out of memory: the kernel killed a process of the container"
	case events.ActionKill:
		ev.Kind = result.EventKill
		if sig := m.Actor.Attributes["signal"]; sig != "" {
			ev.Message = "signal " + sig
		}
	case events.ActionRestart:
		ev.Kind = result.EventRestart
	case events.ActionHealthStatusUnhealthy:
		ev.Kind = result.EventHealth
	default:
		return ev, false
	}
	return ev, true
}

func eventFilters(f Filter) client.Filters {
	args := f.args()
	args.Add("type", string(events.ContainerEventType))
	for _, a := range watchedActions {
		args.Add("event", string(a))
	}
	return args
}

// Watch records the container events matching f from now until Stop.
type Watch struct {
	c      *Client
	f      Filter
	since  time.Time
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	evs  []result.Event
	seen map[string]bool
	err  error
}

// Watch starts recording container events (start, die with exit code, oom, kill,
// restart, unhealthy) of the containers matching f.
func (c *Client) Watch(ctx context.Context, f Filter) *Watch {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &Watch{c: c, f: f, since: time.Now().Add(-time.Second), cancel: cancel, done: make(chan struct{}), seen: map[string]bool{}}
	res := c.api.Events(ctx, client.EventsListOptions{Filters: eventFilters(f)})
	go func() {
		defer close(w.done)
		for {
			select {
			case m := <-res.Messages:
				w.add(m)
			case err := <-res.Err:
				if err != nil && !errors.Is(err, context.Canceled) {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
				}
				return
			}
		}
	}()
	return w
}

func (w *Watch) add(m events.Message) {
	ev, ok := ToEvent(m)
	if !ok {
		return
	}
	key := strconv.FormatInt(m.TimeNano, 10) + "/" + m.Actor.ID + "/" + string(m.Action)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	i, _ := slices.BinarySearchFunc(w.evs, ev.Time, func(e result.Event, t time.Time) int { return e.Time.Compare(t) })
	// Keep order of equal times stable: insert after equals.
	for i < len(w.evs) && w.evs[i].Time.Equal(ev.Time) {
		i++
	}
	w.evs = slices.Insert(w.evs, i, ev)
}

// Events returns the events recorded so far, in time order.
func (w *Watch) Events() []result.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.evs)
}

// Add records an event found otherwise (e.g. State.OOMKilled at teardown).
func (w *Watch) Add(ev result.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, _ := slices.BinarySearchFunc(w.evs, ev.Time, func(e result.Event, t time.Time) int { return e.Time.Compare(t) })
	for i < len(w.evs) && w.evs[i].Time.Equal(ev.Time) {
		i++
	}
	w.evs = slices.Insert(w.evs, i, ev)
}

// Stop ends the live subscription, then asks the daemon once more for the events
// between the start of the watch and now, so that none still in flight is lost.
// It returns the stream's error, if it broke.
func (w *Watch) Stop(ctx context.Context) error {
	until := time.Now()
	w.cancel()
	<-w.done
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res := w.c.api.Events(ctx, client.EventsListOptions{
		Filters: eventFilters(w.f),
		Since:   strconv.FormatInt(w.since.Unix(), 10),
		Until:   strconv.FormatFloat(float64(until.UnixNano())/1e9, 'f', 9, 64),
	})
	for {
		select {
		case m := <-res.Messages:
			w.add(m)
		case err := <-res.Err:
			w.mu.Lock()
			defer w.mu.Unlock()
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
				w.err = errors.Join(w.err, err)
			}
			return w.err
		}
	}
}
