package monitor

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

func TestLimits(t *testing.T) {
	code := 137
	mem := func(s int, c string, bytes int64) result.Sample {
		return result.Sample{Time: at(s), Container: c, MemBytes: bytes, MemLimitBytes: 1000}
	}
	ev := func(s int, c, kind string) result.Event { return result.Event{Time: at(s), Container: c, Kind: kind} }
	die := ev(0, "", result.EventDie)
	die.ExitCode = &code
	dieAt := func(s int, c string) result.Event { d := die; d.Time, d.Container = at(s), c; return d }
	type want struct {
		// limits are the mem_limit events' containers and times.
		limits []string
		// atLimit is AtLimit of each oom event, in order.
		atLimit []time.Duration
	}
	tests := []struct {
		name    string
		samples []result.Sample
		events  []result.Event
		want    want
	}{
		{
			name:    "reached, then killed: the time since the first reading at the limit",
			samples: []result.Sample{mem(0, "a", 500), mem(1, "a", 950), mem(2, "a", 990), mem(3, "a", 960)},
			events:  []result.Event{ev(0, "a", result.EventStart), ev(5, "a", result.EventOOM), dieAt(5, "a")},
			want:    want{limits: []string{"a@1"}, atLimit: []time.Duration{4 * time.Second}},
		},
		{
			name:    "below the ratio, or no limit: nothing",
			samples: []result.Sample{mem(0, "a", 949), {Time: at(1), Container: "b", MemBytes: 5000}},
			events:  []result.Event{ev(2, "a", result.EventOOM), ev(2, "b", result.EventOOM)},
			want:    want{atLimit: []time.Duration{0, 0}},
		},
		{
			name:    "a second notice of the same kill is not annotated again",
			samples: []result.Sample{mem(1, "a", 999)},
			events:  []result.Event{ev(3, "a", result.EventOOM), ev(3, "a", result.EventOOM), dieAt(3, "a")},
			want:    want{limits: []string{"a@1"}, atLimit: []time.Duration{2 * time.Second, 0}},
		},
		{
			name:    "an oom found at teardown, after the die: until the die",
			samples: []result.Sample{mem(1, "a", 999)},
			events:  []result.Event{dieAt(4, "a"), ev(60, "a", result.EventOOM)},
			want:    want{limits: []string{"a@1"}, atLimit: []time.Duration{3 * time.Second}},
		},
		{
			name: "each life has its own time at the limit",
			samples: []result.Sample{mem(1, "a", 999), mem(2, "b", 999), mem(6, "a", 100), mem(8, "a", 980),
				mem(9, "a", 990)},
			events: []result.Event{ev(3, "a", result.EventOOM), dieAt(3, "a"), ev(5, "a", result.EventStart),
				ev(10, "a", result.EventOOM), dieAt(10, "a")},
			want: want{limits: []string{"a@1", "b@2", "a@8"}, atLimit: []time.Duration{2 * time.Second, 2 * time.Second}},
		},
		{
			name:    "a reading taken at the time of the kill is before it",
			samples: []result.Sample{mem(3, "a", 999)},
			events:  []result.Event{ev(3, "a", result.EventOOM)},
			want:    want{limits: []string{"a@3"}, atLimit: []time.Duration{0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.events)
			got := Limits(tt.samples, tt.events)
			if !reflect.DeepEqual(in, tt.events) {
				t.Errorf("Limits changed its input: %+v", tt.events)
			}
			var limits []string
			var atLimit []time.Duration
			for i, e := range got {
				if i > 0 && e.Time.Before(got[i-1].Time) {
					t.Errorf("events not in time order: %+v", got)
				}
				switch e.Kind {
				case result.EventMemLimit:
					limits = append(limits, fmt.Sprintf("%s@%d", e.Container, e.Time.Sub(t0)/time.Second))
					if e.Message == "" {
						t.Errorf("mem_limit event without a message: %+v", e)
					}
				case result.EventOOM:
					atLimit = append(atLimit, e.AtLimit)
				}
			}
			if !reflect.DeepEqual(limits, tt.want.limits) || !reflect.DeepEqual(atLimit, tt.want.atLimit) {
				t.Errorf("mem_limit at %v, oom at limit %v; want %v, %v\n%+v", limits, atLimit, tt.want.limits, tt.want.atLimit, got)
			}
			if len(got) != len(tt.events)+len(tt.want.limits) {
				t.Errorf("%d events, want the %d given and the mem_limit ones", len(got), len(tt.events))
			}
		})
	}
}

func TestLimitEventMessagesAndNotes(t *testing.T) {
	side := result.RoleSide
	samples := []result.Sample{
		{Time: at(0), Container: "app-1", MemBytes: 59 << 20, MemLimitBytes: 60 << 20, Role: result.RoleReplica},
		{Time: at(1), Container: "mlflow-1", MemBytes: 1000, MemLimitBytes: 1000, Role: side},
	}
	events := []result.Event{
		{Time: at(98), Container: "app-1", Kind: result.EventOOM, Message: "out of memory"},
		{Time: at(4), Container: "mlflow-1", Kind: result.EventOOM, Role: side},
	}
	got := Limits(samples, events)
	want := []result.Event{
		{Time: at(0), Container: "app-1", Kind: result.EventMemLimit, Message: "memory at 59MiB of its 60MiB limit (98%)"},
		{Time: at(1), Container: "mlflow-1", Kind: result.EventMemLimit, Role: side, Message: "memory at 1000B of its 1000B limit (100%)"},
		{Time: at(4), Container: "mlflow-1", Kind: result.EventOOM, Role: side, AtLimit: 3 * time.Second,
			Message: "it sat at its memory limit for 3s before the kill"},
		{Time: at(98), Container: "app-1", Kind: result.EventOOM, AtLimit: 98 * time.Second,
			Message: "out of memory; it sat at its memory limit for 1m38s before the kill"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Limits:\n got %+v\nwant %+v", got, want)
	}
	notes := LimitNotes(append(got, got[3]))
	wantNotes := []string{
		"side service mlflow-1 sat at its memory limit for 3s before the OOM kill",
		"replica app-1 sat at its memory limit for 1m38s before the OOM kill",
	}
	if !reflect.DeepEqual(notes, wantNotes) {
		t.Errorf("LimitNotes:\n got %q\nwant %q", notes, wantNotes)
	}
	r := Summarize(samples[:1], got, false)
	if len(r.Containers) != 1 || r.Containers[0].AtLimitBeforeOOM != 98*time.Second {
		t.Errorf("Summarize: %+v, want app-1 98s at its limit before the OOM kill", r.Containers)
	}
	for d, want := range map[time.Duration]string{1234 * time.Millisecond: "1.2s", 9960 * time.Millisecond: "10s", 98400 * time.Millisecond: "1m38s"} {
		if got := LimitDuration(d); got != want {
			t.Errorf("LimitDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestSummarizeFrom: CPU over the readings from the load's start, memory over
// all of them (a replica's start counts against its memory limit).
func TestSummarizeFrom(t *testing.T) {
	samples := []result.Sample{
		{Time: at(0), Container: "a", CPUPct: 100, MemBytes: 900},
		{Time: at(1), Container: "a", CPUPct: 10, MemBytes: 300},
		{Time: at(2), Container: "a", CPUPct: 30, MemBytes: 400},
		{Time: at(0), Container: "b", CPUPct: 100, MemBytes: 50}, // gone before the load
	}
	got := SummarizeFrom(samples, nil, false, at(1))
	want := result.Resources{PeakMemBytes: 900, MeanCPUPct: 20, PeakCPUPct: 30, Containers: []result.ContainerSummary{
		{Name: "a", PeakMemBytes: 900, MeanCPUPct: 20, PeakCPUPct: 30},
		{Name: "b", PeakMemBytes: 50},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SummarizeFrom:\n got %+v\nwant %+v", got, want)
	}
}
