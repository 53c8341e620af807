package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// countingLoad returns loads whose p99 is p99s[i] on the i-th call.
func countingLoad(p99s ...time.Duration) func(context.Context) (result.Load, error) {
	var n atomic.Int64
	return func(context.Context) (result.Load, error) {
		i := n.Add(1) - 1
		return result.Load{Requests: 100 * uint64(i+1), SuccessRatio: 1, ThroughputRPS: float64(10 * (i + 1)),
			Latency: result.Latency{P99: p99s[i]}}, nil
	}
}

func repeated(j Job, n int) Job {
	j.Scenario.Repeat = n
	return j
}

func TestExecuteRepeatsInRounds(t *testing.T) {
	dir := t.TempDir()
	p := &fakePlatform{}
	ms := time.Millisecond
	jobs := []Job{
		repeated(job("a", countingLoad(30*ms, 10*ms, 20*ms)), 3),
		job("b", okLoad),
		repeated(job("c", countingLoad(5*ms, 7*ms)), 2),
	}
	var out bytes.Buffer
	run, err := Execute(t.Context(), result.Run{}, jobs, Options{
		Dir: dir, Platform: p, Interval: time.Hour, SLO: &result.SLO{P99: 25 * ms}, Observers: []Observer{NewProgress(&out, false)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.up, ","); got != "a,b,c,a,c,a" {
		t.Errorf("brought up %s, want interleaved rounds a,b,c,a,c,a", got)
	}
	if got := strings.Join(p.down, ","); got != "a,b,c,a,c,a" {
		t.Errorf("torn down %s, want every repeat's stack", got)
	}
	a := run.Scenarios[0]
	if len(a.Repeats) != 3 || a.Load.Latency.P99 != 20*ms || a.Load.Requests != 200 || a.MedianRepeat != 3 {
		t.Errorf("a: %d repeats, p99 %v, requests %d, median repeat %d; want 3, 20ms, 200, 3", len(a.Repeats), a.Load.Latency.P99, a.Load.Requests, a.MedianRepeat)
	}
	if a.SLOPass == nil || !*a.SLOPass || a.Repeats[0].SLOPass == nil || *a.Repeats[0].SLOPass {
		t.Errorf("a: the median (20ms) meets the SLO (25ms), repeat 1 (30ms) does not: %v %v", a.SLOPass, a.Repeats[0].SLOPass)
	}
	for k, r := range a.Repeats {
		if r.Repeat != k+1 {
			t.Errorf("a: repeat %d is numbered %d", k+1, r.Repeat)
		}
	}
	if c := run.Scenarios[2]; len(c.Repeats) != 2 || c.Load.Latency.P99 != 6*ms {
		t.Errorf("c: %d repeats, p99 %v; want 2, 6ms (the mean of the middle two)", len(c.Repeats), c.Load.Latency.P99)
	}
	if b := run.Scenarios[1]; len(b.Repeats) != 0 || b.Repeat != 0 || b.Status != result.StatusOK {
		t.Errorf("b runs once: %+v", b)
	}
	for _, f := range []string{"a/outcome.json", "a/repeat-1/outcome.json", "a/repeat-3/results.gob", "a/repeat-2/stats.csv", "a/repeat-2/events.json",
		"b/outcome.json", "b/results.gob", "b/stats.csv", "c/repeat-2/outcome.json"} {
		if _, err := os.Stat(filepath.Join(dir, "scenarios", f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	for _, f := range []string{"b/repeat-1", "a/results.gob", "a/repeat-4"} {
		if _, err := os.Stat(filepath.Join(dir, "scenarios", f)); err == nil {
			t.Errorf("unexpected %s", f)
		}
	}
	var disk result.Outcome
	if err := result.ReadJSON(filepath.Join(dir, "scenarios", "a", "outcome.json"), &disk); err != nil || len(disk.Repeats) != 3 || disk.Load.Latency.P99 != 20*ms {
		t.Errorf("a/outcome.json: %v, %d repeats, p99 %v", err, len(disk.Repeats), disk.Load.Latency.P99)
	}
	if !strings.Contains(out.String(), "[1/3] a repeat 2/3 ok") || !strings.Contains(out.String(), "[2/3] b ok") {
		t.Errorf("progress does not name the repeats:\n%s", out.String())
	}
}

func TestExecuteRepeatCancelKeepsFinishedRepeats(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int64
	a := repeated(job("a", func(ctx context.Context) (result.Load, error) {
		if calls.Add(1) == 2 {
			cancel() // Ctrl-C during repeat 2
			<-ctx.Done()
			return result.Load{Requests: 3}, ctx.Err()
		}
		return okLoad(ctx)
	}), 3)
	p := &fakePlatform{}
	run, err := Execute(ctx, result.Run{}, []Job{a}, Options{Dir: dir, Platform: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Join(p.down, ",") != "a,a" {
		t.Errorf("torn down %v, want both stacks, the interrupted one too", p.down)
	}
	o := run.Scenarios[0]
	if o.Status != result.StatusOK || len(o.Repeats) != 1 || o.Load.Requests != 10 {
		t.Errorf("after Ctrl-C: status %s, %d repeats, %d requests; want ok over the finished repeat 1", o.Status, len(o.Repeats), o.Load.Requests)
	}
	var r2 result.Outcome
	if err := result.ReadJSON(filepath.Join(dir, "scenarios", "a", "repeat-2", "outcome.json"), &r2); err != nil || r2.Status != result.StatusFailed {
		t.Errorf("repeat-2/outcome.json: %v, status %q; want it kept, failed", err, r2.Status)
	}

	// Resume runs repeats 2 and 3 only.
	p2 := &fakePlatform{}
	a.Load = job("a", okLoad).Load
	run, err = Execute(t.Context(), result.Run{}, []Job{a}, Options{Dir: dir, Platform: p2, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p2.up, ",") != "a,a" {
		t.Errorf("resume brought up %v, want a twice (repeats 2 and 3)", p2.up)
	}
	if o := run.Scenarios[0]; o.Status != result.StatusOK || len(o.Repeats) != 3 || o.Repeats[1].Repeat != 2 {
		t.Errorf("after resume: status %s, %d repeats", o.Status, len(o.Repeats))
	}
}

func TestExecuteRepeatFailure(t *testing.T) {
	p := &fakePlatform{}
	var calls atomic.Int64
	a := repeated(job("a", func(ctx context.Context) (result.Load, error) {
		if calls.Add(1) == 2 {
			return result.Load{}, errors.New("boom")
		}
		return okLoad(ctx)
	}), 3)
	run, err := Execute(t.Context(), result.Run{}, []Job{a}, Options{Dir: t.TempDir(), Platform: p})
	if err != nil {
		t.Fatal(err)
	}
	o := run.Scenarios[0]
	if o.Status != result.StatusFailed || !strings.Contains(o.Error, "repeat 2 of 3: load: boom") || o.Load.Requests != 10 || len(o.Repeats) != 3 {
		t.Errorf("status %s, error %q, requests %d, %d repeats; want failed naming repeat 2, the median of the other two", o.Status, o.Error, o.Load.Requests, len(o.Repeats))
	}
}
