package local

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// python is Debian's python3: the non-Go service of these tests.
const python = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing (%v): the tests of a service given only by its command run Python's http.server; install python3", python, err)
	}
}

// get sends n GETs of path to url and fails unless each answers 200 with want in
// its body.
func get(t *testing.T, url, path string, n int, want string) {
	t.Helper()
	for i := range n {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatalf("request %d to %s: %v", i, url, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("request %d to %s%s: status %d, body %.80q, err %v; want 200 with %q", i, url, path, resp.StatusCode, body, err, want)
		}
	}
}

// gone fails if a process of tree is still running, or any process is left in
// the process group of a replica's main process pid.
func gone(t *testing.T, pid int, tree []procStat) {
	t.Helper()
	for _, p := range tree {
		if same(p) {
			t.Errorf("process %d of replica %d still runs after Down", p.PID, pid)
		}
	}
	tab, err := readProcTable("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range tab.groups[pid] {
		if tab.byPID[q].State != "Z" {
			t.Errorf("process %d is still in the process group %d after Down", q, pid)
		}
	}
}

// trees reads the processes of every replica of st.
func trees(t *testing.T, st *Stack) map[int][]procStat {
	tab, err := readProcTable("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int][]procStat{}
	for _, r := range st.replicas {
		out[r.cmd.Process.Pid] = tab.tree(r.cmd.Process.Pid, r.cgroupProcs())
	}
	return out
}

// TestCommandOnlyService runs a service that is not Go, given only by its command
// (nothing is prepared): two replicas of Python's http.server under a memory
// limit, in the command's folder, with load against each, telemetry per replica,
// and a teardown that leaves no process.
func TestCommandOnlyService(t *testing.T) {
	needPython(t)
	for _, noCgroups := range []bool{false, true} {
		t.Run(map[bool]string{false: "cgroups where permitted", true: "advisory"}[noCgroups], func(t *testing.T) {
			p := newPlatform(t, Options{NoCgroups: noCgroups})
			if err := p.Prepare(t.Context(), platform.Build{}); err != nil {
				t.Fatal(err)
			}
			s := spec(t, 2)
			s.WorkDir = t.TempDir()
			if err := os.WriteFile(filepath.Join(s.WorkDir, "hello.txt"), []byte("hello from the work dir\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s.Command = []string{python, "-m", "http.server", "{{.Port}}", "--bind", "127.0.0.1"}
			s.Health, s.MemoryBytes, s.CPUs = "/", 64<<20, 1
			st := up(t, p, s)
			cg, _ := p.cgroups()
			if st.Advisory() != (cg == nil) {
				t.Errorf("Advisory() = %v with cgroups %v", st.Advisory(), cg)
			}
			for i, r := range st.replicas {
				if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.cmd.Process.Pid)); !strings.Contains(exe, "python") {
					t.Errorf("replica %d runs %s, want python", i, exe)
				}
				if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", r.cmd.Process.Pid)); cwd != s.WorkDir {
					t.Errorf("replica %d runs in %s, want the work dir %s", i, cwd, s.WorkDir)
				}
			}
			for _, ep := range st.Endpoints() {
				get(t, ep.URL, "/hello.txt", 200, "hello from the work dir")
			}
			samples, err := st.Sample(t.Context())
			if err != nil || len(samples) != 2 {
				t.Fatalf("Sample: %+v, err %v; want 2 samples", samples, err)
			}
			for i, x := range samples {
				if x.Container != st.replicas[i].name || x.MemBytes <= 0 || x.MemLimitBytes != 64<<20 || x.CPUPct <= 0 || x.PIDs == 0 {
					t.Errorf("sample %+v: want replica %s's memory, its 64 MiB limit, CPU and threads", x, st.replicas[i].name)
				}
			}
			before := trees(t, st)
			if err := st.Down(t.Context()); err != nil {
				t.Fatal(err)
			}
			for pid, tree := range before {
				gone(t, pid, tree)
			}
			if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
				t.Errorf("processes %v left", left)
			}
		})
	}
}

// TestCommandChildrenKilled: a command that starts children, one of which leaves
// the process group (setsid), is sampled and torn down as a whole.
func TestCommandChildrenKilled(t *testing.T) {
	needPython(t)
	for _, noCgroups := range []bool{false, true} {
		t.Run(map[bool]string{false: "cgroups where permitted", true: "advisory"}[noCgroups], func(t *testing.T) {
			p := newPlatform(t, Options{NoCgroups: noCgroups, StopTimeout: time.Second})
			s := spec(t, 1)
			s.Command = []string{"/bin/sh", "-c", "setsid sleep 300 & sleep 301 & exec " + python + " -m http.server {{.Port}} --bind 127.0.0.1"}
			s.Health = "/"
			st := up(t, p, s)
			pid := st.PIDs()[0]
			var sleeps []procStat
			for deadline := time.Now().Add(10 * time.Second); len(sleeps) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				sleeps = sleeps[:0]
				for _, q := range trees(t, st)[pid] {
					if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", q.PID)); strings.TrimSpace(string(comm)) == "sleep" {
						sleeps = append(sleeps, q)
					}
				}
			}
			if len(sleeps) != 2 {
				t.Fatalf("found %d sleep children of the command, want 2: %+v", len(sleeps), trees(t, st))
			}
			if sleeps[0].PGID == sleeps[1].PGID {
				t.Errorf("both children in group %d: setsid did not move one out", sleeps[0].PGID)
			}
			samples, err := st.Sample(t.Context())
			if err != nil || len(samples) != 1 || samples[0].PIDs < 3 {
				t.Errorf("samples %+v (err %v): want the threads of python and both children", samples, err)
			}
			if err := st.Down(t.Context()); err != nil {
				t.Fatal(err)
			}
			gone(t, pid, sleeps)
		})
	}
}

// TestCommandOOM mirrors TestCgroupLimits for a Python service: a child process
// (a worker) that exceeds the limit is an OOM kill while the replica runs on, and
// the main process exceeding it is an OOM kill and an exit with 137.
func TestCommandOOM(t *testing.T) {
	needPython(t)
	p := newPlatform(t, Options{})
	if cg, why := p.cgroups(); cg == nil {
		t.Skipf("cgroups cannot be used here: %s", why)
	}
	hog, err := filepath.Abs("testdata/hog.py")
	if err != nil {
		t.Fatal(err)
	}
	s := spec(t, 1)
	s.Command, s.MemoryBytes = []string{python, hog, "{{.Port}}"}, 64<<20
	st := up(t, p, s)
	url := st.Endpoints()[0].URL
	get(t, url, "/worker", 1, "ok")
	if _, err := st.Sample(t.Context()); err != nil {
		t.Fatal(err)
	}
	count := func(kind string) (n int) {
		for _, ev := range st.Events() {
			if ev.Kind == kind {
				n++
			}
		}
		return n
	}
	if count(result.EventOOM) != 1 || count(result.EventDie) != 0 {
		t.Fatalf("events after the worker's OOM kill %+v: want one oom and no die", st.Events())
	}
	get(t, url, "/health", 1, "ok")
	http.Get(url + "/alloc") // the replica dies answering
	select {
	case <-st.replicas[0].done:
	case <-time.After(30 * time.Second):
		t.Fatal("the replica is still running after allocating 200 MiB over its 64 MiB limit")
	}
	var die bool
	for _, ev := range st.Events() {
		die = die || (ev.Kind == result.EventDie && ev.ExitCode != nil && *ev.ExitCode == 137)
	}
	if count(result.EventOOM) != 2 || !die {
		t.Errorf("events %+v: want a second oom and a die with 137", st.Events())
	}
	if err := st.Down(context.Background()); err != nil {
		t.Error(err)
	}
}
