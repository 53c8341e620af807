package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Load models.
const (
	modelClosed = "closed"
	modelOpen   = "open"
)

// level is a scenario's load level: its model (closed, with its think time, or
// open), a number to order levels by
// (users for the closed model, requested requests per second for the open one),
// and a label such as "500 users, spawn 50/s" or "200/s".
type level struct {
	Model string
	Value float64
	Label string
}

// loadLevel describes the load of a scenario.
func loadLevel(s result.Scenario, l result.Load) level {
	if s.Search != "" {
		from, _, _ := strings.Cut(s.Search, "..")
		return level{Model: modelSearch, Value: parseRate(from), Label: "search " + s.Search}
	}
	if s.Users > 0 {
		lb := fmt.Sprintf("%d users, spawn %s/s", s.Users, fnum(s.SpawnRate))
		model := modelClosed
		if s.Think != "" && s.Think != "0s" && s.Think != "0" {
			// Users with different think times are different loads: keep them apart.
			lb += ", think " + s.Think
			model += ", think " + s.Think
		}
		return level{Model: model, Value: float64(s.Users), Label: lb}
	}
	v := l.RequestedRPS
	if v == 0 {
		v = parseRate(s.Rate)
	}
	lb := s.Rate
	if lb == "" {
		lb = "?"
	}
	return level{Model: modelOpen, Value: v, Label: lb}
}

// modelRank orders closed models before the open one, and capacity searches last.
func modelRank(model string) int {
	switch model {
	case modelOpen:
		return 1
	case modelSearch:
		return 2
	}
	return 0
}

// parseRate reads "200/s", "12000/m" or a ramp "10/s..2000/s" (its mean) as
// requests per second; 0 when it cannot.
func parseRate(s string) float64 {
	parts := strings.Split(s, "..")
	var sum float64
	for _, p := range parts {
		num, unit, _ := strings.Cut(strings.TrimSpace(p), "/")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil {
			return 0
		}
		switch strings.TrimSpace(unit) {
		case "", "s", "1s":
		case "m", "1m":
			v /= 60
		case "h", "1h":
			v /= 3600
		default:
			d, err := time.ParseDuration(strings.TrimSpace(unit))
			if err != nil || d <= 0 {
				return 0
			}
			v /= d.Seconds()
		}
		sum += v
	}
	return sum / float64(len(parts))
}

// config is the resource configuration of a scenario, the rows of a block table.
type config struct {
	Replicas    int
	CPUs        float64
	MemoryBytes int64
	Balancer    string
}

func configOf(s result.Scenario) config {
	return config{Replicas: s.Replicas, CPUs: s.CPUs, MemoryBytes: s.MemoryBytes, Balancer: s.Balancer}
}

// String is e.g. "2 replicas × 1.5 CPUs × 1000MiB, balancer client".
func (c config) String() string {
	rep := "1 replica"
	if c.Replicas != 1 {
		rep = fmt.Sprintf("%d replicas", c.Replicas)
	}
	return fmt.Sprintf("%s × %s × %s, balancer %s", rep, cpusLabel(c.CPUs), memLabel(c.MemoryBytes), c.Balancer)
}

// totalCPUs is the CPU limit of all replicas, +Inf when unlimited.
func (c config) totalCPUs() float64 {
	if c.CPUs <= 0 {
		return math.Inf(1)
	}
	return c.CPUs * float64(c.Replicas)
}

// totalMem is the memory limit of all replicas, +Inf when unlimited.
func (c config) totalMem() float64 {
	if c.MemoryBytes <= 0 {
		return math.Inf(1)
	}
	return float64(c.MemoryBytes) * float64(c.Replicas)
}

func cpusLabel(c float64) string {
	switch {
	case c <= 0:
		return "unlimited CPUs"
	case c == 1:
		return "1 CPU"
	}
	return fnum(c) + " CPUs"
}

func memLabel(b int64) string {
	if b <= 0 {
		return "unlimited memory"
	}
	return bytesLabel(b)
}

// bytesLabel formats a size in binary units, e.g. 1000MiB, 1.5GiB, 512KiB.
func bytesLabel(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	prec := 2 // three significant digits, trailing zeros dropped
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec > 0 {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s + units[i]
}

// msLabel formats a latency in milliseconds with three significant digits.
func msLabel(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// pctLabel formats a 0..1 ratio as a percentage.
func pctLabel(r float64) string {
	v := 100 * r
	if v != 0 && math.Abs(v) < 0.1 {
		return strconv.FormatFloat(v, 'f', 3, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// rpsLabel formats requests per second.
func rpsLabel(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
}

// signedPct formats a relative change, e.g. +12.5% or -3.0%.
func signedPct(r float64) string {
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*r)
}

// change is the relative change from a to b; NaN when a is zero.
func change(a, b float64) float64 {
	if a == 0 {
		if b == 0 {
			return 0
		}
		return math.NaN()
	}
	return (b - a) / a
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
