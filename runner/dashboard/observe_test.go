package dashboard

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

// fakeRun is the events of a run of two scenarios: the first runs its load for
// three seconds with telemetry of two replicas and succeeds with an OOM kill,
// the second fails while coming up.
func fakeRun(t0 time.Time) []run.Event {
	ok := true
	a := result.Scenario{ID: "a-r2", Replicas: 2, CPUs: 1, MemoryBytes: 256 << 20}
	b := result.Scenario{ID: "b-r1", Replicas: 1}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	evs := []run.Event{
		{Kind: run.KindRunStart, Dir: "/runs/demo-1", Time: at(0)},
		{Kind: run.KindPhase, Phase: run.PhaseBuild, Time: at(0)},
		{Kind: run.KindPhase, K: 1, Scenario: a.ID, Phase: run.PhaseUp, Time: at(1)},
		{Kind: run.KindPhase, K: 1, Scenario: a.ID, Phase: run.PhaseLoad, Time: at(2)},
	}
	for s := 1; s <= 3; s++ {
		evs = append(evs,
			run.Event{Kind: run.KindProgress, K: 1, Scenario: a.ID, Time: at(2 + s), Progress: &load.Progress{
				Elapsed: time.Duration(s) * time.Second, Total: 3 * time.Second, Requests: uint64(100 * s), Errors: uint64(s - 1),
				RatePerSecond: 100, P50: 5 * time.Millisecond, P99: time.Duration(10*s) * time.Millisecond, Users: 10, InFlight: 3,
				Endpoints: []result.EndpointCount{{URL: "http://127.0.0.1:1", Requests: uint64(60 * s)}, {URL: "http://127.0.0.1:2", Requests: uint64(40 * s)}},
			}},
			run.Event{Kind: run.KindSample, K: 1, Scenario: a.ID, Time: at(2 + s), Samples: []result.Sample{
				{Time: at(2 + s), Container: "demo-a-1", CPUPct: 50, MemBytes: 100 << 20, MemLimitBytes: 256 << 20},
				{Time: at(2 + s), Container: "demo-a-2", CPUPct: 30, MemBytes: 80 << 20, MemLimitBytes: 256 << 20},
			}})
	}
	oa := result.Outcome{Scenario: a, Status: result.StatusOK, SLOPass: &ok,
		Load:      result.Load{Requests: 300, ThroughputRPS: 99, SuccessRatio: 0.99, Latency: result.Latency{P50: 5 * time.Millisecond, P99: 30 * time.Millisecond}},
		Resources: result.Resources{OOMKills: 1}}
	ob := result.Outcome{Scenario: b, Status: result.StatusFailed, Error: "replica never answered /health"}
	return append(evs,
		run.Event{Kind: run.KindPhase, K: 1, Scenario: a.ID, Phase: run.PhaseDown, Time: at(6)},
		run.Event{Kind: run.KindResult, K: 1, Scenario: a.ID, Outcome: &oa, ETA: 40 * time.Second, Time: at(7)},
		run.Event{Kind: run.KindPhase, K: 2, Scenario: b.ID, Phase: run.PhaseUp, Time: at(8)},
		run.Event{Kind: run.KindFailure, K: 2, Scenario: b.ID, Err: "replica never answered /health", Time: at(9)},
		run.Event{Kind: run.KindResult, K: 2, Scenario: b.ID, Outcome: &ob, Time: at(9)},
		run.Event{Kind: run.KindRunEnd, Time: at(10)},
	)
}

// TestObserveFakeRun feeds a fake run's events to a server and reads the
// stream as a page would: the grid, the running scenario's charts and replica
// shares, the failures, and the final state.
func TestObserveFakeRun(t *testing.T) {
	evs := fakeRun(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	for i := range evs {
		evs[i].Run, evs[i].N = "demo-1", 2
	}
	s := New([]result.Scenario{{ID: "a-r2", Replicas: 2, CPUs: 1, MemoryBytes: 256 << 20}, {ID: "b-r1", Replicas: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	st := openStream(t, srv.URL)
	st.next("state")

	// Up to the third second of load: the running scenario.
	for _, ev := range evs[:10] {
		s.Observe(ev)
	}
	f := st.next("state")
	for _, want := range []string{"scenario 1 of 2", "load", "/runs/demo-1"} {
		if !strings.Contains(string(f.Head), want) {
			t.Errorf("head lacks %q:\n%s", want, f.Head)
		}
	}
	for _, want := range []string{"requests and errors per second", "latency of the last second", "CPU per container", "memory per container",
		`aria-label="p50"`, `aria-label="p99"`, "demo-a-1", "60.0% (180)", "40.0% (120)", "50% of 100%", "100MiB of 256MiB (39%)"} {
		if !strings.Contains(string(f.Live), want) {
			t.Errorf("running scenario lacks %q:\n%s", want, f.Live)
		}
	}
	if strings.Contains(string(f.Live), "live-ttft") {
		t.Errorf("a load that does not stream shows streaming charts:\n%s", f.Live)
	}
	if !strings.Contains(string(f.Grid), `<tr class="run"><td>1</td><td><code>a-r2</code></td><td class="status">load</td>`) {
		t.Errorf("grid does not show scenario 1 loading:\n%s", f.Grid)
	}

	// The rest: results, the failure, the end.
	for _, ev := range evs[10:] {
		s.Observe(ev)
	}
	f = st.next("state")
	for f.Head == "" || !strings.Contains(string(f.Head), "finished") {
		f = st.next("state")
	}
	for _, want := range []string{"✓ met", "99/s", "30 ms", "1%", `class="bad"`, "failed"} {
		if !strings.Contains(string(f.Grid), want) {
			t.Errorf("final grid lacks %q:\n%s", want, f.Grid)
		}
	}
	for _, want := range []string{"1 OOM kill at a memory limit of 256MiB", "b-r1", "replica never answered /health"} {
		if !strings.Contains(string(f.Failures), want) {
			t.Errorf("failures lack %q:\n%s", want, f.Failures)
		}
	}
}

// TestObserveStreaming: the progress of a streaming load draws the time to
// first token, the gap between tokens and the tokens per second, live.
func TestObserveStreaming(t *testing.T) {
	evs := fakeRun(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	s := New([]result.Scenario{{ID: "a-r2", Replicas: 2}, {ID: "b-r1", Replicas: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	st := openStream(t, srv.URL)
	st.next("state")
	for i, ev := range evs[:10] {
		ev.Run, ev.N = "demo-1", 2
		if ev.Progress != nil {
			p := *ev.Progress
			p.Stream = &load.LiveStream{TTFTP50: 150 * time.Millisecond, TTFTP99: time.Duration(200+i) * time.Millisecond,
				ITLP50: 20 * time.Millisecond, ITLP99: 35 * time.Millisecond, TokensPerSecond: 480}
			ev.Progress = &p
		}
		s.Observe(ev)
	}
	f := st.next("state")
	for _, want := range []string{`data-chart="live-ttft"`, `data-chart="live-tokens"`, `aria-label="TTFT p99"`, `aria-label="ITL p50"`, `aria-label="tokens/s"`} {
		if !strings.Contains(string(f.Live), want) {
			t.Errorf("streaming scenario lacks %q", want)
		}
	}
}

// TestObserveContainerEvents: an OOM kill is shown as it happens, and the
// scenario's result does not count it a second time.
func TestObserveContainerEvents(t *testing.T) {
	evs := fakeRun(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	s := New([]result.Scenario{{ID: "a-r2", Replicas: 2, MemoryBytes: 256 << 20}, {ID: "b-r1", Replicas: 1}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	st := openStream(t, srv.URL)
	st.next("state")
	oom := result.Event{Time: evs[9].Time, Container: "demo-a-1", Kind: result.EventOOM, AtLimit: 12 * time.Second}
	for i, ev := range evs {
		ev.Run, ev.N = "demo-1", 2
		s.Observe(ev)
		if i == 9 { // during a's load
			s.Observe(run.Event{Kind: run.KindContainer, Run: "demo-1", N: 2, K: 1, Scenario: "a-r2", Time: oom.Time, Container: &oom})
			f := st.next("state")
			for !strings.Contains(string(f.Failures), "OOM kill of demo-a-1, after 12s at its memory limit") {
				f = st.next("state")
			}
		}
	}
	f := st.next("state")
	for f.Head == "" || !strings.Contains(string(f.Head), "finished") {
		f = st.next("state")
	}
	if strings.Contains(string(f.Failures), "1 OOM kill at a memory limit") || strings.Count(string(f.Failures), "OOM kill") != 1 {
		t.Errorf("the OOM kill is not shown exactly once:\n%s", f.Failures)
	}
}

// TestReportLink serves report.html once the runner names it, and nothing else.
func TestReportLink(t *testing.T) {
	s := New(nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, b.String()
	}
	if code, _ := get("/report.html"); code != 404 {
		t.Errorf("report.html before the report: %d, want 404", code)
	}
	p := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(p, []byte("<p>the report</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.SetReport(p)
	if code, body := get("/report.html"); code != 200 || body != "<p>the report</p>" {
		t.Errorf("report.html: %d %q", code, body)
	}
	if _, body := get("/"); !strings.Contains(body, `href="report.html"`) {
		t.Errorf("the page does not link the report")
	}
}
