package local

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is 100 on
// every Linux architecture Go supports.
const clockTick = 100

// procStat is what /proc/PID/stat and /proc/PID/status tell about a process.
type procStat struct {
	// CPU is user plus system time used.
	CPU time.Duration
	// RSSBytes is the resident set size.
	RSSBytes int64
	// Threads is the number of threads (what Docker counts as PIDs).
	Threads uint64
}

// readProc reads process pid's counters under procRoot (normally /proc).
func readProc(procRoot string, pid int) (procStat, error) {
	var ps procStat
	stat, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return ps, err
	}
	if ps.CPU, err = parseStatCPU(string(stat)); err != nil {
		return ps, fmt.Errorf("%s/%d/stat: %w", procRoot, pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("%s/%d/status", procRoot, pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			ps.RSSBytes = kb << 10
		case "Threads":
			ps.Threads, _ = strconv.ParseUint(f[0], 10, 64)
		}
	}
	return ps, nil
}

// parseStatCPU returns utime+stime from a /proc/PID/stat line. The command name
// (field 2) may contain spaces and parentheses, so fields are counted after the
// last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// After ')': state(3) ppid(4) ... utime is field 14, stime 15 -> index 11, 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}
