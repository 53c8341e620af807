package load

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// cpuTime returns the user+system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's peak-RSS mark of this process (Linux
// /proc/self/clear_refs), so peakRSS covers one run. It reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the peak resident memory: VmHWM when the kernel reports it,
// else getrusage's lifetime maximum.
func peakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmHWM:" {
				if kb, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}

// fdReserve is how many file descriptors fdBudget leaves for the rest of the
// process (results file, logs, telemetry, the platform's clients).
const fdReserve = 256

// fdBudget returns how many connections each of n endpoints may hold within
// the soft file descriptor limit (which Go raises to the hard limit at start),
// or 0 if the limit is unknown.
func fdBudget(n int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 || n == 0 {
		return 0
	}
	if lim.Cur > 1<<30 {
		return 1 << 30 / n
	}
	return max(int(lim.Cur)-fdReserve, n) / n
}
