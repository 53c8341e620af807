package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// fakePlatform records what was brought up and down.
type fakePlatform struct {
	mu       sync.Mutex
	prepared int
	up, down []string
	failUp   map[string]error
	// portsTaken fails the first Up of these scenarios with ErrPortsTaken.
	portsTaken map[string]bool
	prepErr    error
	// downErr fails the Down of these scenarios; sampleErr their telemetry.
	downErr, sampleErr map[string]error
	// sampledAtUp makes Up of these scenarios hand the stack to Spec.Started and
	// return (or fail) only once it was sampled that many times, as a stack
	// that takes a while to come up.
	sampledAtUp map[string]int
	// atLimit makes the replicas of these scenarios read 99 of 100 bytes.
	atLimit map[string]bool
}

func (f *fakePlatform) Name() string { return "fake" }
func (f *fakePlatform) Prepare(context.Context, platform.Build) error {
	f.prepared++
	return f.prepErr
}
func (f *fakePlatform) Info(context.Context) platform.Info { return platform.Info{} }
func (f *fakePlatform) Close() error                       { return nil }
func (f *fakePlatform) Up(_ context.Context, s platform.Spec) (platform.Stack, error) {
	st := &fakeStack{p: f, id: s.ScenarioID, sampled: make(chan struct{}, 100)}
	f.mu.Lock()
	n := f.sampledAtUp[s.ScenarioID]
	f.mu.Unlock()
	if n > 0 && s.Started != nil {
		s.Started(st)
		for range n {
			<-st.sampled
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failUp[s.ScenarioID]; err != nil {
		return nil, err
	}
	if f.portsTaken[s.ScenarioID] {
		delete(f.portsTaken, s.ScenarioID)
		return nil, fmt.Errorf("cannot start: %w", platform.ErrPortsTaken)
	}
	if string(s.Compose) == "stale" {
		return nil, errors.New("brought up with the compose file rendered before the failure")
	}
	if _, err := os.Stat(s.Dir); err != nil {
		return nil, err
	}
	f.up = append(f.up, s.ScenarioID)
	return st, nil
}

type fakeStack struct {
	p    *fakePlatform
	id   string
	down bool // an OOM kill is found only at Down, as compose does
	// sampled receives a value after each Sample.
	sampled chan struct{}
}

func (s *fakeStack) Endpoints() []platform.Endpoint {
	return []platform.Endpoint{{Name: s.id + "-1", URL: "http://127.0.0.1:1"}}
}
func (s *fakeStack) Sample(context.Context) ([]result.Sample, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	defer func() {
		select {
		case s.sampled <- struct{}{}:
		default:
		}
	}()
	if err := s.p.sampleErr[s.id]; err != nil {
		return nil, err
	}
	if s.p.atLimit[s.id] {
		return []result.Sample{{Time: time.Now(), Container: s.id + "-1", MemBytes: 99, MemLimitBytes: 100}}, nil
	}
	return []result.Sample{{Time: time.Now(), Container: s.id + "-1", MemBytes: 42}}, nil
}
func (s *fakeStack) Events() []result.Event {
	evs := []result.Event{{Kind: result.EventStart, Container: s.id + "-1"}}
	if s.down {
		evs = append(evs, result.Event{Kind: result.EventOOM, Container: s.id + "-1"})
	}
	return evs
}
func (s *fakeStack) Advisory() bool { return false }
func (s *fakeStack) UpTimes() (start, healthy time.Duration) {
	return time.Second, 2 * time.Second
}
func (s *fakeStack) Down(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err() // teardown must get a live context even after Ctrl-C
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if err := s.p.downErr[s.id]; err != nil {
		return err
	}
	s.p.down = append(s.p.down, s.id)
	s.down = true
	return nil
}

func job(id string, load func(ctx context.Context) (result.Load, error)) Job {
	return Job{
		Scenario: result.Scenario{ID: id, Replicas: 1, Duration: time.Second},
		Stack:    &platform.Spec{ScenarioID: id, Replicas: 1},
		Load: func(ctx context.Context, eps []platform.Endpoint, path string, emit func(Event)) (result.Load, error) {
			if len(eps) != 1 {
				return result.Load{}, errors.New("no endpoints")
			}
			emit(Event{Kind: KindProgress, Line: "running"})
			time.Sleep(100 * time.Millisecond) // let the monitor take its first sample
			if err := os.WriteFile(path, []byte("raw"), 0o644); err != nil {
				return result.Load{}, err
			}
			return load(ctx)
		},
	}
}

func okLoad(context.Context) (result.Load, error) {
	return result.Load{Requests: 10, SuccessRatio: 1, Latency: result.Latency{P95: time.Millisecond}}, nil
}

func TestExecuteWritesEveryScenarioAndGoesOnAfterFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run-1")
	p := &fakePlatform{failUp: map[string]error{"b": errors.New("replica b-1 exited with code 1")}}
	jobs := []Job{
		job("a", okLoad),
		job("b", okLoad),
		job("c", func(context.Context) (result.Load, error) { return result.Load{}, errors.New("boom") }),
		job("d", okLoad),
	}
	var out bytes.Buffer
	slo := &result.SLO{P95: 500 * time.Microsecond}
	run, err := Execute(t.Context(), result.Run{ID: "run-1"}, jobs, Options{
		Dir: dir, Platform: p, Interval: time.Hour, SLO: slo, Observers: []Observer{NewProgress(&out, false)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.prepared != 1 {
		t.Errorf("prepared %d times, want once per run", p.prepared)
	}
	wantStatus := map[string]string{"a": "ok", "b": "failed", "c": "failed", "d": "ok"}
	for _, o := range run.Scenarios {
		if o.Status != wantStatus[o.Scenario.ID] {
			t.Errorf("%s: status %s (%s), want %s", o.Scenario.ID, o.Status, o.Error, wantStatus[o.Scenario.ID])
		}
		var disk result.Outcome
		if err := result.ReadJSON(filepath.Join(dir, "scenarios", o.Scenario.ID, "outcome.json"), &disk); err != nil {
			t.Errorf("%s: %v", o.Scenario.ID, err)
		}
		if disk.Status != o.Status {
			t.Errorf("%s: outcome.json says %s, run says %s", o.Scenario.ID, disk.Status, o.Status)
		}
	}
	if got := run.Scenarios[1].Error; !strings.Contains(got, "replica b-1 exited") {
		t.Errorf("b error = %q, want the platform's reason", got)
	}
	if got := run.Scenarios[0]; got.SLOPass == nil || *got.SLOPass || len(got.SLOFailures) != 1 {
		t.Errorf("a: SLO pass %v failures %v, want one failure", got.SLOPass, got.SLOFailures)
	}
	if got := run.Scenarios[0].Resources.PeakMemBytes; got != 42 {
		t.Errorf("a: peak mem %d, want 42 from the monitor", got)
	}
	if got := run.Scenarios[0].Phases; got.Up != time.Second || got.Healthy != 2*time.Second {
		t.Errorf("a: phases %+v, want the stack's up and healthy times", got)
	}
	if got := run.Scenarios[0].Resources.OOMKills; got != 1 {
		t.Errorf("a: %d OOM kills, want the one the stack reported at Down", got)
	}
	if strings.Join(p.down, ",") != "a,c,d" {
		t.Errorf("torn down %v, want every stack that came up", p.down)
	}
	for _, f := range []string{"run.json", "plan.json", "scenarios/a/stats.csv", "scenarios/a/events.json", "scenarios/a/results.gob"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(out.String(), "[2/4] b FAILED") {
		t.Errorf("progress does not report the failure:\n%s", out.String())
	}
}

func TestExecuteCancelTearsDownAndKeepsFinished(t *testing.T) {
	dir := t.TempDir()
	p := &fakePlatform{}
	ctx, cancel := context.WithCancel(t.Context())
	jobs := []Job{
		job("a", okLoad),
		job("b", func(ctx context.Context) (result.Load, error) {
			cancel() // Ctrl-C during the load
			<-ctx.Done()
			return result.Load{Requests: 3}, ctx.Err()
		}),
		job("c", okLoad),
	}
	run, err := Execute(ctx, result.Run{}, jobs, Options{Dir: dir, Platform: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Join(p.down, ",") != "a,b" {
		t.Errorf("torn down %v, want a,b", p.down)
	}
	if run.Scenarios[0].Status != result.StatusOK || run.Scenarios[1].Status != result.StatusFailed || run.Scenarios[2].Status != result.StatusSkipped {
		t.Errorf("statuses %s %s %s, want ok failed skipped", run.Scenarios[0].Status, run.Scenarios[1].Status, run.Scenarios[2].Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "scenarios", "c")); !os.IsNotExist(err) {
		t.Errorf("scenario c was started after the cancel")
	}

	// Resume runs only what is not finished.
	p2 := &fakePlatform{}
	run, err = Execute(t.Context(), result.Run{}, jobs[:1:1], Options{Dir: dir, Platform: p2, Resume: true})
	if err != nil || len(p2.up) != 0 || p2.prepared != 0 {
		t.Fatalf("resume of a finished scenario: err %v, up %v, prepared %d", err, p2.up, p2.prepared)
	}
	jobs[1] = job("b", okLoad)
	run, err = Execute(t.Context(), result.Run{}, jobs, Options{Dir: dir, Platform: p2, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p2.up, ",") != "b,c" {
		t.Errorf("resume brought up %v, want b,c", p2.up)
	}
	for _, o := range run.Scenarios {
		if o.Status != result.StatusOK {
			t.Errorf("%s: %s after resume", o.Scenario.ID, o.Status)
		}
	}
}

func TestExecutePrepareFailureStartsNothing(t *testing.T) {
	p := &fakePlatform{prepErr: errors.New("build failed")}
	run, err := Execute(t.Context(), result.Run{}, []Job{job("a", okLoad)}, Options{Dir: t.TempDir(), Platform: p})
	if err == nil || !strings.Contains(err.Error(), "build failed") {
		t.Fatalf("err = %v, want the build failure", err)
	}
	if len(p.up) != 0 || run.Scenarios[0].Status != result.StatusSkipped {
		t.Errorf("up %v, status %s; want nothing started", p.up, run.Scenarios[0].Status)
	}
}

func TestExecuteExternalTargets(t *testing.T) {
	j := job("ext", okLoad)
	j.Stack = nil
	j.Targets = []platform.Endpoint{{URL: "http://127.0.0.1:9"}}
	run, err := Execute(t.Context(), result.Run{}, []Job{j}, Options{Dir: t.TempDir()})
	if err != nil || run.Scenarios[0].Status != result.StatusOK {
		t.Fatalf("err %v, outcome %+v", err, run.Scenarios[0])
	}
}

func TestExecuteRendersAgainWhenPortsAreTaken(t *testing.T) {
	p := &fakePlatform{portsTaken: map[string]bool{"a": true}}
	j := job("a", okLoad)
	renders := 0
	j.Render = func() ([]byte, error) {
		renders++
		if renders == 1 {
			return []byte("stale"), nil
		}
		return []byte("fresh"), nil
	}
	run, err := Execute(t.Context(), result.Run{}, []Job{j}, Options{Dir: t.TempDir(), Platform: p})
	if err != nil || run.Scenarios[0].Status != result.StatusOK {
		t.Fatalf("err %v, outcome %s: %s", err, run.Scenarios[0].Status, run.Scenarios[0].Error)
	}
	if renders != 2 {
		t.Errorf("rendered %d times, want 2", renders)
	}

	// Without a way to render again, the failure is the scenario's.
	p = &fakePlatform{portsTaken: map[string]bool{"a": true}}
	run, _ = Execute(t.Context(), result.Run{}, []Job{job("a", okLoad)}, Options{Dir: t.TempDir(), Platform: p})
	if run.Scenarios[0].Status != result.StatusFailed {
		t.Errorf("status %s, want failed", run.Scenarios[0].Status)
	}
}

func TestETA(t *testing.T) {
	jobs := []Job{
		{Scenario: result.Scenario{Duration: 10 * time.Second}},
		{Scenario: result.Scenario{Duration: 20 * time.Second, Warmup: 5 * time.Second}},
	}
	e := newETA(jobs, []int{0, 1})
	if got := e.remaining(); got != 10*time.Second+25*time.Second+2*DefaultOverhead {
		t.Errorf("before any: %s", got)
	}
	e.done(0, 14*time.Second) // 4s overhead measured
	if got := e.remaining(); got != 29*time.Second {
		t.Errorf("after one: %s, want 25s + 4s", got)
	}
}

func TestPlainProgressThrottlesStatus(t *testing.T) {
	var buf bytes.Buffer
	p := newPrinter(&buf, false)
	now := time.Unix(0, 0)
	p.now = func() time.Time { return now }
	p.Phase(1, 2, "a", "load")
	p.Status("1 req")
	p.Status("2 req") // within PlainInterval: dropped
	now = now.Add(PlainInterval)
	p.Status("3 req")
	want := "[1/2] a load\n[1/2] a load: 1 req\n[1/2] a load: 3 req\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestProgressPrintsEveryEventLine(t *testing.T) {
	for _, tt := range []struct {
		tty  bool
		want string
	}{
		// Plain: the live line "2 req" falls within PlainInterval and is dropped;
		// the events (ending in a newline) never are.
		{false, "[1/2] a load\n[1/2] a load: 1 req\n[1/2] a load: step 1: 50/s pass p99 3ms\n[1/2] a load: step 2: 100/s pass p99 4ms\n"},
		// Terminal: live lines rewrite the current line; events stay on their own.
		{true, "\r\033[K[1/2] a load\r\033[K[1/2] a load: 1 req\r\033[K[1/2] a load: step 1: 50/s pass p99 3ms\n\r\033[K[1/2] a load: 2 req\r\033[K[1/2] a load: step 2: 100/s pass p99 4ms\n"},
	} {
		var buf bytes.Buffer
		p := newPrinter(&buf, tt.tty)
		now := time.Unix(0, 0)
		p.now = func() time.Time { return now }
		p.Phase(1, 2, "a", "load")
		p.Status("1 req")
		p.Status("step 1: 50/s pass p99 3ms\n")
		p.Status("2 req")
		p.Status("step 2: 100/s pass p99 4ms\n")
		if buf.String() != tt.want {
			t.Errorf("tty %v: got\n%q\nwant\n%q", tt.tty, buf.String(), tt.want)
		}
	}
}

// balancedPlatform brings up stacks with a load balancer in front (balancer: proxy).
type balancedPlatform struct{ fakePlatform }

func (f *balancedPlatform) Up(ctx context.Context, s platform.Spec) (platform.Stack, error) {
	st, err := f.fakePlatform.Up(ctx, s)
	if err != nil {
		return nil, err
	}
	return &balancedStack{fakeStack: st.(*fakeStack)}, nil
}

type balancedStack struct {
	*fakeStack
	mu    sync.Mutex
	reads int
}

func (s *balancedStack) BalancerName() string { return s.id + "-balancer" }
func (s *balancedStack) Sample(context.Context) ([]result.Sample, error) {
	now := time.Now()
	return []result.Sample{
		{Time: now, Container: s.id + "-1", MemBytes: 42, CPUPct: 50},
		{Time: now, Container: s.id + "-2", MemBytes: 43, CPUPct: 50},
		{Time: now, Container: s.BalancerName(), MemBytes: 7, CPUPct: 10},
	}, nil
}

// Upstreams counts 100 more requests per replica at each read, and the second
// replica 1 more error.
func (s *balancedStack) Upstreams(context.Context) ([]result.EndpointCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(5 + 100*s.reads)
	s.reads++
	return []result.EndpointCount{
		{Name: s.id + "-1", URL: "http://10.0.0.2:8000", Requests: n},
		{Name: s.id + "-2", URL: "http://10.0.0.3:8000", Requests: n + 1, Errors: uint64(s.reads)},
	}, nil
}

func TestExecuteBalancedStack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run-1")
	p := &balancedPlatform{}
	run, err := Execute(t.Context(), result.Run{ID: "run-1"}, []Job{job("a", okLoad)}, Options{Dir: dir, Platform: p, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o := run.Scenarios[0]
	want := []result.EndpointCount{
		{Name: "a-1", URL: "http://10.0.0.2:8000", Requests: 100},
		{Name: "a-2", URL: "http://10.0.0.3:8000", Requests: 100, Errors: 1},
	}
	if !reflect.DeepEqual(o.Load.Endpoints, want) {
		t.Errorf("endpoints %+v, want the balancer's counts over the load %+v", o.Load.Endpoints, want)
	}
	if len(o.Load.Notes) == 0 || !strings.Contains(o.Load.Notes[len(o.Load.Notes)-1], "read from the balancer a-balancer") {
		t.Errorf("notes %q", o.Load.Notes)
	}
	r := o.Resources
	if r.Balancer == nil || r.Balancer.Name != "a-balancer" || r.Balancer.PeakMemBytes != 7 {
		t.Fatalf("balancer summary %+v", r.Balancer)
	}
	if len(r.Containers) != 2 || r.PeakMemBytes != 43 || r.MeanCPUPct != 100 {
		t.Errorf("replica summary includes the balancer or lacks a replica: %+v", r)
	}
}

func TestDiffCounts(t *testing.T) {
	before := []result.EndpointCount{{Name: "a", URL: "u1", Requests: 10, Errors: 1}, {Name: "gone", URL: "u0", Requests: 3}}
	after := []result.EndpointCount{{Name: "a", URL: "u1", Requests: 15, Errors: 1}, {Name: "new", URL: "u2", Requests: 4}, {URL: "u3", Requests: 1}}
	want := []result.EndpointCount{{Name: "a", URL: "u1", Requests: 5}, {Name: "new", URL: "u2", Requests: 4}, {URL: "u3", Requests: 1}}
	if got := DiffCounts(before, after); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestExecuteStopsWhenPlatformIsLost: once the platform stops answering (Up,
// the telemetry or Down fails with platform.ErrUnavailable) the run stops with a
// *LostError: the scenario is recorded as failed, finished ones are kept, and no
// later scenario starts. Other failures let the run go on (see
// TestExecuteWritesEveryScenarioAndGoesOnAfterFailure).
func TestExecuteStopsWhenPlatformIsLost(t *testing.T) {
	gone := fmt.Errorf("%w: the Docker daemon at unix:///x.sock stopped answering", platform.ErrUnavailable)
	// blockingLoad runs until cancelled, as a long load would.
	blockingLoad := func(ctx context.Context) (result.Load, error) {
		select {
		case <-ctx.Done():
			return result.Load{Requests: 7}, fmt.Errorf("load cancelled: %w", context.Cause(ctx))
		case <-time.After(30 * time.Second):
			return result.Load{}, errors.New("the load was not stopped when the telemetry lost the platform")
		}
	}
	tests := []struct {
		name      string
		p         *fakePlatform
		load      func(context.Context) (result.Load, error)
		stackLeft bool
		up, down  string // stacks brought up, down
		want      string // in b's outcome error
	}{
		{name: "up", p: &fakePlatform{failUp: map[string]error{"b": gone}}, load: okLoad, stackLeft: true, up: "a", down: "a", want: "stack did not come up"},
		{name: "down", p: &fakePlatform{downErr: map[string]error{"b": gone}}, load: okLoad, stackLeft: true, up: "a,b", down: "a", want: "teardown"},
		{name: "telemetry, then down", p: &fakePlatform{sampleErr: map[string]error{"b": gone}, downErr: map[string]error{"b": gone}}, load: blockingLoad, stackLeft: true, up: "a,b", down: "a", want: "the load was stopped"},
		{name: "telemetry, daemon back for down", p: &fakePlatform{sampleErr: map[string]error{"b": gone}}, load: blockingLoad, up: "a,b", down: "a,b", want: "the load was stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			jobs := []Job{job("a", okLoad), job("b", tt.load), job("c", okLoad)}
			start := time.Now()
			run, err := Execute(t.Context(), result.Run{ID: "r"}, jobs, Options{Dir: dir, Platform: tt.p, Interval: 10 * time.Millisecond})
			var lost *LostError
			if !errors.As(err, &lost) || !errors.Is(err, platform.ErrUnavailable) {
				t.Fatalf("err = %v, want a *LostError wrapping platform.ErrUnavailable", err)
			}
			if lost.Scenario != "b" || lost.K != 2 || lost.N != 3 || lost.StackLeft != tt.stackLeft {
				t.Errorf("lost = %+v, want scenario b, 2 of 3, stack left %v", lost, tt.stackLeft)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			if got := strings.Join(tt.p.up, ","); got != tt.up {
				t.Errorf("brought up %s, want %s: no scenario may start after b", got, tt.up)
			}
			if got := strings.Join(tt.p.down, ","); got != tt.down {
				t.Errorf("brought down %s, want %s", got, tt.down)
			}
			want := []string{result.StatusOK, result.StatusFailed, result.StatusSkipped}
			for i, o := range run.Scenarios {
				if o.Status != want[i] {
					t.Errorf("%s: %s (%s), want %s", o.Scenario.ID, o.Status, o.Error, want[i])
				}
			}
			var b result.Outcome
			if err := result.ReadJSON(filepath.Join(dir, "scenarios", "b", "outcome.json"), &b); err != nil {
				t.Fatal(err)
			}
			if b.Status != result.StatusFailed || !strings.Contains(b.Error, tt.want) || !strings.Contains(b.Error, "Docker daemon") {
				t.Errorf("b's outcome.json: %s: %q, want failed with %q and the daemon named", b.Status, b.Error, tt.want)
			}
			if strings.HasPrefix(tt.name, "telemetry") && b.Load.Requests != 7 {
				t.Errorf("b's load so far: %d requests, want the 7 before the stop", b.Load.Requests)
			}
			if _, err := os.Stat(filepath.Join(dir, "scenarios", "c")); !os.IsNotExist(err) {
				t.Errorf("scenario c was started after the platform was lost")
			}
			for _, f := range []string{"run.json", "plan.json", "scenarios/a/outcome.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s", f)
				}
			}
		})
	}
}

// TestExecuteCountsOOMBeforeHealthy: a replica OOM-killed while starting fails
// the scenario at Up; as for a stack that fails under load, its OOM kill is
// counted, its events are written, its stats (sampled from the moment it
// started) are kept, and the failure says how long it sat at its memory limit.
func TestExecuteCountsOOMBeforeHealthy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run-1")
	code := 137
	t0 := time.Now()
	upErr := &platform.UpError{Err: errors.New("replica a-1 exited: OOM-killed (exit code 137)\nlast log lines:\nloading model"), Events: []result.Event{
		{Time: t0, Kind: result.EventStart, Container: "a-1"},
		{Time: t0.Add(100 * time.Second), Kind: result.EventOOM, Container: "a-1"},
		{Time: t0.Add(100 * time.Second), Kind: result.EventDie, Container: "a-1", ExitCode: &code},
		{Time: t0.Add(100 * time.Second), Kind: result.EventOOM, Container: "mlflow-1", Role: result.RoleSide},
	}}
	p := &fakePlatform{failUp: map[string]error{"a": upErr}, sampledAtUp: map[string]int{"a": 2}, atLimit: map[string]bool{"a": true}}
	run, err := Execute(t.Context(), result.Run{ID: "run-1"}, []Job{job("a", okLoad)}, Options{Dir: dir, Platform: p, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o := run.Scenarios[0]
	if o.Status != result.StatusFailed || o.Resources.OOMKills != 1 || len(o.Resources.Services) != 1 || o.Resources.Services[0].OOMKills != 1 {
		t.Errorf("outcome %s, resources %+v: want failed with the replica's and the side service's OOM kills counted apart", o.Status, o.Resources)
	}
	first, logs, _ := strings.Cut(o.Error, "\n")
	if want := "OOM-killed (exit code 137); replica a-1 sat at its memory limit for 1m40s before the OOM kill"; !strings.HasSuffix(first, want) || logs != "last log lines:\nloading model" {
		t.Errorf("error %q: want its first line to end with %q, the log lines after it", o.Error, want)
	}
	if r := o.Resources; r.PeakMemBytes != 99 || len(r.Containers) != 1 || r.Containers[0].AtLimitBeforeOOM < 99*time.Second {
		t.Errorf("resources %+v: want the samples taken while it came up, and its time at the limit", r)
	}
	f, err := os.Open(filepath.Join(dir, "scenarios", "a", "stats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, err := result.ReadStats(f); err != nil || len(rows) == 0 || rows[0].MemBytes != 99 || rows[0].Role != result.RoleReplica {
		t.Errorf("stats.csv: %+v, %v; want the samples taken while it came up", rows, err)
	}
	evs, err := monitor.ReadEvents(filepath.Join(dir, "scenarios", "a", "events.json"))
	if err != nil || len(evs) != 5 {
		t.Fatalf("events.json: %+v, %v; want the 4 the platform saw and a mem_limit", evs, err)
	}
	if evs[1].Kind != result.EventMemLimit || evs[1].Container != "a-1" || evs[2].Kind != result.EventOOM || evs[2].AtLimit < 99*time.Second {
		t.Errorf("events.json: %+v; want a mem_limit event of a-1, then its oom event with the time at its limit", evs)
	}
}
