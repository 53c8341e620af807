package monitor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestSummarize(t *testing.T) {
	code := 137
	tests := []struct {
		name     string
		samples  []result.Sample
		events   []result.Event
		advisory bool
		want     result.Resources
	}{
		{name: "nothing", want: result.Resources{Containers: []result.ContainerSummary{}}},
		{
			name: "two replicas, sums per reading",
			samples: []result.Sample{
				{Time: at(0), Container: "b", CPUPct: 50, MemBytes: 300, MemLimitBytes: 1000},
				{Time: at(0), Container: "a", CPUPct: 10, MemBytes: 100, MemLimitBytes: 1000},
				{Time: at(1), Container: "a", CPUPct: 30, MemBytes: 500, MemLimitBytes: 1000},
				{Time: at(1), Container: "b", CPUPct: 90, MemBytes: 200, MemLimitBytes: 1000},
			},
			advisory: true,
			want: result.Resources{
				PeakMemBytes: 500, MeanCPUPct: (60 + 120) / 2.0, PeakCPUPct: 120, Advisory: true,
				Containers: []result.ContainerSummary{
					{Name: "a", PeakMemBytes: 500, MemLimitBytes: 1000, MeanCPUPct: 20, PeakCPUPct: 30},
					{Name: "b", PeakMemBytes: 300, MemLimitBytes: 1000, MeanCPUPct: 70, PeakCPUPct: 90},
				},
			},
		},
		{
			name: "oom kill and restarts",
			events: []result.Event{
				{Time: at(0), Container: "a", Kind: result.EventStart},
				{Time: at(5), Container: "a", Kind: result.EventOOM},
				{Time: at(5), Container: "a", Kind: result.EventOOM}, // a second notice of the same kill
				{Time: at(5), Container: "a", Kind: result.EventDie, ExitCode: &code},
				{Time: at(6), Container: "a", Kind: result.EventStart}, // restart policy
				{Time: at(7), Container: "a", Kind: result.EventOOM},   // killed again in its second life
				{Time: at(8), Container: "b", Kind: result.EventKill},
				{Time: at(8), Container: "b", Kind: result.EventDie},
				{Time: at(8), Container: "b", Kind: result.EventStart},
				{Time: at(8), Container: "b", Kind: result.EventRestart}, // docker restart: counted once
				{Time: at(9), Container: "c", Kind: result.EventDie},     // exited, never back
			},
			want: result.Resources{OOMKills: 2, Restarts: 2, Containers: []result.ContainerSummary{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.samples, tt.events, tt.advisory)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Summarize:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestSummarizeAgainstNaive checks the CPU aggregates against a direct computation
// over readings grouped by hand.
func TestSummarizeAgainstNaive(t *testing.T) {
	var samples []result.Sample
	var sums []float64
	for i := range 50 {
		sum := 0.0
		for _, name := range []string{"x", "y", "z"} {
			cpu := float64((i*7+len(name)*13)%97) + 0.5
			samples = append(samples, result.Sample{Time: at(i), Container: name, CPUPct: cpu, MemBytes: int64(i * len(name))})
			sum += cpu
		}
		sums = append(sums, sum)
	}
	var mean, peak float64
	for _, s := range sums {
		mean += s / float64(len(sums))
		peak = max(peak, s)
	}
	got := Summarize(samples, nil, false)
	if d := got.MeanCPUPct - mean; d > 1e-9 || d < -1e-9 || got.PeakCPUPct != peak || got.PeakMemBytes != 49 {
		t.Errorf("mean %v peak %v mem %d; want %v %v 49", got.MeanCPUPct, got.PeakCPUPct, got.PeakMemBytes, mean, peak)
	}
}

type fakeSampler struct {
	n   atomic.Int32
	err error
}

func (f *fakeSampler) Sample(ctx context.Context) ([]result.Sample, error) {
	n := f.n.Add(1)
	return []result.Sample{{Time: time.Now(), Container: "c", MemBytes: int64(n)}}, f.err
}

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	w, err := result.NewStatsWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSampler{err: errors.New("daemon hiccup")}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for f.n.Load() < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	series, err := Run(ctx, f, 5*time.Millisecond, w)
	if err != nil {
		t.Fatal(err)
	}
	written, err := result.ReadStats(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(series.Samples) < 2 || len(written) != len(series.Samples) {
		t.Fatalf("%d samples collected, %d written; want >= 2 and equal", len(series.Samples), len(written))
	}
	if len(series.Errors) != 1 || series.Errors[0].Kind != result.EventPlatform ||
		!strings.HasPrefix(series.Errors[0].Message, "stats: daemon hiccup (") {
		t.Errorf("errors %+v: want one platform_error counting repeats", series.Errors)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunWriteError(t *testing.T) {
	w, err := result.NewStatsWriter(&onceWriter{w: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), &fakeSampler{}, time.Millisecond, w)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run with a failing writer: %v", err)
	}
}

// onceWriter accepts the first write (the header) and fails after.
type onceWriter struct {
	w    *bytes.Buffer
	done bool
}

func (o *onceWriter) Write(p []byte) (int, error) {
	if o.done {
		return failWriter{}.Write(p)
	}
	o.done = true
	return o.w.Write(p)
}

func TestEventsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.json")
	if err := WriteEvents(path, nil); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.TrimSpace(string(data)) != "[]" {
		t.Errorf("no events: %q, want []", data)
	}
	code := 2
	evs := Merge(
		[]result.Event{{Time: at(2), Container: "a", Kind: result.EventDie, ExitCode: &code}},
		[]result.Event{{Time: at(1), Kind: result.EventPlatform, Message: "stats: x"}},
	)
	if evs[0].Kind != result.EventPlatform {
		t.Fatalf("Merge not in time order: %+v", evs)
	}
	if err := WriteEvents(path, evs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEvents(path)
	if err != nil || !reflect.DeepEqual(got, evs) {
		t.Errorf("round trip: %+v (err %v), want %+v", got, err, evs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
	if err := WriteEvents(filepath.Join(dir, "missing", "events.json"), evs); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

// TestSideServices: a stack with two replicas, a balancer and a side service
// (mlflow) that is OOM-killed and restarted, and a second side container killed
// before its first sample. The side services' OOM kills and restarts are theirs,
// not the replicas'.
func TestSideServices(t *testing.T) {
	code := 137
	side := result.RoleSide
	samples := []result.Sample{
		{Time: at(0), Container: "app-1", CPUPct: 10, MemBytes: 100, Role: result.RoleReplica},
		{Time: at(0), Container: "app-2", CPUPct: 20, MemBytes: 200},
		{Time: at(0), Container: "lb-1", CPUPct: 5, MemBytes: 50},
		{Time: at(0), Container: "mlflow-1", CPUPct: 40, MemBytes: 900, MemLimitBytes: 1000, Role: side},
		{Time: at(1), Container: "mlflow-1", CPUPct: 60, MemBytes: 990, MemLimitBytes: 1000, Role: side},
	}
	events := []result.Event{
		{Time: at(0), Kind: result.EventPlatform, Message: "stats: slow"},
		{Time: at(1), Container: "app-1", Kind: result.EventStart},
		{Time: at(2), Container: "mlflow-1", Kind: result.EventOOM, Role: side},
		{Time: at(2), Container: "mlflow-1", Kind: result.EventDie, ExitCode: &code, Role: side},
		{Time: at(3), Container: "mlflow-1", Kind: result.EventStart, Role: side},
		{Time: at(0), Container: "cache-1", Kind: result.EventOOM, Role: side},
	}
	replicas, bal, sides, replicaEvents, sideEvents := SplitRoles(samples, events, "lb-1")
	if len(replicas) != 2 || len(bal) != 1 || len(sides) != 2 || len(replicaEvents) != 2 || len(sideEvents) != 4 {
		t.Fatalf("SplitRoles: %d replica, %d balancer, %d side samples; %d replica, %d side events", len(replicas), len(bal), len(sides), len(replicaEvents), len(sideEvents))
	}
	if r := Summarize(replicas, replicaEvents, false); r.OOMKills != 0 || r.PeakMemBytes != 200 {
		t.Errorf("replicas: %+v: the side service's OOM or memory leaked into them", r)
	}
	want := []result.ServiceSummary{
		{ContainerSummary: result.ContainerSummary{Name: "cache-1"}, OOMKills: 1},
		{ContainerSummary: result.ContainerSummary{Name: "mlflow-1", PeakMemBytes: 990, MemLimitBytes: 1000, MeanCPUPct: 50, PeakCPUPct: 60}, OOMKills: 1, Restarts: 1},
	}
	if got := Services(sides, sideEvents, time.Time{}); !reflect.DeepEqual(got, want) {
		t.Errorf("Services:\n got %+v\nwant %+v", got, want)
	}
	if got := Services(nil, nil, time.Time{}); got != nil {
		t.Errorf("Services of none = %+v", got)
	}
}
