package spec

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
)

// Host is the machine scenarios are checked against.
type Host struct {
	// CPUs is the number of CPUs.
	CPUs int
	// MemoryBytes is the total memory.
	MemoryBytes int64
}

// ThisHost reads this machine's CPUs (runtime.NumCPU) and memory (/proc/meminfo).
func ThisHost() (Host, error) {
	h := Host{CPUs: runtime.NumCPU()}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return h, fmt.Errorf("cannot read this host's memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				break
			}
			h.MemoryBytes = kb << 10
			return h, nil
		}
	}
	return h, fmt.Errorf("cannot read this host's memory: no MemTotal in /proc/meminfo")
}

// Fit says what of the scenario does not fit host h: the replicas' memory limits
// against its memory, their CPU limits against its CPUs, a cpuset naming CPUs it
// lacks, and closed-model users that cannot all start within warm-up and duration.
// It returns nil when everything fits; unlimited resources always fit.
func (s Scenario) Fit(h Host) []string {
	var problems []string
	if mem := int64(s.Replicas) * s.MemoryBytes; mem > h.MemoryBytes {
		problems = append(problems, fmt.Sprintf("memory %s > host %s", units.BytesSize(float64(mem)), units.BytesSize(float64(h.MemoryBytes))))
	}
	if cpus := float64(s.Replicas) * s.CPUs; cpus > float64(h.CPUs) {
		problems = append(problems, fmt.Sprintf("cpus %s > host %d", num(cpus), h.CPUs))
	}
	if s.CPUSet != "" {
		if hi := maxCPU(s.CPUSet); hi >= h.CPUs {
			problems = append(problems, fmt.Sprintf("cpuset %s names CPU %d, host has 0-%d", s.CPUSet, hi, h.CPUs-1))
		}
	}
	if s.Load.Closed() && s.Load.SpawnTime() > s.Load.Warmup+s.Load.Duration {
		problems = append(problems, fmt.Sprintf("spawning takes %s > warmup+duration", s.Load.SpawnTime().Round(time.Second)))
	}
	return problems
}

// maxCPU is the highest CPU number of a validated cpuset such as "0-1,3".
func maxCPU(set string) int {
	hi := 0
	for _, part := range strings.Split(set, ",") {
		for _, n := range strings.Split(part, "-") {
			if v, err := strconv.Atoi(n); err == nil && v > hi {
				hi = v
			}
		}
	}
	return hi
}
