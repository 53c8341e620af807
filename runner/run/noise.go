package run

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// Limits above which a run's host is named unreliable.
const (
	// MaxStealPct is the CPU steal share above which the hypervisor is named.
	MaxStealPct = 5
)

// hostSnapshot is /proc/loadavg and the first line of /proc/stat at one time.
type hostSnapshot struct {
	load        float64
	busy, steal uint64
	total       uint64
	ok          bool
}

// readHost reads a snapshot from root (normally "/proc"); ok is false where
// /proc is not Linux's.
func readHost(root string) hostSnapshot {
	var s hostSnapshot
	la, err := os.ReadFile(root + "/loadavg")
	if err != nil {
		return s
	}
	if f := strings.Fields(string(la)); len(f) > 0 {
		s.load, _ = strconv.ParseFloat(f[0], 64)
	}
	st, err := os.ReadFile(root + "/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(st), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice]
	var v [8]uint64
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
		s.total += v[i]
	}
	s.busy = v[0] + v[1] + v[2] + v[5] + v[6]
	s.steal = v[7]
	s.ok = true
	return s
}

// hostNoise is the noise between two snapshots, with warnings; nil without /proc.
func hostNoise(start, end hostSnapshot, cpus int) *result.HostNoise {
	if !start.ok || !end.ok {
		return nil
	}
	n := &result.HostNoise{LoadStart: start.load, LoadEnd: end.load}
	if d := end.total - start.total; end.total > start.total {
		n.BusyPct = 100 * float64(end.busy-start.busy) / float64(d)
		n.StealPct = 100 * float64(end.steal-start.steal) / float64(d)
	}
	if l := max(n.LoadStart, n.LoadEnd); l > float64(cpus) {
		n.Warnings = append(n.Warnings, fmt.Sprintf("the host's load average reached %.1f on %d CPUs: other work competed with the service and the load generator", l, cpus))
	}
	if n.StealPct > MaxStealPct {
		n.Warnings = append(n.Warnings, fmt.Sprintf("the hypervisor stole %.1f%% of the CPU time: a virtual machine sharing its host measures noise", n.StealPct))
	}
	return n
}

// numCPU is the host's CPU count (a variable for tests).
var numCPU = runtime.NumCPU
