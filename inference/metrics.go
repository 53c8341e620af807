package inference

// The metrics go through prometheus/client_golang, with its standard Go runtime and
// process collectors. Only this file imports it.

import (
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the upper bounds of the latency histogram, in seconds.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// tokenBuckets are the upper bounds of the time to first token and between tokens.
var tokenBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30}

const maxCode = 600

type metrics struct {
	h        *Handler
	reg      *prometheus.Registry
	serve    http.Handler
	requests *prometheus.CounterVec
	latency  [numRoutes]prometheus.Observer
	inFlight prometheus.Gauge
	predicts prometheus.Counter

	codes sync.Map // route<<16|code -> prometheus.Counter

	promptTokens, genTokens prometheus.Counter
	ttft, itl, step         prometheus.Histogram
	finished                *prometheus.CounterVec
}

func newMetrics(h *Handler) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{h: h, reg: reg}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inference_http_requests_total",
		Help: "HTTP requests answered, by handler and status code."}, []string{"handler", "code"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "inference_http_request_duration_seconds",
		Help: "Time from receiving a request to answering it, by handler.", Buckets: latencyBuckets}, []string{"handler"})
	for rt := range numRoutes {
		m.latency[rt] = lat.WithLabelValues(routeNames[rt])
	}
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "inference_http_requests_in_flight", Help: "HTTP requests being served."})
	m.predicts = prometheus.NewCounter(prometheus.CounterOpts{Name: "inference_predictions_total",
		Help: "Instances predicted (a batch counts each instance)."})
	f(m.requests)
	f(lat)
	f(m.inFlight)
	f(m.predicts)
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "inference_predict_requests_in_flight",
		Help: "Prediction requests being served (capped by the in-flight limit)."}, func() float64 { return float64(h.predicting.Load()) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "inference_predict_max_in_flight",
		Help: "Limit of prediction requests served at once (0: no limit)."}, func() float64 { return float64(max(h.cfg.MaxInFlight, 0)) }))
	md := h.model
	f(constGauge("inference_model_info", "The served model; the value is always 1.", 1, prometheus.Labels{
		"name": md.Name, "objective": md.Objective, "booster": md.Booster, "xgboost_version": md.XGBoostVersion,
		"features": strconv.Itoa(md.NumFeatures), "classes": strconv.Itoa(md.NumClasses), "trees": strconv.Itoa(md.NumTrees)}))
	f(constGauge("inference_model_trees", "Trees in the served model.", float64(md.NumTrees), nil))
	f(constGauge("inference_model_nodes", "Tree nodes in the served model.", float64(md.NumNodes), nil))
	f(constGauge("inference_build_info", "Version of the service; the value is always 1.", 1,
		prometheus.Labels{"version": h.cfg.Version, "goversion": runtime.Version()}))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.serve = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

func constGauge(name, help string, v float64, labels prometheus.Labels) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
	g.Set(v)
	return g
}

// registerLLM adds the generative model's metrics, read from e.
func (m *metrics) registerLLM(e *Engine) {
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.promptTokens = prometheus.NewCounter(prometheus.CounterOpts{Name: "inference_llm_prompt_tokens_total",
		Help: "Prompt tokens processed (prefill)."})
	m.genTokens = prometheus.NewCounter(prometheus.CounterOpts{Name: "inference_llm_generated_tokens_total",
		Help: "Tokens generated."})
	m.ttft = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inference_llm_time_to_first_token_seconds",
		Help: "Time from submitting a sequence to its first generated token (queueing and prefill).", Buckets: tokenBuckets})
	m.itl = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inference_llm_inter_token_latency_seconds",
		Help: "Time between two generated tokens of a sequence.", Buckets: tokenBuckets})
	m.step = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "inference_llm_step_duration_seconds",
		Help: "Time of one batched forward pass.", Buckets: tokenBuckets})
	m.finished = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inference_llm_sequences_total",
		Help: "Sequences ended, by reason: stop, length or cancelled."}, []string{"finish"})
	for _, c := range []prometheus.Collector{m.promptTokens, m.genTokens, m.ttft, m.itl, m.step, m.finished} {
		f(c)
	}
	stat := func(name, help string, get func(r, w int, kv int64) float64) {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			r, w, kv := e.Stats()
			return get(r, w, kv)
		}))
	}
	stat("inference_llm_sequences_running", "Sequences in the running batch.", func(r, _ int, _ int64) float64 { return float64(r) })
	stat("inference_llm_sequences_waiting", "Sequences waiting to join the batch.", func(_, w int, _ int64) float64 { return float64(w) })
	stat("inference_llm_kv_cache_used_bytes", "KV-cache bytes reserved by the running sequences.", func(_, _ int, kv int64) float64 { return float64(kv) })
	f(constGauge("inference_llm_kv_cache_limit_bytes", "KV-cache limit in bytes.", float64(e.cfg.KVCacheBytes), nil))
	f(constGauge("inference_llm_max_running", "Limit of sequences in the running batch.", float64(e.cfg.MaxRunning), nil))
	f(constGauge("inference_llm_model_info", "The generative model; the value is always 1.", 1, prometheus.Labels{
		"name": e.m.Name, "parameters": strconv.Itoa(e.m.Params), "context": strconv.Itoa(e.m.Config.Context)}))
}

func (m *metrics) observe(rt route, code int, d time.Duration) {
	if code < 100 || code >= maxCode {
		code = 0
	}
	key := int(rt)<<16 | code
	c, ok := m.codes.Load(key)
	if !ok {
		c, _ = m.codes.LoadOrStore(key, m.requests.WithLabelValues(routeNames[rt], strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
	m.latency[rt].Observe(d.Seconds())
}

// Step implements EngineObserver.
func (m *metrics) Step(prompt, generated int, d time.Duration) {
	m.promptTokens.Add(float64(prompt))
	m.genTokens.Add(float64(generated))
	m.step.Observe(d.Seconds())
}

// Token implements EngineObserver.
func (m *metrics) Token(first bool, d time.Duration) {
	if first {
		m.ttft.Observe(d.Seconds())
	} else {
		m.itl.Observe(d.Seconds())
	}
}

// Finished implements EngineObserver.
func (m *metrics) Finished(reason string) { m.finished.WithLabelValues(reason).Inc() }
