// Package platformtest holds what the platforms' tests (compose, swarm, local)
// share: sampling a stack from the moment it starts, and the checks of a
// replica OOM-killed before it became healthy.
package platformtest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// Samples collects a stack's telemetry from the moment it starts.
type Samples struct {
	mu  sync.Mutex
	all []result.Sample
}

// SampleFromStart makes s's platform hand its sampler over as soon as the
// stack starts (s.Started) and reads it every interval until the stack is down
// or the test ends.
func SampleFromStart(t testing.TB, s *platform.Spec, interval time.Duration) *Samples {
	t.Helper()
	ss := &Samples{}
	ctx := t.Context()
	s.Started = func(st platform.Sampler) {
		go func() {
			for ctx.Err() == nil {
				x, err := st.Sample(ctx)
				ss.mu.Lock()
				ss.all = append(ss.all, x...)
				ss.mu.Unlock()
				if len(x) == 0 && err == nil {
					return // down, or the replica is gone
				}
				time.Sleep(interval)
			}
		}()
	}
	return ss
}

// All returns the samples read so far.
func (ss *Samples) All() []result.Sample {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]result.Sample(nil), ss.all...)
}

// OOMBeforeHealthy checks what Up returned for a replica that held its memory
// at limitBytes and was OOM-killed before it became healthy: an *UpError that
// says want, one OOM kill in its events, and samples of the replica at its
// limit before the kill, which monitor turns into one note.
func OOMBeforeHealthy(t testing.TB, upErr error, want string, ss *Samples, limitBytes int64) {
	t.Helper()
	var ue *platform.UpError
	if !errors.As(upErr, &ue) || !strings.Contains(upErr.Error(), want) {
		t.Fatalf("Up: %v; want an *UpError saying %q", upErr, want)
	}
	if r := monitor.Summarize(nil, ue.Events, false); r.OOMKills != 1 {
		t.Errorf("events %+v: want 1 OOM kill", ue.Events)
	}
	samples := ss.All()
	at := 0
	for _, x := range samples {
		if x.Role != result.RoleReplica || x.MemLimitBytes != limitBytes {
			t.Errorf("sample %+v: want a replica's, with its %d MiB limit", x, limitBytes>>20)
		}
		if float64(x.MemBytes) >= monitor.LimitRatio*float64(x.MemLimitBytes) {
			at++
		}
	}
	if at == 0 {
		t.Errorf("no sample at the memory limit before the OOM kill: %+v", samples)
	}
	ev := monitor.Limits(samples, ue.Events)
	if notes := monitor.LimitNotes(ev); len(notes) != 1 {
		t.Errorf("events %+v: want one note of the OOM kill after time at the limit", ev)
	} else {
		t.Logf("%d samples, %d at the limit; %s", len(samples), at, notes[0])
	}
}
