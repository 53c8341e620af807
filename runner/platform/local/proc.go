package local

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is 100 on
// every Linux architecture Go supports.
const clockTick = 100

// procStat is what /proc/PID/stat tells about a process.
type procStat struct {
	PID, PPID, PGID int
	// State is R, S, D, Z, ... (Z: a zombie, exited but not waited for).
	State string
	// CPU is user plus system time used by the process and by the children it
	// has waited for, so that a tree's sum does not drop when a child exits.
	CPU time.Duration
	// Start is when the process started, in clock ticks after boot: with PID it
	// names one process, as PIDs are reused.
	Start uint64
	// RSSBytes is the resident set size.
	RSSBytes int64
	// Threads is the number of threads (what Docker counts as PIDs).
	Threads uint64
}

// readProc reads process pid's counters under procRoot (normally /proc).
func readProc(procRoot string, pid int) (procStat, error) {
	stat, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return procStat{}, err
	}
	ps, err := parseStat(string(stat))
	if err != nil {
		return ps, fmt.Errorf("%s/%d/stat: %w", procRoot, pid, err)
	}
	return ps, nil
}

// parseStat parses a /proc/PID/stat line. The command name (field 2) may contain
// spaces and parentheses, so fields are counted after the last ')'.
func parseStat(stat string) (procStat, error) {
	bad := fmt.Errorf("malformed stat %q", stat)
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return procStat{}, bad
	}
	pid, err := strconv.Atoi(strings.TrimSpace(stat[:open]))
	f := strings.Fields(stat[end+1:])
	// After ')': state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16)
	// cstime(17) ... num_threads(20) itrealvalue(21) starttime(22) vsize(23)
	// rss(24): field n is f[n-3].
	if err != nil || len(f) < 22 {
		return procStat{}, bad
	}
	var v [25]int64
	for _, n := range []int{4, 5, 14, 15, 16, 17, 20, 22, 24} {
		if v[n], err = strconv.ParseInt(f[n-3], 10, 64); err != nil || v[n] < 0 {
			return procStat{}, bad
		}
	}
	return procStat{PID: pid, State: f[0], PPID: int(v[4]), PGID: int(v[5]),
		CPU:   time.Duration(v[14]+v[15]+v[16]+v[17]) * time.Second / clockTick,
		Start: uint64(v[22]), Threads: uint64(v[20]), RSSBytes: v[24] * int64(os.Getpagesize())}, nil
}

// procTable is every process of the host at one moment, from one scan of /proc.
type procTable struct {
	byPID    map[int]procStat
	children map[int][]int
	groups   map[int][]int
}

// readProcTable scans procRoot. Processes that exit during the scan are skipped.
func readProcTable(procRoot string) (*procTable, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, err
	}
	t := &procTable{byPID: map[int]procStat{}, children: map[int][]int{}, groups: map[int][]int{}}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ps, err := readProc(procRoot, pid)
		if err != nil {
			continue
		}
		t.byPID[pid] = ps
		t.children[ps.PPID] = append(t.children[ps.PPID], pid)
		t.groups[ps.PGID] = append(t.groups[ps.PGID], pid)
	}
	return t, nil
}

// tree returns the processes of a replica whose main process is pid: pid itself,
// its descendants, the members of its process group (pid is the group's leader,
// and the group outlives it) and the processes in extra (its cgroup's), each
// once, in PID order. Processes that have gone are not in it.
func (t *procTable) tree(pid int, extra []int) []procStat {
	seen := map[int]bool{}
	var out []procStat
	var walk func(int)
	walk = func(p int) {
		ps, ok := t.byPID[p]
		if seen[p] || !ok {
			return
		}
		seen[p] = true
		out = append(out, ps)
		for _, c := range t.children[p] {
			walk(c)
		}
	}
	walk(pid)
	for _, p := range t.groups[pid] {
		walk(p)
	}
	for _, p := range extra {
		walk(p)
	}
	slices.SortFunc(out, func(a, b procStat) int { return a.PID - b.PID })
	return out
}

// signalTree sends sig to r's process group, to the processes of tree (read
// earlier) that are still the same processes, and to those in r's cgroup now.
func signalTree(r *replica, tree []procStat, sig syscall.Signal) {
	_ = syscall.Kill(-r.cmd.Process.Pid, sig)
	for _, p := range tree {
		if same(p) {
			_ = syscall.Kill(p.PID, sig)
		}
	}
	for _, pid := range r.cgroupProcs() {
		_ = syscall.Kill(pid, sig)
	}
}

// same reports whether p is still running (not a zombie) under its PID.
func same(p procStat) bool {
	now, err := readProc("/proc", p.PID)
	return err == nil && now.Start == p.Start && now.State != "Z"
}

// killRest kills, once r's main process has exited, what is left of its tree
// (read before, as tree): the members of its process group, the processes in its
// cgroup, and those of tree still running. It waits until none is, at most
// timeout.
func killRest(r *replica, tree []procStat, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		if tab, err := readProcTable("/proc"); err == nil {
			for _, pid := range tab.groups[r.cmd.Process.Pid] {
				if tab.byPID[pid].State != "Z" {
					left = append(left, pid)
				}
			}
		}
		for _, p := range tree {
			if same(p) {
				left = append(left, p.PID)
			}
		}
		for _, pid := range r.cgroupProcs() {
			if st, err := readProcState("/proc", pid); err == nil && st != "Z" {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			slices.Sort(left)
			return fmt.Errorf("processes %v of replica %s did not exit after SIGKILL", slices.Compact(left), r.name)
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
