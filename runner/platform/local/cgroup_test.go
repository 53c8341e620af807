package local

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCgroupFiles checks, on a fake tree, what is written for each cgroup version
// and how the counters are read back.
func TestCgroupFiles(t *testing.T) {
	tests := []struct {
		version int
		self    string
		// dirs to create before: the v1 controller mounts and our own group.
		pre        []string
		wantFiles  map[string]string
		stat       [2]string // memory.stat name and content
		usage      [2]string
		oom        [2]string
		wantUsage  int64
		wantLimit  int64
		wantOOMs   int64
		limitFile  string
		limitValue string
	}{
		{
			version: 2, self: "0::/user.slice/session-1.scope\n",
			wantFiles: map[string]string{
				"cgroup.subtree_control":    "+memory +cpu",
				"rg/cgroup.subtree_control": "+memory +cpu",
				"rg/r1/memory.max":          "33554432",
				"rg/r1/memory.swap.max":     "0",
				"rg/r1/cpu.max":             "150000 100000",
				"rg/r1/cgroup.procs":        "4242",
			},
			usage: [2]string{"rg/r1/memory.current", "1000\n"}, stat: [2]string{"rg/r1/memory.stat", "anon 800\ninactive_file 300\n"},
			oom: [2]string{"rg/r1/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"}, limitFile: "rg/r1/memory.max", limitValue: "33554432\n",
			wantUsage: 700, wantLimit: 33554432, wantOOMs: 1,
		},
		{
			version: 1, self: "9:name=systemd:/\n4:memory:/jail/a\n1:cpu,cpuacct:/\n",
			pre: []string{"memory/jail/a", "cpu"},
			wantFiles: map[string]string{
				"memory/jail/a/rg/r1/memory.limit_in_bytes": "33554432",
				"cpu/rg/r1/cpu.cfs_period_us":               "100000",
				"cpu/rg/r1/cpu.cfs_quota_us":                "150000",
				"memory/jail/a/rg/r1/cgroup.procs":          "4242",
				"cpu/rg/r1/cgroup.procs":                    "4242",
			},
			usage: [2]string{"memory/jail/a/rg/r1/memory.usage_in_bytes", "1000\n"}, stat: [2]string{"memory/jail/a/rg/r1/memory.stat", "cache 500\ntotal_inactive_file 100\n"},
			oom: [2]string{"memory/jail/a/rg/r1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"}, limitFile: "memory/jail/a/rg/r1/memory.limit_in_bytes", limitValue: "9223372036854771712\n",
			wantUsage: 900, wantLimit: 0, wantOOMs: 2,
		},
	}
	for _, tt := range tests {
		t.Run(map[int]string{1: "v1", 2: "v2"}[tt.version], func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tt.pre {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			h, err := newCgroupHost(tt.version, root, tt.self, "rg")
			if err != nil {
				t.Fatal(err)
			}
			g, err := h.create("r1", 1.5, 32<<20)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.add(4242); err != nil {
				t.Fatal(err)
			}
			for file, want := range tt.wantFiles {
				if got, err := os.ReadFile(filepath.Join(root, file)); err != nil || string(got) != want {
					t.Errorf("%s = %q (err %v), want %q", file, got, err, want)
				}
			}
			for _, f := range [][2]string{tt.usage, tt.stat, tt.oom, {tt.limitFile, tt.limitValue}} {
				os.WriteFile(filepath.Join(root, f[0]), []byte(f[1]), 0o644)
			}
			usage, limit, err := g.memory()
			if err != nil || usage != tt.wantUsage || limit != tt.wantLimit {
				t.Errorf("memory() = %d, %d, %v; want %d, %d", usage, limit, err, tt.wantUsage, tt.wantLimit)
			}
			if n := g.oomKills(); n != tt.wantOOMs {
				t.Errorf("oomKills() = %d, want %d", n, tt.wantOOMs)
			}
			// A real cgroupfs has no regular files to delete; empty the fake dirs.
			for _, d := range uniq(g.memDir, g.cpuDir) {
				entries, _ := os.ReadDir(d)
				for _, e := range entries {
					os.Remove(filepath.Join(d, e.Name()))
				}
			}
			if err := g.remove(); err != nil {
				t.Fatal(err)
			}
			for _, d := range uniq(h.memBase, h.cpuBase) {
				entries, _ := os.ReadDir(d)
				for _, e := range entries {
					os.Remove(filepath.Join(d, e.Name()))
				}
			}
			if err := h.close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCgroupV2Delegated: where the root refuses (not root), the parent group goes
// next to our own, as under a systemd user delegation.
func TestCgroupV2Delegated(t *testing.T) {
	root := t.TempDir()
	// A folder where the file should be: writing the root's subtree_control fails.
	os.Mkdir(filepath.Join(root, "cgroup.subtree_control"), 0o755)
	userDir := filepath.Join(root, "user.slice", "user@1000.service")
	os.MkdirAll(filepath.Join(userDir, "app.slice"), 0o755)
	os.WriteFile(filepath.Join(userDir, "cgroup.subtree_control"), []byte("cpu memory pids\n"), 0o644)
	h, err := newCgroupHost(2, root, "0::/user.slice/user@1000.service/app.slice\n", "rg")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(userDir, "rg"); h.memBase != want || h.cpuBase != want {
		t.Fatalf("parent group %s, want %s", h.memBase, want)
	}
	if got, _ := os.ReadFile(filepath.Join(userDir, "cgroup.subtree_control")); string(got) != "cpu memory pids\n" {
		t.Errorf("already delegated controllers rewritten: %q", got)
	}
	os.Remove(filepath.Join(h.memBase, "cgroup.subtree_control"))
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, cgroupPrefix+"999999999")
	live := filepath.Join(dir, fmt.Sprintf("%s%d", cgroupPrefix, os.Getppid()))
	other := filepath.Join(dir, "someone-else")
	for _, d := range []string{filepath.Join(dead, "proj-1"), live, other} {
		os.MkdirAll(d, 0o755)
	}
	removeStale(dir)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("group of a dead runner kept: %v", err)
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}

func TestDetectCgroupsRefusesPlainDir(t *testing.T) {
	_, err := detectCgroups(t.TempDir(), "", "x")
	if err == nil || !strings.Contains(err.Error(), "neither cgroup v2 nor") {
		t.Fatalf("detectCgroups on a plain folder: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	page := int64(os.Getpagesize())
	tests := []struct {
		name, stat string
		want       procStat
		err        bool
	}{
		{name: "plain", stat: "42 (app) S 1 40 40 0 -1 4194560 100 0 0 0 150 50 30 20 20 0 8 0 1234 0 25 0",
			want: procStat{PID: 42, PPID: 1, PGID: 40, State: "S", CPU: 2500 * time.Millisecond, Start: 1234, Threads: 8, RSSBytes: 25 * page}},
		{name: "name with spaces and parens", stat: "7 (my (odd) app) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 0",
			want: procStat{PID: 7, PPID: 1, PGID: 7, State: "R", CPU: 70 * time.Millisecond, Start: 99, Threads: 1}},
		{name: "truncated", stat: "7 (x) R 1 2", err: true},
		{name: "not a number", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 4 0 0 20 0 1 0 99 0 0", err: true},
		{name: "no pid", stat: "(x) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 0", err: true},
		{name: "no paren", stat: "garbage", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.stat)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseStat = %+v, %v; want %+v, err %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestReadProcSelf(t *testing.T) {
	ps, err := readProc("/proc", os.Getpid())
	if err != nil || ps.PID != os.Getpid() || ps.PPID != os.Getppid() || ps.RSSBytes <= 0 || ps.Threads == 0 || ps.Start == 0 {
		t.Fatalf("readProc(self) = %+v, %v", ps, err)
	}
}

// TestProcTableTree: a process's tree holds its descendants, its group and the
// extra PIDs (its cgroup's), and nothing else.
func TestProcTableTree(t *testing.T) {
	tab := &procTable{byPID: map[int]procStat{}, children: map[int][]int{}, groups: map[int][]int{}}
	for _, p := range []procStat{
		{PID: 10, PPID: 1, PGID: 10}, {PID: 11, PPID: 10, PGID: 10}, {PID: 12, PPID: 11, PGID: 12}, // 12 left the group
		{PID: 13, PPID: 1, PGID: 10},                                // orphaned, still in the group
		{PID: 14, PPID: 1, PGID: 14}, {PID: 15, PPID: 14, PGID: 14}, // escaped both: only the cgroup knows it
		{PID: 20, PPID: 1, PGID: 20}, {PID: 21, PPID: 20, PGID: 20}, // someone else's
	} {
		tab.byPID[p.PID] = p
		tab.children[p.PPID] = append(tab.children[p.PPID], p.PID)
		tab.groups[p.PGID] = append(tab.groups[p.PGID], p.PID)
	}
	pids := func(ps []procStat) (out []int) {
		for _, p := range ps {
			out = append(out, p.PID)
		}
		return out
	}
	if got := pids(tab.tree(10, nil)); !slices.Equal(got, []int{10, 11, 12, 13}) {
		t.Errorf("tree(10) = %v, want 10 11 12 13", got)
	}
	if got := pids(tab.tree(10, []int{14, 99})); !slices.Equal(got, []int{10, 11, 12, 13, 14, 15}) {
		t.Errorf("tree(10, cgroup 14 99) = %v, want 10..15 (99 is gone)", got)
	}
	if got := tab.tree(99, nil); len(got) != 0 {
		t.Errorf("tree of a gone process = %v", got)
	}
}

func TestLogSinkTail(t *testing.T) {
	l := newLogSink(nil, 3)
	for _, chunk := range []string{"a\nb", "\nc\nd\n", "e"} {
		l.Write([]byte(chunk))
	}
	if got := l.tail(); got != "c\nd\ne" {
		t.Errorf("tail = %q, want the last 3 lines", got)
	}
}
