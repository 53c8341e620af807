package result

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Median folds the repeats of one scenario, in the order they ran, into the
// outcome results.csv shows: every measured figure is the median over the
// repeats that succeeded and measured requests (each figure on its own, as
// benchstat does), while OOM kills and restarts are summed over every repeat so
// that none is hidden. What has no meaningful median (the per-second series,
// status codes, errors, the request share, the container summaries, a capacity
// search's steps) is that of the median repeat: the one whose p99 (a search's
// capacity) is the median, the lower one of an even count; MedianRepeat names
// it. The status is failed when a repeat failed, its Error naming each. The SLO
// verdict is left for the caller to check against the medians. Repeats holds
// the repeats given.
func Median(repeats []Outcome) Outcome {
	if len(repeats) == 0 {
		return Outcome{}
	}
	var ok []Outcome
	for _, r := range repeats {
		if measured(r) {
			ok = append(ok, r)
		}
	}
	i := medianRepeat(repeats)
	pick := repeats[i]
	o := pick
	o.Repeat, o.MedianRepeat = 0, repeatNumber(pick, i)
	o.Repeats = slices.Clone(repeats)
	o.SLOPass, o.SLOFailures = nil, nil
	o.Load = medianLoad(pick.Load, ok)
	o.Resources = medianResources(pick.Resources, repeats, ok)
	o.Phases = Phases{
		Build:   medianOf(repeats, func(r Outcome) time.Duration { return r.Phases.Build }),
		Up:      medianOf(repeats, func(r Outcome) time.Duration { return r.Phases.Up }),
		Healthy: medianOf(repeats, func(r Outcome) time.Duration { return r.Phases.Healthy }),
		Load:    medianOf(repeats, func(r Outcome) time.Duration { return r.Phases.Load }),
		Down:    medianOf(repeats, func(r Outcome) time.Duration { return r.Phases.Down }),
	}
	o.Status, o.Error = StatusOK, ""
	var errs []string
	for i, r := range repeats {
		if r.Status != StatusOK {
			o.Status = StatusFailed
			errs = append(errs, fmt.Sprintf("repeat %d of %d: %s", repeatNumber(r, i), len(repeats), cmp.Or(r.Error, r.Status)))
		}
		o.Started = minTime(o.Started, r.Started)
		if r.Ended.After(o.Ended) {
			o.Ended = r.Ended
		}
	}
	o.Error = strings.Join(errs, "; ")
	return o
}

// repeatNumber is the 1-based number of the repeat at index i.
func repeatNumber(r Outcome, i int) int { return cmp.Or(r.Repeat, i+1) }

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// medianRepeat is the index of the repeat whose p99 (capacity, for a search)
// is the lower median among those that measured, else 0.
func medianRepeat(repeats []Outcome) int {
	var idx []int
	for i, r := range repeats {
		if measured(r) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		a, b := repeats[i].Load, repeats[j].Load
		if a.Capacity != nil && b.Capacity != nil {
			return cmp.Compare(a.Capacity.RPS, b.Capacity.RPS)
		}
		return cmp.Compare(a.Latency.P99, b.Latency.P99)
	})
	return idx[(len(idx)-1)/2]
}

// measured reports whether a repeat succeeded and measured requests, so that
// its figures count towards the medians.
func measured(r Outcome) bool { return r.Status == StatusOK && r.Load.Requests > 0 }

// number is what medianOf takes the median of.
type number interface {
	~int | ~int64 | ~uint64 | ~float64
}

// medianOf is the median of f over rs (the mean of the middle two of an even
// count, rounded for integers); zero without repeats.
func medianOf[T number](rs []Outcome, f func(Outcome) T) T {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = float64(f(r))
	}
	slices.Sort(v)
	n := len(v)
	m := v[n/2]
	if n%2 == 0 {
		m = (v[n/2-1] + v[n/2]) / 2
	}
	var zero T
	switch any(zero).(type) {
	case float64:
		return T(m)
	}
	return T(m + 0.5) // integers: round half up (values are non-negative)
}

// medianLoad is pick's load with its figures replaced by their medians over ok.
func medianLoad(pick Load, ok []Outcome) Load {
	l := pick
	if len(ok) == 0 {
		return l
	}
	m := func(f func(Load) float64) float64 { return medianOf(ok, func(o Outcome) float64 { return f(o.Load) }) }
	d := func(f func(Load) time.Duration) time.Duration {
		return medianOf(ok, func(o Outcome) time.Duration { return f(o.Load) })
	}
	l.Requests = medianOf(ok, func(o Outcome) uint64 { return o.Load.Requests })
	l.WarmupRequests = medianOf(ok, func(o Outcome) uint64 { return o.Load.WarmupRequests })
	l.Elapsed = d(func(x Load) time.Duration { return x.Elapsed })
	l.RateRPS = m(func(x Load) float64 { return x.RateRPS })
	l.ThroughputRPS = m(func(x Load) float64 { return x.ThroughputRPS })
	l.SuccessRatio = m(func(x Load) float64 { return x.SuccessRatio })
	l.Latency = medianLatency(ok, func(x Load) Latency { return x.Latency })
	l.GeneratorCPU = d(func(x Load) time.Duration { return x.GeneratorCPU })
	l.GeneratorPeakRSSBytes = medianOf(ok, func(o Outcome) int64 { return o.Load.GeneratorPeakRSSBytes })
	l.GeneratorCPUShare = m(func(x Load) float64 { return x.GeneratorCPUShare })
	l.PeakInFlight = medianOf(ok, func(o Outcome) int { return o.Load.PeakInFlight })
	l.SendLagP50 = d(func(x Load) time.Duration { return x.SendLagP50 })
	l.SendLagP99 = d(func(x Load) time.Duration { return x.SendLagP99 })
	l.Shortfall = slices.ContainsFunc(ok, func(o Outcome) bool { return o.Load.Shortfall })
	l.GeneratorBound = slices.ContainsFunc(ok, func(o Outcome) bool { return o.Load.GeneratorBound })
	if c := pick.Capacity; c != nil {
		cc := *c
		cc.RPS = medianOf(ok, func(o Outcome) float64 { return capacityRPS(o.Load) })
		l.Capacity = &cc
	}
	if s := pick.Stream; s != nil {
		ss := *s
		ss.TTFT = medianLatency(ok, func(x Load) Latency { return streamOf(x).TTFT })
		ss.ITL = medianLatency(ok, func(x Load) Latency { return streamOf(x).ITL })
		ss.TPOT = medianLatency(ok, func(x Load) Latency { return streamOf(x).TPOT })
		ss.OutputTokens = medianOf(ok, func(o Outcome) uint64 { return streamOf(o.Load).OutputTokens })
		ss.OutputTokensPerS = m(func(x Load) float64 { return streamOf(x).OutputTokensPerS })
		ss.Streams = medianOf(ok, func(o Outcome) uint64 { return streamOf(o.Load).Streams })
		l.Stream = &ss
	}
	if g := pick.Goodput; g != nil {
		l.Goodput = &GoodputResult{
			RPS:      m(func(x Load) float64 { return goodputOf(x).RPS }),
			Requests: medianOf(ok, func(o Outcome) uint64 { return goodputOf(o.Load).Requests }),
			Ratio:    m(func(x Load) float64 { return goodputOf(x).Ratio }),
		}
	}
	return l
}

func capacityRPS(l Load) float64 {
	if l.Capacity == nil {
		return 0
	}
	return l.Capacity.RPS
}

func streamOf(l Load) Stream {
	if l.Stream == nil {
		return Stream{}
	}
	return *l.Stream
}

func goodputOf(l Load) GoodputResult {
	if l.Goodput == nil {
		return GoodputResult{}
	}
	return *l.Goodput
}

// medianLatency is the median of each percentile on its own.
func medianLatency(ok []Outcome, f func(Load) Latency) Latency {
	d := func(g func(Latency) time.Duration) time.Duration {
		return medianOf(ok, func(o Outcome) time.Duration { return g(f(o.Load)) })
	}
	return Latency{
		Mean: d(func(l Latency) time.Duration { return l.Mean }),
		P50:  d(func(l Latency) time.Duration { return l.P50 }),
		P90:  d(func(l Latency) time.Duration { return l.P90 }),
		P95:  d(func(l Latency) time.Duration { return l.P95 }),
		P99:  d(func(l Latency) time.Duration { return l.P99 }),
		Max:  d(func(l Latency) time.Duration { return l.Max }),
	}
}

// medianResources is pick's resources with the peak memory and CPU the medians
// over ok, and the OOM kills and restarts summed over every repeat.
func medianResources(pick Resources, all, ok []Outcome) Resources {
	r := pick
	if len(ok) > 0 {
		r.PeakMemBytes = medianOf(ok, func(o Outcome) int64 { return o.Resources.PeakMemBytes })
		r.MeanCPUPct = medianOf(ok, func(o Outcome) float64 { return o.Resources.MeanCPUPct })
		r.PeakCPUPct = medianOf(ok, func(o Outcome) float64 { return o.Resources.PeakCPUPct })
	}
	r.OOMKills, r.Restarts = 0, 0
	for _, o := range all {
		r.OOMKills += o.Resources.OOMKills
		r.Restarts += o.Resources.Restarts
		r.Advisory = r.Advisory || o.Resources.Advisory
	}
	return r
}

// RepeatDir is the folder, inside its scenario's folder, that holds the files
// of repeat k (1-based) of a scenario run more than once: repeat-k. A scenario
// run once keeps its files in its own folder.
func RepeatDir(k int) string { return "repeat-" + strconv.Itoa(k) }
