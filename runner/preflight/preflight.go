package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"github.com/infergrid/runner/runner/result"
)

// The load generator's memory allowance: a base plus a share per closed-model user
// or per request/s of an open-model rate (each may hold a request in flight).
const (
	GeneratorBaseBytes    = 200 << 20
	GeneratorPerUserBytes = 30 << 10
)

// Host is what a scenario must fit in.
type Host struct {
	// CPUs is the number of CPUs this process may use.
	CPUs int
	// MemTotalBytes is the machine's memory.
	MemTotalBytes int64
	// MemAvailableBytes is the kernel's estimate of memory available to new work.
	MemAvailableBytes int64
}

// With returns h as a plan for another host sees it (runner plan --host-cpus
// and --host-memory): with cpus CPUs unless cpus is 0, and memory (a size such
// as 16G) available unless memory is empty.
func (h Host) With(cpus int, memory string) (Host, error) {
	if cpus != 0 {
		if cpus < 0 {
			return h, errors.New("--host-cpus must be 1 or more")
		}
		h.CPUs = cpus
	}
	if memory != "" {
		v, err := units.RAMInBytes(memory)
		if err != nil || v <= 0 {
			return h, fmt.Errorf("--host-memory %q is not a size such as 16G", memory)
		}
		h.MemAvailableBytes = v
	}
	return h, nil
}

// ReadHost reads this machine's CPUs, MemTotal and MemAvailable (from /proc/meminfo).
func ReadHost() (Host, error) {
	h := Host{CPUs: runtime.NumCPU()}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return h, fmt.Errorf("cannot read available memory: %w", err)
	}
	defer f.Close()
	fields := map[string]*int64{"MemTotal": &h.MemTotalBytes, "MemAvailable": &h.MemAvailableBytes}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		dst := fields[k]
		if !ok || dst == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return h, fmt.Errorf("/proc/meminfo: %s: %w", k, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return h, err
	}
	if h.MemAvailableBytes == 0 {
		return h, errors.New("/proc/meminfo has no MemAvailable")
	}
	return h, nil
}

// Options change how problems count.
type Options struct {
	// AllowOvercommit turns resource problems into warnings.
	AllowOvercommit bool
}

// Problem is one reason a scenario may not fit.
type Problem struct {
	// Scenario is the scenario ID; empty for host-wide problems.
	Scenario string `json:"scenario,omitempty"`
	// Kind is memory, cpu, cpuset, spawn or port.
	Kind string `json:"kind"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
	// Short is the problem in a few words, for tables: "memory 20GiB > 16GiB".
	Short string `json:"short"`
	// Warning is true when the problem does not stop the run.
	Warning bool `json:"warning"`
}

func (p Problem) String() string {
	level := "error"
	if p.Warning {
		level = "warning"
	}
	if p.Scenario == "" {
		return fmt.Sprintf("%s: %s", level, p.Message)
	}
	return fmt.Sprintf("%s: scenario %s: %s", level, p.Scenario, p.Message)
}

// Problems is the outcome of the checks.
type Problems []Problem

// Err joins the problems that are not warnings; nil when there are none.
func (ps Problems) Err() error {
	var errs []error
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, errors.New(p.String()))
		}
	}
	return errors.Join(errs...)
}

// Warnings returns the problems that do not stop the run.
func (ps Problems) Warnings() []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// GeneratorBytes is the memory allowance of the load generator for s.
func GeneratorBytes(s result.Scenario) int64 {
	return GeneratorBaseBytes + int64(max(float64(s.Users), PeakRate(s.Rate), PeakRate(s.Search)))*GeneratorPerUserBytes
}

// PeakRate returns the highest requests per second of an open-model rate as
// written ("200/s", "10/s..2000/s", "600/m"); 0 when empty or unreadable.
func PeakRate(rate string) float64 {
	peak := 0.0
	for _, part := range strings.Split(rate, "..") {
		n, unit, ok := strings.Cut(strings.TrimSpace(part), "/")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(n, 64)
		if err != nil {
			continue
		}
		switch strings.TrimLeft(unit, "1") {
		case "s":
		case "ms":
			v *= 1000
		case "m":
			v /= 60
		case "h":
			v /= 3600
		default:
			continue
		}
		peak = max(peak, v)
	}
	return peak
}

// Check tells, for every scenario, what of it does not fit host h:
//   - memory: its replicas' limits plus the load generator's allowance against the
//     available memory (an error: an over-committed host collapses, as the
//     workshop's did; a warning with AllowOvercommit);
//   - cpu: its replicas' CPU limits against the host's CPUs (a warning: the
//     replicas then compete for CPUs, which is what such a scenario measures);
//   - cpuset: CPUs the host lacks (an error: Docker would refuse it);
//   - spawn: closed-model users that cannot all start within warm-up and duration
//     (a warning).
//
// Unlimited memory or CPUs are not checked.
func Check(h Host, scenarios []result.Scenario, o Options) Problems {
	var ps Problems
	add := func(s result.Scenario, kind string, warning bool, short, msg string) {
		ps = append(ps, Problem{Scenario: s.ID, Kind: kind, Short: short, Message: msg, Warning: warning})
	}
	for _, s := range scenarios {
		replicas := max(s.Replicas, 1)
		if s.MemoryBytes > 0 && h.MemAvailableBytes > 0 {
			gen := GeneratorBytes(s)
			need := int64(replicas)*s.MemoryBytes + s.BalancerMemoryBytes + gen
			if need > h.MemAvailableBytes {
				proxy := ""
				if s.BalancerMemoryBytes > 0 {
					proxy = fmt.Sprintf(" + %s for the proxy", size(s.BalancerMemoryBytes))
				}
				add(s, "memory", o.AllowOvercommit, fmt.Sprintf("memory %s > %s", size(need), size(h.MemAvailableBytes)),
					fmt.Sprintf("needs %s (%d x %s for the service%s + %s for the load generator) but this host has %s available; lower memory or replicas, or allow overcommit",
						size(need), replicas, size(s.MemoryBytes), proxy, size(gen), size(h.MemAvailableBytes)))
			}
		}
		if s.CPUs > 0 && h.CPUs > 0 {
			if need := float64(replicas)*s.CPUs + s.BalancerCPUs; need > float64(h.CPUs)+1e-9 {
				proxy := ""
				if s.BalancerCPUs > 0 {
					proxy = fmt.Sprintf(" + %g for the proxy", s.BalancerCPUs)
				}
				add(s, "cpu", true, fmt.Sprintf("cpus %g > %d, shared", need, h.CPUs),
					fmt.Sprintf("asks for %g CPUs (%d x %g%s) on a host with %d: the replicas will compete for CPUs, and with the load generator",
						need, replicas, s.CPUs, proxy, h.CPUs))
			}
		}
		if s.CPUSet != "" && h.CPUs > 0 {
			if hi := maxCPU(s.CPUSet); hi >= h.CPUs {
				add(s, "cpuset", false, fmt.Sprintf("cpuset %s > CPU %d", s.CPUSet, h.CPUs-1),
					fmt.Sprintf("cpuset %s names CPU %d but this host has CPUs 0-%d", s.CPUSet, hi, h.CPUs-1))
			}
		}
		if s.Users > 0 && s.SpawnRate > 0 {
			spawn := time.Duration(float64(s.Users) / s.SpawnRate * float64(time.Second))
			if spawn > s.Warmup+s.Duration {
				add(s, "spawn", true, fmt.Sprintf("spawn %s > run %s", spawn.Round(time.Second), s.Warmup+s.Duration),
					fmt.Sprintf("starting %d users at %g/s takes %s, longer than warm-up + duration %s: not every user will run", s.Users, s.SpawnRate, spawn.Round(time.Second), s.Warmup+s.Duration))
			}
		}
	}
	return ps
}

// maxCPU is the highest CPU number of a cpuset such as "0-1,3".
func maxCPU(set string) int {
	hi := 0
	for _, part := range strings.Split(set, ",") {
		for _, n := range strings.Split(part, "-") {
			if v, err := strconv.Atoi(strings.TrimSpace(n)); err == nil && v > hi {
				hi = v
			}
		}
	}
	return hi
}

func size(b int64) string { return units.BytesSize(float64(b)) }

// PortsFree reports each of ports that cannot be bound on all interfaces (as
// Docker publishes them) because something else holds it.
func PortsFree(ports []int) Problems {
	var ps Problems
	for _, p := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			ps = append(ps, Problem{Kind: "port", Short: fmt.Sprintf("port %d taken", p), Message: fmt.Sprintf("port %d is taken: %v; free it or choose another port range", p, errors.Unwrap(err))})
			continue
		}
		l.Close()
	}
	return ps
}
