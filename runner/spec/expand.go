package spec

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Overhead is the estimated orchestration time of one scenario (build, up, health
// wait, down) that plans add to its load time.
const Overhead = 10 * time.Second

// Scenarios expands the grid: blocks in file order, and in each block the cartesian
// product of replicas, cpus, memory, balancer and load (the last varies fastest).
// Defaults fill what a block omits.
func (f *File) Scenarios() []Scenario {
	at := f.scenarios()
	out := make([]Scenario, len(at))
	for i, s := range at {
		out[i] = s.Scenario
	}
	return out
}

type scenarioAt struct {
	Scenario
	path string // YAML path of the load entry
}

func (f *File) scenarios() []scenarioAt {
	df := f.Defaults
	external := f.Platform == "external"
	var out []scenarioAt
	for bi, b := range f.Grid {
		replicas := b.Replicas
		if len(replicas) == 0 {
			replicas = []int{cmp(df.Replicas, DefaultReplicas)}
		}
		cpus := b.CPUs
		if len(cpus) == 0 {
			cpus = []CPUs{df.CPUs}
		}
		mems := b.Memory
		if len(mems) == 0 {
			mems = []Memory{df.Memory}
		}
		bals := b.Balancer
		if len(bals) == 0 {
			bals = []BalancerSpec{df.Balancer}
		}
		cpuset := cmp(b.CPUSet, df.CPUSet)
		if external {
			replicas, cpus, mems, cpuset = []int{0}, []CPUs{{}}, []Memory{{}}, ""
		}
		for _, r := range replicas {
			for _, c := range cpus {
				for _, m := range mems {
					for _, bal := range bals {
						for li, le := range b.Load {
							s := Scenario{
								Block:       b.Name,
								Index:       len(out),
								Platform:    f.Platform,
								Replicas:    r,
								CPUs:        c.N,
								MemoryBytes: m.Bytes,
								CPUSet:      cpuset,
								Balancer:    cmp(bal.Type, DefaultBalancer),
								Proxy:       f.proxy(bal),
								Load:        f.resolveLoad(b, le),
								Request:     f.resolveRequest(),
								Mix:         f.resolveMix(),
								Network:     f.Network,
								Targets:     f.Targets,
								Image:       f.Image(),
								Repeat:      cmp(b.Repeat, f.Defaults.Repeat, DefaultRepeat),
								Generators:  cmp(b.Generators, f.Defaults.Generators),
							}
							if f.Swarm != nil && s.Generators > 0 {
								s.GeneratorConstraints = f.Swarm.GeneratorConstraints
							}
							if f.Service != nil {
								s.Service = *f.Service
							}
							s.ID = scenarioID(s, le, external)
							out = append(out, scenarioAt{s, fmt.Sprintf("grid[%d].load[%d]", bi, li)})
						}
					}
				}
			}
		}
	}
	return out
}

func cmp[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

func durOr(vs ...Duration) Duration {
	for _, v := range vs {
		if v.set {
			return v
		}
	}
	return Duration{}
}

// proxy resolves a balancer's proxy options; nil unless it is a proxy.
func (f *File) proxy(b BalancerSpec) *Proxy {
	if b.Type != "proxy" {
		return nil
	}
	p := &Proxy{Policy: cmp(b.Policy, DefaultProxyPolicy), CPUs: b.CPUs.N, MemoryBytes: b.Memory.Bytes, Image: f.ProxyImage(), Kind: ProxyRunner}
	if b.Image != "" {
		p.Image, p.Kind = b.Image, ProxyKind(b.Image)
	}
	return p
}

// DefaultProxyPolicy is the proxy's policy when the file names none.
const DefaultProxyPolicy = "round_robin"

// ProxyImage is the name of the proxy image built for balancer: proxy,
// runner-NAME-proxy:latest.
func (f *File) ProxyImage() string { return "runner-" + f.Name + "-proxy:latest" }

// BalancerLabel names the balancer in reports: none, client, proxy, or
// proxy:least_conn for a proxy with that policy; proxy:haproxy or proxy:nginx
// (proxy:nginx:least_conn) for a proxy that runs such an image, so that reports
// treat every balancer in the stack alike.
func (s Scenario) BalancerLabel() string {
	bal := s.Balancer
	if s.Proxy != nil && !s.Proxy.Runner() {
		bal += ":" + s.Proxy.Kind
	}
	if s.Proxy != nil && s.Proxy.Policy != DefaultProxyPolicy {
		return bal + ":" + s.Proxy.Policy
	}
	return bal
}

func (f *File) resolveLoad(b Block, le LoadEntry) Workload {
	df := f.Defaults
	l := Workload{
		Duration:   cmp(durOr(le.Duration, b.Duration, df.Duration).Duration, DefaultDuration),
		Timeout:    cmp(durOr(le.Timeout, df.Timeout).Duration, DefaultTimeout),
		MaxWorkers: cmp(le.MaxWorkers, df.MaxWorkers),
	}
	if w := durOr(le.Warmup, b.Warmup, df.Warmup); w.set {
		l.Warmup = w.Duration
	} else {
		l.Warmup = DefaultWarmup
	}
	if le.Arrival != "constant" {
		l.Arrival, l.Burstiness = le.Arrival, le.Burstiness
	}
	l.Seed = uint64(max(le.Seed, 0))
	if s := le.Search; s != nil {
		if s.On == "goodput" {
			l.SearchOnGoodput = true
			l.SearchMinGoodput = DefaultMinGoodput
			if s.MinGoodput != nil {
				l.SearchMinGoodput = s.MinGoodput.Ratio
			}
		}
		l.SearchFrom, l.SearchTo = s.From.PerSecond, s.To.PerSecond
		l.SearchSteps = cmp(s.Steps, DefaultSearchSteps)
		l.SearchPrecision = DefaultSearchPrecision
		if s.Precision != nil {
			l.SearchPrecision = s.Precision.Ratio
		}
		l.Duration = cmp(s.StepDuration.Duration, DefaultStepDuration)
		return l
	}
	if le.Rate != nil {
		if le.Rate.Ramp() {
			l.RateFrom, l.RateTo = le.Rate.From.PerSecond, le.Rate.To.PerSecond
		} else {
			l.Rate = le.Rate.Constant.PerSecond
		}
		return l
	}
	l.Users = le.Users
	l.SpawnRate = cmp(le.SpawnRate, df.SpawnRate)
	think := df.Think
	if le.Think.set {
		think = le.Think
	}
	l.ThinkMin, l.ThinkMax = think.Min, think.Max
	return l
}

func (f *File) resolveRequest() ResolvedRequest {
	if len(f.Requests) > 0 {
		return f.Requests[0].resolve()
	}
	return f.Request.resolve()
}

// resolveMix returns the mix of requests:, or nil.
func (f *File) resolveMix() []ResolvedRequest {
	if len(f.Requests) == 0 {
		return nil
	}
	mix := make([]ResolvedRequest, len(f.Requests))
	for i, r := range f.Requests {
		mix[i] = r.resolve()
	}
	return mix
}

func (r Request) resolve() ResolvedRequest {
	order := cmp(r.Order, r.BodyOrder)
	rr := ResolvedRequest{
		Method:  r.Method,
		Path:    r.Path,
		Headers: maps.Clone(r.Headers),
		Bodies:  r.bodies,
		Dataset: r.data,
		Random:  order == "random",
		Seed:    uint64(max(r.Seed, 0)),
		Stream:  r.Stream == "sse",
		Name:    r.Name,
		Weight:  1,
	}
	if r.Weight != nil {
		rr.Weight = *r.Weight
	}
	return rr
}

// Image is the name of the service image the compose file runs: service.image when
// given, else runner-NAME:latest (built from service.build). Empty for external,
// and for a service given only by its command, which runs as processes.
func (f *File) Image() string {
	switch {
	case f.Service == nil, f.Service.CommandOnly():
		return ""
	case f.Service.Image != "":
		return f.Service.Image
	}
	return "runner-" + f.Name + ":latest"
}

// Closed reports whether the load is the closed (users) model.
func (l Workload) Closed() bool { return l.Users > 0 }

// Ramp reports whether the load is an open-model linear ramp.
func (l Workload) Ramp() bool { return l.Users == 0 && l.Rate == 0 && !l.Search() }

// Search reports whether the load is a capacity search.
func (l Workload) Search() bool { return l.SearchTo > 0 }

// SearchString is a capacity search's range as "50/s..5000/s"; empty for other loads.
func (l Workload) SearchString() string {
	if !l.Search() {
		return ""
	}
	return num(l.SearchFrom) + "/s.." + num(l.SearchTo) + "/s"
}

// SpawnTime is how long the closed model takes to start every user.
func (l Workload) SpawnTime() time.Duration {
	if l.Users == 0 || l.SpawnRate <= 0 {
		return 0
	}
	return time.Duration(float64(l.Users) / l.SpawnRate * float64(time.Second))
}

// RateString is the open-model rate as "200/s" or a ramp "10/s..2000/s"; empty for
// the closed model.
func (l Workload) RateString() string {
	switch {
	case l.Closed(), l.Search():
		return ""
	case l.Ramp():
		return num(l.RateFrom) + "/s.." + num(l.RateTo) + "/s"
	}
	return num(l.Rate) + "/s"
}

// String describes the load level, e.g. "10 users @10/s", "200/s" or
// "search 50/s..5000/s (10 steps of 10s, 5%)".
func (l Workload) String() string {
	if l.Search() {
		return fmt.Sprintf("search %s (%d steps of %s, %s%%)", l.SearchString(), l.SearchSteps, l.Duration, num(100*l.SearchPrecision))
	}
	if !l.Closed() {
		return l.RateString()
	}
	s := fmt.Sprintf("%d users @%s/s", l.Users, num(l.SpawnRate))
	if l.ThinkMax > 0 {
		s += " think " + thinkString(l.ThinkMin, l.ThinkMax)
	}
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Estimate is the scenario's expected wall time: warm-up, measured load and
// Overhead; for a capacity search, every step of its budget (an upper bound);
// times its repeats.
func (s Scenario) Estimate() time.Duration {
	once := s.Load.Warmup + s.Load.Duration + Overhead
	if s.Generators > 0 {
		once += GeneratorLead
	}
	if s.Load.Search() {
		once = time.Duration(s.Load.SearchSteps)*(s.Load.Warmup+s.Load.Duration) + Overhead
	}
	return time.Duration(max(s.Repeat, 1)) * once
}

// Result flattens the scenario into the shape reports use.
func (s Scenario) Result() result.Scenario {
	r := result.Scenario{
		ID:          s.ID,
		Block:       s.Block,
		Replicas:    s.Replicas,
		CPUs:        s.CPUs,
		MemoryBytes: s.MemoryBytes,
		CPUSet:      s.CPUSet,
		Balancer:    s.BalancerLabel(),
		Users:       s.Load.Users,
		SpawnRate:   s.Load.SpawnRate,
		Rate:        s.Load.RateString(),
		Duration:    s.Load.Duration,
		Warmup:      s.Load.Warmup,
		Search:      s.Load.SearchString(),
		Repeat:      s.Repeat,
		Generators:  s.Generators,
	}
	if s.Load.Closed() {
		r.Think = thinkString(s.Load.ThinkMin, s.Load.ThinkMax)
	}
	if s.Proxy != nil {
		r.BalancerCPUs, r.BalancerMemoryBytes = s.Proxy.CPUs, s.Proxy.MemoryBytes
	}
	return r
}

// Result converts the objective; nil when the file sets none.
func (s *SLO) Result() *result.SLO {
	if s == nil {
		return nil
	}
	r := &result.SLO{
		P50:              s.P50.Duration,
		P95:              s.P95.Duration,
		P99:              s.P99.Duration,
		MinThroughputRPS: s.MinThroughput.PerSecond,
		TTFTP50:          s.TTFTP50.Duration,
		TTFTP95:          s.TTFTP95.Duration,
		TTFTP99:          s.TTFTP99.Duration,
		ITLP95:           s.ITLP95.Duration,
		ITLP99:           s.ITLP99.Duration,
		TPOTP95:          s.TPOTP95.Duration,
		TPOTP99:          s.TPOTP99.Duration,
	}
	if g := s.Goodput; g != nil {
		r.Goodput = &result.Goodput{TTFT: g.TTFT.Duration, TPOT: g.TPOT.Duration, Latency: g.Latency.Duration}
	}
	if s.ErrorRate != nil {
		v := s.ErrorRate.Ratio
		r.ErrorRate = &v
	}
	return r
}

// scenarioID builds a readable, filesystem- and compose-safe ID from the axes.
func scenarioID(s Scenario, le LoadEntry, external bool) string {
	parts := []string{s.Block}
	if !external {
		parts = append(parts, fmt.Sprintf("r%d", s.Replicas), "cpu"+idCPUs(s.CPUs), "mem"+idBytes(s.MemoryBytes))
	}
	bal := s.BalancerLabel()
	if p := s.Proxy; p != nil {
		if p.CPUs > 0 {
			bal += "_cpu" + idCPUs(p.CPUs)
		}
		if p.MemoryBytes > 0 {
			bal += "_mem" + idBytes(p.MemoryBytes)
		}
	}
	parts = append(parts, bal)
	l := s.Load
	switch {
	case l.Closed():
		parts = append(parts, "u"+idNum(float64(l.Users))+"s"+idNum(l.SpawnRate))
		if l.ThinkMax > 0 {
			parts = append(parts, "t"+idDur(l.ThinkMin)+idRange(l.ThinkMin, l.ThinkMax))
		}
	case l.Search():
		parts = append(parts, "search"+idNum(l.SearchFrom)+"to"+idNum(l.SearchTo))
		if s := le.Search; s != nil {
			if s.Steps > 0 {
				parts = append(parts, fmt.Sprintf("n%d", s.Steps))
			}
			if s.StepDuration.set {
				parts = append(parts, "sd"+idDur(s.StepDuration.Duration))
			}
			if s.Precision != nil {
				parts = append(parts, "p"+idNum(100*s.Precision.Ratio))
			}
		}
	case l.Ramp():
		parts = append(parts, "rate"+idNum(l.RateFrom)+"to"+idNum(l.RateTo))
	default:
		parts = append(parts, "rate"+idNum(l.Rate))
	}
	switch le.Arrival {
	case "poisson":
		parts = append(parts, "poisson")
	case "gamma":
		parts = append(parts, "gamma"+idNum(cmp(le.Burstiness, 1)))
	}
	if le.Seed > 0 {
		parts = append(parts, fmt.Sprintf("seed%d", le.Seed))
	}
	if s := le.Search; s != nil && s.On == "goodput" {
		parts = append(parts, "goodput")
	}
	if le.Duration.set {
		parts = append(parts, "d"+idDur(le.Duration.Duration))
	}
	if le.Warmup.set {
		parts = append(parts, "w"+idDur(le.Warmup.Duration))
	}
	if le.Timeout.set {
		parts = append(parts, "to"+idDur(le.Timeout.Duration))
	}
	if le.MaxWorkers > 0 {
		parts = append(parts, fmt.Sprintf("mw%d", le.MaxWorkers))
	}
	return sanitize(strings.Join(parts, "-"))
}

func idRange(lo, hi time.Duration) string {
	if lo == hi {
		return ""
	}
	return "to" + idDur(hi)
}

func idCPUs(c float64) string {
	if c == 0 {
		return "_unl"
	}
	return idNum(c)
}

func idBytes(b int64) string {
	switch {
	case b == 0:
		return "_unl"
	case b%(1<<30) == 0:
		return fmt.Sprintf("%dg", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%dm", b>>20)
	case b%(1<<10) == 0:
		return fmt.Sprintf("%dk", b>>10)
	}
	return fmt.Sprintf("%db", b)
}

func idNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func idDur(d time.Duration) string { return d.String() }

// sanitize lowercases s and replaces every character outside [a-z0-9_-] by '_'.
func sanitize(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			b[i] = '_'
		}
	}
	return string(b)
}

// SetRepeat makes every scenario run n times: the --repeat flag, which wins over
// the file's repeat keys. n must pass CheckRepeat.
func SetRepeat(scenarios []Scenario, n int) error {
	if err := CheckRepeat(n); err != nil {
		return err
	}
	for i := range scenarios {
		scenarios[i].Repeat = n
	}
	return nil
}
