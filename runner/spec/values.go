package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
)

// scalar is implemented by the value types that are written as one YAML scalar.
// parse returns an error saying what would be valid.
type scalar interface {
	parse(s string) error
}

// Duration is a Go duration ("30s", "1m30s"); "0" is zero.
type Duration struct {
	time.Duration
	set bool
}

// IsSet reports whether the file gave the value.
func (d Duration) IsSet() bool { return d.set }

func (d *Duration) parse(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	d.Duration, d.set = v, true
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; use a number with a unit such as 500ms, 30s or 2m", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative; a duration must be 0 or more", s)
	}
	return v, nil
}

// unlimited is the word for "no limit" in cpus and memory.
const unlimited = "unlimited"

// CPUs is a CPU limit: a positive number of CPUs, or "unlimited" (zero).
type CPUs struct {
	// N is the number of CPUs; 0 means unlimited.
	N   float64
	set bool
}

// IsSet reports whether the file gave the value.
func (c CPUs) IsSet() bool { return c.set }

func (c *CPUs) parse(s string) error {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, unlimited) {
		c.N, c.set = 0, true
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a CPU count; use a number such as 0.5 or 2, or unlimited", s)
	}
	if v <= 0 {
		return fmt.Errorf("%s CPUs: must be more than 0 (or unlimited)", s)
	}
	if v > 1024 {
		return fmt.Errorf("%s CPUs: must be at most 1024", s)
	}
	c.N, c.set = v, true
	return nil
}

// minMemory is Docker's smallest memory limit.
const minMemory = 6 << 20

// Memory is a memory limit in bytes (10G, 700M, 512Mi: binary units as in Docker), or
// "unlimited" (zero).
type Memory struct {
	// Bytes is the limit; 0 means unlimited.
	Bytes int64
	set   bool
}

// IsSet reports whether the file gave the value.
func (m Memory) IsSet() bool { return m.set }

func (m *Memory) parse(s string) error {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, unlimited) {
		m.Bytes, m.set = 0, true
		return nil
	}
	v, err := units.RAMInBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size; use a number with a unit such as 700M, 10G or 512MiB, or unlimited", s)
	}
	if v < minMemory {
		return fmt.Errorf("%q is below Docker's minimum memory limit of 6M", s)
	}
	m.Bytes, m.set = v, true
	return nil
}

// Think is a closed-model think time: a fixed duration or a uniform range "1s..3s".
type Think struct {
	Min, Max time.Duration
	set      bool
}

// IsSet reports whether the file gave the value.
func (t Think) IsSet() bool { return t.set }

func (t *Think) parse(s string) error {
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		hi = lo
	}
	a, err := parseDuration(lo)
	if err != nil {
		return fmt.Errorf("think %q: %w (or a range such as 1s..3s)", s, err)
	}
	b, err := parseDuration(hi)
	if err != nil {
		return fmt.Errorf("think %q: %w (or a range such as 1s..3s)", s, err)
	}
	if b < a {
		return fmt.Errorf("think %q: the range's end is below its start", s)
	}
	t.Min, t.Max, t.set = a, b, true
	return nil
}

// String is the think time as written in canonical form ("0s", "1s..3s").
func (t Think) String() string { return thinkString(t.Min, t.Max) }

func thinkString(lo, hi time.Duration) string {
	if lo == hi {
		return lo.String()
	}
	return lo.String() + ".." + hi.String()
}

// Rate is a rate per second: "200/s", "600/m", "10/h" or a plain number per second.
type Rate struct {
	// PerSecond is the rate.
	PerSecond float64
	set       bool
}

// IsSet reports whether the file gave the value.
func (r Rate) IsSet() bool { return r.set }

func (r *Rate) parse(s string) error {
	s = strings.TrimSpace(s)
	num, unit, _ := strings.Cut(s, "/")
	per := 1.0
	switch strings.TrimSpace(unit) {
	case "", "s", "sec", "second":
	case "m", "min", "minute":
		per = 60
	case "h", "hour":
		per = 3600
	default:
		return fmt.Errorf("%q is not a rate; use requests per time unit such as 200/s, 600/m or 10/h", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a rate; use requests per time unit such as 200/s, 600/m or 10/h", s)
	}
	if v <= 0 {
		return fmt.Errorf("rate %q must be more than 0", s)
	}
	r.PerSecond, r.set = v/per, true
	return nil
}

// RateSpec is an open-model rate: constant ("200/s") or a linear ramp
// ({from: 10/s, to: 2000/s}).
type RateSpec struct {
	// Constant is set for a constant rate.
	Constant Rate
	// From and To are set for a ramp.
	From Rate `yaml:"from"`
	To   Rate `yaml:"to"`
}

// Ramp reports whether the rate is a ramp.
func (r RateSpec) Ramp() bool { return !r.Constant.set }

// Percent is a ratio written as "1%" or as a fraction 0.01.
type Percent struct {
	// Ratio is 0..1.
	Ratio float64
}

func (p *Percent) parse(s string) error {
	s = strings.TrimSpace(s)
	div := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, div = strings.TrimSpace(t), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a percentage; use 1%% or a fraction such as 0.01", s)
	}
	v /= div
	if v < 0 || v > 1 {
		return fmt.Errorf("%q is outside 0%%..100%%", s)
	}
	p.Ratio = v
	return nil
}

// PortRange is an inclusive host port range "LO-HI".
type PortRange struct {
	Lo, Hi int
}

// Size is the number of ports in the range.
func (r PortRange) Size() int {
	if r.Lo == 0 {
		return 0
	}
	return r.Hi - r.Lo + 1
}

// String is "LO-HI".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Lo, r.Hi) }

func (r *PortRange) parse(s string) error {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%q is not a port range; use LO-HI such as 18000-18999", s)
	}
	if a < 1024 || b > 65535 || a > b {
		return fmt.Errorf("%q: ports must satisfy 1024 <= LO <= HI <= 65535", s)
	}
	r.Lo, r.Hi = a, b
	return nil
}
