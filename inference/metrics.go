package inference

// The metrics are written by hand in the Prometheus text format (version 0.0.4): a
// handful of counters and one histogram kept in atomics cost a few nanoseconds per
// request, need no lock on the hot path and add nothing to the binary, where
// prometheus/client_golang would add a dependency and about 2 MB for the same output.
// The tests parse the output with prometheus/common's own parser.

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// latencyBuckets are the upper bounds of the latency histogram, in seconds.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

const maxCode = 600

type histogram struct {
	counts [17]atomic.Uint64 // one per bucket, then +Inf
	sumNs  atomic.Uint64
}

type metrics struct {
	h           *Handler
	start       time.Time
	requests    [numRoutes][maxCode]atomic.Uint64
	latency     [numRoutes]histogram
	inFlight    atomic.Int64
	predictions atomic.Uint64
}

func newMetrics(h *Handler) *metrics {
	return &metrics{h: h, start: time.Now()}
}

func (m *metrics) observe(rt route, code int, d time.Duration) {
	if code < 100 || code >= maxCode {
		code = 0
	}
	m.requests[rt][code].Add(1)
	s := d.Seconds()
	i := 0
	for i < len(latencyBuckets) && s > latencyBuckets[i] {
		i++
	}
	m.latency[rt].counts[i].Add(1)
	m.latency[rt].sumNs.Add(uint64(d))
}

// appendText appends every metric in the Prometheus text format.
func (m *metrics) appendText(b []byte) []byte {
	b = header(b, "inference_http_requests_total", "counter", "HTTP requests answered, by handler and status code.")
	for rt := range numRoutes {
		for code := range maxCode {
			if n := m.requests[rt][code].Load(); n > 0 {
				b = append(b, `inference_http_requests_total{handler="`...)
				b = append(b, routeNames[rt]...)
				b = append(b, `",code="`...)
				b = strconv.AppendInt(b, int64(code), 10)
				b = append(b, `"} `...)
				b = strconv.AppendUint(b, n, 10)
				b = append(b, '\n')
			}
		}
	}
	b = header(b, "inference_http_request_duration_seconds", "histogram", "Time from receiving a request to answering it, by handler.")
	for rt := range numRoutes {
		lh := &m.latency[rt]
		var cum uint64
		for i := range len(latencyBuckets) + 1 {
			cum += lh.counts[i].Load()
			b = append(b, `inference_http_request_duration_seconds_bucket{handler="`...)
			b = append(b, routeNames[rt]...)
			b = append(b, `",le="`...)
			if i < len(latencyBuckets) {
				b = strconv.AppendFloat(b, latencyBuckets[i], 'g', -1, 64)
			} else {
				b = append(b, "+Inf"...)
			}
			b = append(b, `"} `...)
			b = strconv.AppendUint(b, cum, 10)
			b = append(b, '\n')
		}
		b = sample(b, `inference_http_request_duration_seconds_sum{handler="`+routeNames[rt]+`"}`, float64(lh.sumNs.Load())/1e9)
		b = append(b, `inference_http_request_duration_seconds_count{handler="`...)
		b = append(b, routeNames[rt]...)
		b = append(b, `"} `...)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = gauge(b, "inference_http_requests_in_flight", "HTTP requests being served.", float64(m.inFlight.Load()))
	b = gauge(b, "inference_predict_requests_in_flight", "Prediction requests being served (capped by the in-flight limit).", float64(m.h.predicting.Load()))
	b = gauge(b, "inference_predict_max_in_flight", "Limit of prediction requests served at once (0: no limit).", float64(max(m.h.cfg.MaxInFlight, 0)))
	b = counter(b, "inference_predictions_total", "Instances predicted (a batch counts each instance).", float64(m.predictions.Load()))

	md := m.h.model
	b = header(b, "inference_model_info", "gauge", "The served model; the value is always 1.")
	b = append(b, `inference_model_info{name="`...)
	b = appendLabel(b, md.Name)
	b = append(b, `",objective="`...)
	b = appendLabel(b, md.Objective)
	b = append(b, `",booster="`...)
	b = appendLabel(b, md.Booster)
	b = append(b, `",xgboost_version="`...)
	b = appendLabel(b, md.XGBoostVersion)
	b = append(b, `",features="`...)
	b = strconv.AppendInt(b, int64(md.NumFeatures), 10)
	b = append(b, `",classes="`...)
	b = strconv.AppendInt(b, int64(md.NumClasses), 10)
	b = append(b, `",trees="`...)
	b = strconv.AppendInt(b, int64(md.NumTrees), 10)
	b = append(b, "\"} 1\n"...)
	b = gauge(b, "inference_model_trees", "Trees in the served model.", float64(md.NumTrees))
	b = gauge(b, "inference_model_nodes", "Tree nodes in the served model.", float64(md.NumNodes))

	b = header(b, "inference_build_info", "gauge", "Version of the service; the value is always 1.")
	b = append(b, `inference_build_info{version="`...)
	b = appendLabel(b, m.h.cfg.Version)
	b = append(b, `",goversion="`...)
	b = appendLabel(b, runtime.Version())
	b = append(b, "\"} 1\n"...)

	// Runtime and process metrics, under the names client_golang's collectors use.
	rs := []rtmetrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	rtmetrics.Read(rs)
	b = gauge(b, "go_goroutines", "Number of goroutines that currently exist.", value(rs[0]))
	b = gauge(b, "go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", value(rs[1]))
	b = gauge(b, "go_memstats_sys_bytes", "Bytes of memory obtained from the OS.", value(rs[2]))
	b = counter(b, "go_gc_cycles_total", "Completed GC cycles.", value(rs[3]))
	b = gauge(b, "go_gomaxprocs", "GOMAXPROCS: the CPUs the Go runtime uses.", float64(runtime.GOMAXPROCS(0)))
	if lim := debug.SetMemoryLimit(-1); lim != math.MaxInt64 {
		b = gauge(b, "go_memory_limit_bytes", "The Go runtime's soft memory limit (GOMEMLIMIT).", float64(lim))
	}
	if rss, ok := residentBytes(); ok {
		b = gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss))
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b = counter(b, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu.Seconds())
	}
	b = gauge(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(m.start.Unix()))
	return b
}

func value(s rtmetrics.Sample) float64 {
	switch s.Value.Kind() {
	case rtmetrics.KindUint64:
		return float64(s.Value.Uint64())
	case rtmetrics.KindFloat64:
		return s.Value.Float64()
	}
	return math.NaN()
}

// residentBytes reads the resident set size from /proc/self/statm.
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	var size, res int64
	i := 0
	for ; i < len(b) && b[i] != ' '; i++ {
		size = size*10 + int64(b[i]-'0')
	}
	for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		res = res*10 + int64(b[i]-'0')
	}
	return res * int64(os.Getpagesize()), res > 0
}

func header(b []byte, name, typ, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

func sample(b []byte, series string, v float64) []byte {
	b = append(b, series...)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	return append(b, '\n')
}

func gauge(b []byte, name, help string, v float64) []byte {
	return sample(header(b, name, "gauge", help), name, v)
}

func counter(b []byte, name, help string, v float64) []byte {
	return sample(header(b, name, "counter", help), name, v)
}

// appendLabel appends a label value escaped as the text format requires.
func appendLabel(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
