package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// DefaultInterval is the sampling interval when none is given.
const DefaultInterval = time.Second

// Sampler is the part of platform.Stack the monitor needs.
type Sampler interface {
	Sample(ctx context.Context) ([]result.Sample, error)
}

// Series is what one monitoring run collected.
type Series struct {
	// Samples are every reading, in time order.
	Samples []result.Sample
	// Errors are platform_error events for failed readings: one per distinct
	// message, with how often it occurred.
	Errors []result.Event
}

// Run samples s at once, then every interval until ctx is done, appends every
// reading to w (when not nil) as it comes, and returns what it collected. Failed
// readings do not stop it; they are returned as platform_error events. The error
// is non-nil only when writing to w failed, and then Run stops.
func Run(ctx context.Context, s Sampler, interval time.Duration, w *result.StatsWriter) (Series, error) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	var out Series
	type seen struct {
		i, n int
	}
	errIndex := map[string]*seen{}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		// Bound one reading, so a hung daemon cannot stall the loop; Docker's first
		// reading takes up to two of its one-second collections.
		sctx, cancel := context.WithTimeout(ctx, max(interval, 3*time.Second))
		samples, err := s.Sample(sctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			msg := "stats: " + err.Error()
			if e, ok := errIndex[msg]; ok {
				e.n++
				out.Errors[e.i].Message = fmt.Sprintf("%s (%d times)", msg, e.n)
			} else {
				errIndex[msg] = &seen{i: len(out.Errors), n: 1}
				out.Errors = append(out.Errors, result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: msg})
			}
		}
		if len(samples) > 0 && ctx.Err() == nil {
			out.Samples = append(out.Samples, samples...)
			if w != nil {
				if err := w.Write(samples...); err != nil {
					return out, fmt.Errorf("cannot write stats: %w", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return out, nil
		case <-tick.C:
		}
	}
}

// Summarize computes a scenario's resource summary: the peak memory of any one
// replica, the mean and peak over readings of the summed CPU % of all replicas
// (readings taken together share a Time), OOM kills (containers' lives with an oom
// event: Docker can send several for one kill), restarts (a start
// of a container that had died before, or a restart event without such a start)
// and a summary per container in name order, with the time it sat at its memory
// limit before an OOM kill (from events annotated by Limits).
func Summarize(samples []result.Sample, events []result.Event, advisory bool) result.Resources {
	return SummarizeFrom(samples, events, advisory, time.Time{})
}

// SummarizeFrom is Summarize with the CPU figures taken over the readings from
// from on (the load: the samples of the stack coming up and waiting for health
// come before it), and the memory figures over every reading: memory a replica
// needs while it starts counts against its limit as much as under load.
func SummarizeFrom(samples []result.Sample, events []result.Event, advisory bool, from time.Time) result.Resources {
	r := result.Resources{Advisory: advisory, Containers: []result.ContainerSummary{}}
	byName := map[string]*result.ContainerSummary{}
	counts := map[string]int{}
	sumAt := map[time.Time]float64{}
	for _, s := range samples {
		c := byName[s.Container]
		if c == nil {
			c = &result.ContainerSummary{Name: s.Container}
			byName[s.Container] = c
		}
		c.PeakMemBytes = max(c.PeakMemBytes, s.MemBytes)
		c.MemLimitBytes = max(c.MemLimitBytes, s.MemLimitBytes)
		r.PeakMemBytes = max(r.PeakMemBytes, s.MemBytes)
		if s.Time.Before(from) {
			continue
		}
		c.PeakCPUPct = max(c.PeakCPUPct, s.CPUPct)
		c.MeanCPUPct += s.CPUPct // sum for now
		counts[s.Container]++
		sumAt[s.Time.Round(0)] += s.CPUPct
	}
	for _, ev := range events {
		if c := byName[ev.Container]; c != nil && ev.Kind == result.EventOOM {
			c.AtLimitBeforeOOM = max(c.AtLimitBeforeOOM, ev.AtLimit)
		}
	}
	for name, c := range byName {
		if counts[name] > 0 {
			c.MeanCPUPct /= float64(counts[name])
		}
		r.Containers = append(r.Containers, *c)
	}
	sort.Slice(r.Containers, func(i, j int) bool { return r.Containers[i].Name < r.Containers[j].Name })
	if len(sumAt) > 0 {
		var total float64
		for _, v := range sumAt {
			total += v
			r.PeakCPUPct = max(r.PeakCPUPct, v)
		}
		r.MeanCPUPct = total / float64(len(sumAt))
	}
	r.OOMKills, r.Restarts = countEvents(events)
	return r
}

// Services summarizes the side services (result.RoleSide) from their samples and
// events: one entry per container seen in either, in name order, with its peak
// memory against its limit, CPU (from from on, as SummarizeFrom), OOM kills and
// restarts (counted as Summarize counts them) and its time at its memory limit
// before an OOM kill. A side container OOM-killed before its first sample still
// has an entry.
func Services(samples []result.Sample, events []result.Event, from time.Time) []result.ServiceSummary {
	r := SummarizeFrom(samples, events, false, from)
	byName := map[string]result.ServiceSummary{}
	for _, c := range r.Containers {
		byName[c.Name] = result.ServiceSummary{ContainerSummary: c}
	}
	evs := map[string][]result.Event{}
	for _, ev := range events {
		if ev.Container == "" {
			continue
		}
		evs[ev.Container] = append(evs[ev.Container], ev)
		if _, ok := byName[ev.Container]; !ok {
			byName[ev.Container] = result.ServiceSummary{ContainerSummary: result.ContainerSummary{Name: ev.Container}}
		}
	}
	var out []result.ServiceSummary
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		s := byName[name]
		s.OOMKills, s.Restarts = countEvents(evs[name])
		out = append(out, s)
	}
	return out
}

// SplitRoles separates samples and events by role: the replicas' (and their
// unattributed events, such as platform errors), the balancer's samples (its role,
// or its name for samples from before roles), and the side services'.
func SplitRoles(samples []result.Sample, events []result.Event, balancer string) (replicas, bal, side []result.Sample, replicaEvents, sideEvents []result.Event) {
	for _, s := range samples {
		switch {
		case s.Role == result.RoleSide:
			side = append(side, s)
		case s.Role == result.RoleBalancer || (balancer != "" && s.Container == balancer):
			bal = append(bal, s)
		default:
			replicas = append(replicas, s)
		}
	}
	for _, ev := range events {
		if ev.Role == result.RoleSide {
			sideEvents = append(sideEvents, ev)
		} else {
			replicaEvents = append(replicaEvents, ev)
		}
	}
	return replicas, bal, side, replicaEvents, sideEvents
}

func countEvents(events []result.Event) (ooms, restarts int) {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b result.Event) int { return a.Time.Compare(b.Time) })
	died := map[string]bool{}
	restartPending := map[string]bool{}
	oomSeen := map[string]bool{}
	for _, ev := range evs {
		switch ev.Kind {
		case result.EventOOM:
			// The kernel may signal several OOM conditions for one kill: count one
			// per container life.
			if !oomSeen[ev.Container] {
				ooms++
				oomSeen[ev.Container] = true
			}
		case result.EventDie:
			died[ev.Container] = true
		case result.EventStart:
			oomSeen[ev.Container] = false
			if died[ev.Container] {
				restarts++
				died[ev.Container] = false
				restartPending[ev.Container] = true
			}
		case result.EventRestart:
			// Docker sends die, start, restart for `docker restart`: the start
			// already counted it.
			if !restartPending[ev.Container] {
				restarts++
			}
			restartPending[ev.Container] = false
		}
	}
	return ooms, restarts
}

// Merge returns the events of all lists in time order (stable for equal times).
func Merge(lists ...[]result.Event) []result.Event {
	out := []result.Event{}
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.SortStableFunc(out, func(a, b result.Event) int { return a.Time.Compare(b.Time) })
	return out
}

// WriteEvents writes events as a JSON array to path atomically (temp file, fsync,
// rename); no events give "[]".
func WriteEvents(path string, events []result.Event) error {
	if events == nil {
		events = []result.Event{}
	}
	data, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".events-*.json")
	if err != nil {
		return fmt.Errorf("cannot write events: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// ReadEvents reads an events.json file.
func ReadEvents(path string) ([]result.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var evs []result.Event
	if err := json.Unmarshal(data, &evs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return evs, nil
}
