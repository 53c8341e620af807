package load

import (
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxErrorMessages bounds the distinct error messages kept; further messages are
// counted under otherErrors so a run with unique messages stays small.
const maxErrorMessages = 100

const otherErrors = "(other error messages)"

// second is one second of the series, by send time.
type second struct {
	requests, errors uint64
	lat              sparseHist
}

// aggregator folds results into the metrics. It is used by one goroutine.
type aggregator struct {
	measureStart time.Time
	seconds      int // of the planned window: later sends count in the last one
	all          *hist
	raw          *hist // open model: latency from the actual send time
	lag          *hist // open model: actual minus intended send time
	requests     uint64
	warmup       uint64
	success      uint64
	codes        map[string]uint64
	errs         map[string]uint64
	endpoints    []result.EndpointCount
	urlIndex     map[string]int
	series       []second
	lastEnd      time.Time

	// progress of all completions, warm-up included
	done, failed uint64
	tick         sparseHist
}

func newAggregator(measureStart time.Time, window time.Duration, urls, bases []string, open bool) *aggregator {
	a := &aggregator{
		measureStart: measureStart,
		seconds:      int((window + time.Second - 1) / time.Second),
		all:          newHist(),
		codes:        map[string]uint64{},
		errs:         map[string]uint64{},
		urlIndex:     map[string]int{},
	}
	if open {
		a.raw, a.lag = newHist(), newHist()
	}
	for i, u := range urls {
		a.urlIndex[u] = i
		a.endpoints = append(a.endpoints, result.EndpointCount{URL: bases[i]})
	}
	return a
}

func failed(r *vegeta.Result) bool {
	return r.Error != "" || r.Code < 200 || r.Code >= 400
}

// add folds in one result; latency is the latency to report for it.
func (a *aggregator) add(r *vegeta.Result, latency time.Duration) {
	bad := failed(r)
	a.done++
	if bad {
		a.failed++
	}
	a.tick.add(latency)
	if r.Attack == AttackWarmup {
		a.warmup++
		return
	}
	a.requests++
	a.all.add(latency)
	if a.raw != nil {
		a.raw.add(r.Latency)
		a.lag.add(latency - r.Latency)
	}
	if !bad {
		a.success++
	}
	a.codes[codeKey(r.Code)]++
	if r.Error != "" {
		msg := normalizeError(r.Error)
		if _, ok := a.errs[msg]; ok || len(a.errs) < maxErrorMessages {
			a.errs[msg]++
		} else {
			a.errs[otherErrors]++
		}
	}
	if i, ok := a.urlIndex[r.URL]; ok {
		a.endpoints[i].Requests++
		if bad {
			a.endpoints[i].Errors++
		}
	}
	// vegeta sends hit k at (k+1)/rate, so the last one is due at the very end.
	s := min(max(int(r.Timestamp.Sub(a.measureStart)/time.Second), 0), a.seconds-1)
	for len(a.series) <= s {
		a.series = append(a.series, second{})
	}
	a.series[s].requests++
	if bad {
		a.series[s].errors++
	}
	a.series[s].lat.add(latency)
	if end := r.Timestamp.Add(latency); end.After(a.lastEnd) {
		a.lastEnd = end
	}
}

// codeKeys are the status codes' map keys, made once: strconv.Itoa allocates
// for numbers over 99, and every result has one.
var codeKeys = func() (k [600]string) {
	for i := range k {
		k[i] = strconv.Itoa(i)
	}
	return k
}()

func codeKey(c uint16) string {
	if int(c) < len(codeKeys) {
		return codeKeys[c]
	}
	return strconv.Itoa(int(c))
}

// load returns the metrics of a measured window that stopped sending at stopped.
// users(t) is the number of closed-model users started by t (nil for open).
func (a *aggregator) load(stopped time.Time, users func(time.Time) int) result.Load {
	l := result.Load{
		Requests:       a.requests,
		WarmupRequests: a.warmup,
		StatusCodes:    a.codes,
		Errors:         a.errs,
		Endpoints:      a.endpoints,
	}
	l.Elapsed = max(stopped.Sub(a.measureStart), 0)
	if l.Elapsed > 0 {
		l.RateRPS = float64(a.requests) / l.Elapsed.Seconds()
		wait := max(a.lastEnd.Sub(stopped), 0)
		l.ThroughputRPS = float64(a.success) / (l.Elapsed + wait).Seconds()
	}
	if a.requests > 0 {
		l.SuccessRatio = float64(a.success) / float64(a.requests)
	}
	h := a.all
	l.Latency = result.Latency{
		Mean: h.mean(),
		P50:  h.quantile(0.50),
		P90:  h.quantile(0.90),
		P95:  h.quantile(0.95),
		P99:  h.quantile(0.99),
		Max:  h.max,
	}
	// One point per started second of the window, empty seconds included.
	n := int((l.Elapsed + time.Second - 1) / time.Second)
	for len(a.series) < n {
		a.series = append(a.series, second{})
	}
	l.Series = make([]result.Second, len(a.series))
	for i, s := range a.series {
		q := s.lat.quantiles(0.50, 0.99)
		p := result.Second{T: i, Requests: s.requests, Errors: s.errors, P50: q[0], P99: q[1]}
		if users != nil {
			p.Users = users(a.measureStart.Add(time.Duration(i+1) * time.Second))
		}
		l.Series[i] = p
	}
	return l
}

// takeTick returns the completions per second, p50 and p99 since the last call.
func (a *aggregator) takeTick(interval time.Duration) (rate float64, p50, p99 time.Duration) {
	if interval > 0 {
		rate = float64(a.tick.n) / interval.Seconds()
	}
	q := a.tick.quantiles(0.5, 0.99)
	a.tick = sparseHist{}
	return rate, q[0], q[1]
}

// normalizeError drops the local address from socket errors ("read tcp
// 127.0.0.1:50312->127.0.0.1:8080: ..." becomes "read tcp ->127.0.0.1:8080: ..."),
// so one fault gives one message, not one per connection.
func normalizeError(msg string) string {
	i := strings.Index(msg, "->")
	if i < 0 {
		return msg
	}
	j := strings.LastIndex(msg[:i], "tcp ")
	if j < 0 || strings.ContainsAny(msg[j+4:i], " \"") {
		return msg
	}
	return msg[:j+4] + msg[i:]
}
