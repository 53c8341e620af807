package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/platform/platformtest"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

var testRun = fmt.Sprintf("local-test-%d", os.Getpid())

func TestMain(m *testing.M) {
	code := m.Run()
	if pids, err := Processes(EnvRun, testRun); err != nil || len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "leak check: processes %v of this test run are alive (err %v)\n", pids, err)
		code = 1
	}
	if matches, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/*/*/*/infergrid-runner-%d*", os.Getpid())); len(matches) > 0 {
		fmt.Fprintf(os.Stderr, "leak check: cgroups left: %v\n", matches)
		code = 1
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// testsvc builds the test service once.
func testsvc(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "local-test-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "testsvc")
		binErr = platform.BuildGo(context.Background(), "../testdata/testsvc", binPath, "", "")
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var seq struct {
	sync.Mutex
	n int
}

func spec(t testing.TB, replicas int) platform.Spec {
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	return platform.Spec{
		Project: fmt.Sprintf("ltest%d_%d", os.Getpid(), n), RunID: testRun, ScenarioID: t.Name(), Dir: t.TempDir(),
		Replicas: replicas, Health: "/health", HealthTimeout: 10 * time.Second,
		Command: []string{testsvc(t), "-addr", "127.0.0.1:{{.Port}}"},
	}
}

func newPlatform(t *testing.T, opts Options) *Platform {
	p := New(opts)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func up(t *testing.T, p *Platform, s platform.Spec) *Stack {
	t.Helper()
	st, err := p.Up(t.Context(), s)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Down(context.Background()); err != nil {
			t.Errorf("Down in cleanup: %v", err)
		}
	})
	return st.(*Stack)
}

func post(url string) {
	if resp, err := http.Post(url, "text/plain", nil); err == nil {
		resp.Body.Close()
	}
}

func TestUpSampleDown(t *testing.T) {
	p := newPlatform(t, Options{})
	if err := p.Prepare(t.Context(), platform.Build{Dir: "../testdata/testsvc"}); err != nil {
		t.Fatal(err)
	}
	s := spec(t, 2)
	s.Command = nil // run the prepared binary, which listens on $ADDR
	start := time.Now()
	st := up(t, p, s)
	t.Logf("up and healthy in %s (%s)", time.Since(start), p.Info(t.Context()).Notes)
	eps := st.Endpoints()
	if len(eps) != 2 || eps[0].URL == eps[1].URL {
		t.Fatalf("endpoints %v: want 2 distinct", eps)
	}
	if start, healthy := st.UpTimes(); start <= 0 || healthy <= 0 {
		t.Errorf("UpTimes = %s, %s", start, healthy)
	}
	post(eps[0].URL + "/burn?ms=200")
	samples, err := st.Sample(t.Context())
	if err != nil || len(samples) != 2 {
		t.Fatalf("Sample: %d samples, err %v", len(samples), err)
	}
	if x := samples[0]; x.MemBytes <= 0 || x.PIDs == 0 || x.CPUPct <= 0 {
		t.Errorf("sample %+v: want memory, threads and CPU > 0", x)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, eps[0].Name+".log")); err != nil {
		t.Errorf("replica log: %v", err)
	}
	pids := st.PIDs()
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
		t.Errorf("processes %v left (replicas were %v)", left, pids)
	}
	var starts, dies int
	for _, ev := range st.Events() {
		switch ev.Kind {
		case result.EventStart:
			starts++
		case result.EventDie:
			dies++
		}
	}
	if starts != 2 || dies != 0 {
		t.Errorf("events %+v: want 2 starts and no die (teardown exits are not events)", st.Events())
	}
}

func TestCrashDuringRunIsAnEvent(t *testing.T) {
	p := newPlatform(t, Options{})
	st := up(t, p, spec(t, 1))
	post(st.Endpoints()[0].URL + "/exit?code=4")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if evs := st.Events(); evs[len(evs)-1].Kind == result.EventDie {
			ev := evs[len(evs)-1]
			if ev.ExitCode == nil || *ev.ExitCode != 4 || ev.Message != "exit code 4" {
				t.Errorf("die event %+v: want exit code 4", ev)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no die event: %+v", st.Events())
}

func TestUpFailures(t *testing.T) {
	tests := []struct {
		name string
		edit func(*platform.Spec)
		want []string
	}{
		{name: "exits at start", edit: func(s *platform.Spec) { s.Env = map[string]string{"EXIT_AT_START": "3"} },
			want: []string{"exited before becoming healthy: exit code 3", "testsvc: exiting at start as asked, code 3"}},
		{name: "never healthy", edit: func(s *platform.Spec) {
			s.Env = map[string]string{"UNHEALTHY": "1"}
			s.HealthTimeout = 500 * time.Millisecond
		}, want: []string{"did not become healthy", "status 503", "testsvc listening on 127.0.0.1:"}},
		{name: "no such command", edit: func(s *platform.Spec) { s.Command = []string{"/no/such/binary"} },
			want: []string{"cannot start replica", "/no/such/binary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlatform(t, Options{})
			s := spec(t, 2)
			tt.edit(&s)
			st, err := p.Up(t.Context(), s)
			if err == nil {
				st.Down(context.Background())
				t.Fatal("Up succeeded")
			}
			t.Logf("Up error:\n%v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
				t.Errorf("processes %v left", left)
			}
		})
	}
}

func TestNothingToRun(t *testing.T) {
	p := newPlatform(t, Options{})
	_, err := p.Up(t.Context(), platform.Spec{Project: "x", Replicas: 1})
	if err == nil || !strings.Contains(err.Error(), "nothing to run") {
		t.Fatalf("Up without command or build: %v", err)
	}
	if err := p.Prepare(t.Context(), platform.Build{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not a Go main package") {
		t.Fatalf("Prepare of a non-Go folder: %v", err)
	}
}

func environ(t *testing.T, pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(data), "\x00", "\n")
}

func TestAdvisoryLimits(t *testing.T) {
	p := newPlatform(t, Options{NoCgroups: true})
	s := spec(t, 1)
	s.CPUs, s.MemoryBytes = 1.5, 64<<20
	st := up(t, p, s)
	if !st.Advisory() {
		t.Error("Advisory() = false without cgroups")
	}
	env := environ(t, st.PIDs()[0])
	for _, want := range []string{"GOMAXPROCS=2", "GOMEMLIMIT=67108864", "PORT=", "ADDR=127.0.0.1:", EnvRun + "=" + testRun} {
		if !strings.Contains(env, want) {
			t.Errorf("replica environment lacks %s", want)
		}
	}
	if notes := p.Info(t.Context()).Notes; len(notes) != 1 || !strings.Contains(notes[0], "advisory") {
		t.Errorf("Info notes %q: want advisory", notes)
	}
	samples, _ := st.Sample(t.Context())
	if len(samples) != 1 || samples[0].MemLimitBytes != 64<<20 {
		t.Errorf("samples %+v: want the advisory limit", samples)
	}
}

// TestCgroupLimits runs where this host lets the runner create cgroups (root on
// cgroup v1, or v2 with delegation): limits are written, usage is read from the
// group, and exceeding the memory limit is an OOM kill.
func TestCgroupLimits(t *testing.T) {
	p := newPlatform(t, Options{})
	if cg, why := p.cgroups(); cg == nil {
		t.Skipf("cgroups cannot be used here: %s", why)
	}
	s := spec(t, 1)
	s.CPUs, s.MemoryBytes = 0.5, 48<<20
	st := up(t, p, s)
	if st.Advisory() {
		t.Fatal("Advisory() with cgroups")
	}
	g := st.replicas[0].cg
	checks := map[string]string{filepath.Join(g.memDir, "memory.limit_in_bytes"): "50331648", filepath.Join(g.cpuDir, "cpu.cfs_quota_us"): "50000"}
	if g.version == 2 {
		checks = map[string]string{filepath.Join(g.memDir, "memory.max"): "50331648", filepath.Join(g.cpuDir, "cpu.max"): "50000 100000"}
	}
	for file, want := range checks {
		if got, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q (err %v), want %s", file, got, err, want)
		}
	}
	procs, _ := os.ReadFile(filepath.Join(g.memDir, "cgroup.procs"))
	if !strings.Contains(string(procs), fmt.Sprint(st.PIDs()[0])) {
		t.Errorf("replica pid %d not in %s: %q", st.PIDs()[0], g.memDir, procs)
	}
	samples, err := st.Sample(t.Context())
	if err != nil || len(samples) != 1 || samples[0].MemLimitBytes != 48<<20 || samples[0].MemBytes <= 0 {
		t.Fatalf("samples %+v (err %v): want usage and the 48Mi limit from the cgroup", samples, err)
	}
	post(st.Endpoints()[0].URL + "/alloc?mb=200")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-st.replicas[0].done:
			deadline = time.Time{}
		case <-time.After(20 * time.Millisecond):
		}
	}
	var oom, die bool
	for _, ev := range st.Events() {
		oom = oom || ev.Kind == result.EventOOM
		die = die || (ev.Kind == result.EventDie && ev.ExitCode != nil && *ev.ExitCode == 137)
	}
	if !oom || !die {
		t.Errorf("events %+v: want an oom and a die with 137", st.Events())
	}
}

// TestOOMBeforeHealthy: a replica that sits at its cgroup memory limit while
// it starts, then is OOM-killed before it answers. Spec.Started hands over the
// stack once its process runs, so its readings at the limit are taken before Up
// fails, and the failure carries the OOM kill (an *UpError).
func TestOOMBeforeHealthy(t *testing.T) {
	p := newPlatform(t, Options{})
	if cg, why := p.cgroups(); cg == nil {
		t.Skipf("cgroups cannot be used here: %s", why)
	}
	s := spec(t, 1)
	s.MemoryBytes, s.Env = 32<<20, map[string]string{"HOLD_AT_LIMIT": "2s"}
	s.HealthTimeout = 30 * time.Second
	samples := platformtest.SampleFromStart(t, &s, 100*time.Millisecond)
	_, err := p.Up(t.Context(), s)
	platformtest.OOMBeforeHealthy(t, err, "exited before becoming healthy", samples, 32<<20)
}

func TestProcessesFindsOnlyTagged(t *testing.T) {
	pids, err := Processes(EnvRun, "no-such-run")
	if err != nil || len(pids) != 0 {
		t.Fatalf("Processes: %v, %v", pids, err)
	}
}

func TestDownKillsIgnoringTERM(t *testing.T) {
	p := newPlatform(t, Options{StopTimeout: 200 * time.Millisecond})
	s := spec(t, 1)
	// A shell that ignores SIGTERM and runs the service in the background.
	s.Command = []string{"/bin/sh", "-c", `trap "" TERM; "$0" -addr 127.0.0.1:$PORT & wait`, testsvc(t)}
	st := up(t, p, s)
	start := time.Now()
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
		t.Errorf("processes %v left after Down", left)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Down took %s", d)
	}
}

// TestCancelDuringUp is Ctrl-C while replicas start: Up returns the cancellation
// and no process is left.
func TestCancelDuringUp(t *testing.T) {
	p := newPlatform(t, Options{})
	s := spec(t, 2)
	s.Env = map[string]string{"UNHEALTHY": "1"}
	s.HealthTimeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	st, err := p.Up(ctx, s)
	if err == nil {
		st.Down(context.Background())
		t.Fatal("Up of a never-healthy stack succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Up error %v: want the cancellation", err)
	}
	if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
		t.Errorf("processes %v left", left)
	}
}
