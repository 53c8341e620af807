package monitor

import (
	"fmt"
	"slices"
	"time"

	"github.com/docker/go-units"

	"github.com/infergrid/runner/runner/result"
)

// LimitRatio is the share of its memory limit at which a container's memory
// counts as at its limit. The memory sampled is Docker's figure (usage less the
// inactive page cache, as docker stats shows it): a container that thrashes
// against its limit, or holds its memory there, reads 97 to 99% of it. The kernel
// charges memory to a cgroup in per-CPU batches of up to 128 KiB, so on a small
// limit (16 MiB) the reading can sit a percent or two below the true figure;
// 95% leaves room for that and stays above a service's steady use.
const LimitRatio = 0.95

// atLimit reports whether s's memory is at its limit.
func atLimit(s result.Sample) bool {
	return s.MemLimitBytes > 0 && float64(s.MemBytes) >= LimitRatio*float64(s.MemLimitBytes)
}

// life is what Limits tracks of a container's current life.
type life struct {
	// reached is the time of the first reading at the limit; zero before.
	reached time.Time
	// oomed is true once an oom event of this life has been seen.
	oomed bool
	// endedReached and endedAt are reached and the die event's time of the
	// previous life when it died without an oom event, for one found after it.
	endedReached, endedAt time.Time
}

// Limits returns events, in time order, with a mem_limit event at the first
// reading of each container life at which its memory was at its limit (see
// LimitRatio), and with the time since then (AtLimit) and a sentence saying so
// on the first oom event that ended such a life. A life ends with the
// container's die event; an oom event that comes after it (found at teardown)
// belongs to the life that die ended. The time is as precise as the sampling
// interval. samples must be in time order.
func Limits(samples []result.Sample, events []result.Event) []result.Event {
	out := Merge(events)
	lives := map[string]*life{}
	lifeOf := func(c string) *life {
		if lives[c] == nil {
			lives[c] = &life{}
		}
		return lives[c]
	}
	var added []result.Event
	next := 0
	// readUntil looks at the samples up to t (all when t is zero): a reading
	// taken at the time of an event comes before it.
	readUntil := func(t time.Time) {
		for ; next < len(samples) && (t.IsZero() || !samples[next].Time.After(t)); next++ {
			s := samples[next]
			if l := lifeOf(s.Container); atLimit(s) && l.reached.IsZero() && !l.oomed {
				l.reached = s.Time
				added = append(added, limitEvent(s))
			}
		}
	}
	for i := range out {
		ev := &out[i]
		readUntil(ev.Time)
		if ev.Container == "" {
			continue
		}
		l := lifeOf(ev.Container)
		switch ev.Kind {
		case result.EventOOM:
			if l.oomed {
				continue // another notice of the same kill
			}
			l.oomed = true
			if !l.reached.IsZero() {
				annotate(ev, ev.Time.Sub(l.reached))
			} else if !l.endedReached.IsZero() {
				annotate(ev, l.endedAt.Sub(l.endedReached))
				l.endedReached = time.Time{}
			}
		case result.EventDie:
			died := life{endedAt: ev.Time}
			if !l.oomed {
				died.endedReached = l.reached
			}
			*l = died
		case result.EventStart:
			*l = life{}
		}
	}
	readUntil(time.Time{})
	return Merge(out, added)
}

// limitEvent is the mem_limit event of reading s.
func limitEvent(s result.Sample) result.Event {
	ev := result.Event{Time: s.Time, Container: s.Container, Kind: result.EventMemLimit,
		Message: fmt.Sprintf("memory at %s of its %s limit (%.0f%%)", units.BytesSize(float64(s.MemBytes)),
			units.BytesSize(float64(s.MemLimitBytes)), 100*float64(s.MemBytes)/float64(s.MemLimitBytes))}
	if s.Role == result.RoleSide {
		ev.Role = result.RoleSide
	}
	return ev
}

// annotate gives an oom event the time its container spent at its memory limit.
func annotate(ev *result.Event, d time.Duration) {
	ev.AtLimit = max(d, 0)
	note := fmt.Sprintf("it sat at its memory limit for %s before the kill", LimitDuration(ev.AtLimit))
	if ev.Message == "" {
		ev.Message = note
	} else {
		ev.Message += "; " + note
	}
}

// LimitDuration formats the time a container spent at its memory limit: to a
// tenth of a second below ten seconds, else to the second (1m38s).
func LimitDuration(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// LimitNotes says, for every oom event of events that carries AtLimit (see
// Limits), how long its container sat at its memory limit before the kill:
// "replica app-1 sat at its memory limit for 1m38s before the OOM kill" (or
// "side service ..."), once per container, in time order.
func LimitNotes(events []result.Event) []string {
	var out []string
	var seen []string
	for _, ev := range events {
		if ev.Kind != result.EventOOM || ev.AtLimit <= 0 || slices.Contains(seen, ev.Container) {
			continue
		}
		seen = append(seen, ev.Container)
		who := "replica"
		if ev.Role == result.RoleSide {
			who = "side service"
		}
		out = append(out, fmt.Sprintf("%s %s sat at its memory limit for %s before the OOM kill", who, ev.Container, LimitDuration(ev.AtLimit)))
	}
	return out
}
