package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Config].
const (
	// DefaultModel is the embedded model served when Config.Model is empty.
	DefaultModel = "default"
	// DefaultMaxBodyBytes bounds a request body: about 3,000 instances of 64 features.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxBatch bounds the instances of one batch request.
	DefaultMaxBatch = 1000
	// DefaultMaxInFlight bounds the predictions being served at once; more get 503.
	DefaultMaxInFlight = 1024
)

// Config configures the handler. The zero value serves the default model with the
// default limits.
type Config struct {
	// Model selects the model: "default" or "large" (both embedded), or the path of an
	// XGBoost JSON model file (.json, or gzip-compressed .json.gz). Empty means "default".
	Model string
	// Loaded, when set, is served instead of loading Model.
	Loaded *Model
	// MaxBodyBytes bounds a request body; larger bodies get 413. 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxBatch bounds the instances of one batch; more get 413. 0 means DefaultMaxBatch.
	MaxBatch int
	// MaxInFlight bounds the /predict requests served at once; beyond it the answer is
	// 503 with Retry-After. 0 means DefaultMaxInFlight, a negative value no limit.
	MaxInFlight int
	// ModelMemoryBytes is memory held, touched, for the handler's lifetime: it stands
	// in for the resident size of a larger model (the workshop's MLflow model took
	// gigabytes), so memory limits bind as they would for it. 0 holds nothing.
	ModelMemoryBytes int64
	// RequestMemoryBytes is working memory allocated and touched by every /predict
	// request and held until it is answered: it stands in for per-request
	// preprocessing (a data frame), so memory grows with requests in flight.
	RequestMemoryBytes int64
	// Logger receives the handler's logs (server errors, and one debug line per request).
	// nil discards them.
	Logger *slog.Logger
	// Version is reported by GET / and in the build info metric.
	Version string
	// LLM selects the generative model served by the OpenAI-compatible endpoints:
	// empty or DefaultLLM for the embedded one, the path of a safetensors file written
	// by train/train_llm.py, or "off" for none (the /v1 endpoints then answer 404).
	LLM string
	// LoadedLLM, when set, is served instead of loading LLM.
	LoadedLLM *LLM
	// Engine configures the generative model's batching scheduler and KV cache.
	Engine EngineConfig
}

// Handler is the HTTP handler of the inference service. It is safe for concurrent use.
type Handler struct {
	cfg        Config
	model      *Model
	log        *slog.Logger
	met        *metrics
	predicting atomic.Int64
	draining   atomic.Bool
	scratch    sync.Pool
	ballast    []byte // Config.ModelMemoryBytes
	engine     *Engine
	started    time.Time
}

// NewHandler loads the configured model and returns the service's handler:
//
//	POST /predict   predict one instance or a batch
//	GET  /health    200 once the model is loaded; 503 while shutting down
//	GET  /metrics   Prometheus text format
//	GET  /          service and model metadata
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxBatch < 0 {
		return nil, fmt.Errorf("max body bytes (%d) and max batch (%d) must be positive", cfg.MaxBodyBytes, cfg.MaxBatch)
	}
	if cfg.ModelMemoryBytes < 0 || cfg.RequestMemoryBytes < 0 {
		return nil, fmt.Errorf("model memory (%d) and request memory (%d) must not be negative", cfg.ModelMemoryBytes, cfg.RequestMemoryBytes)
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	m := cfg.Loaded
	if m == nil {
		var err error
		if m, err = LoadModel(cfg.Model); err != nil {
			return nil, err
		}
	}
	h := &Handler{cfg: cfg, model: m, log: cfg.Logger, ballast: touched(cfg.ModelMemoryBytes), started: time.Now()}
	h.met = newMetrics(h)
	if err := h.loadLLM(); err != nil {
		return nil, err
	}
	h.scratch.New = func() any { return new(scratch) }
	return h, nil
}

// touched allocates n bytes and writes one byte of every page, so the memory is
// resident (counted by the cgroup), not just reserved.
func touched(n int64) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// Model returns the served model.
func (h *Handler) Model() *Model { return h.model }

// Drain makes /health answer 503 so that balancers and health checks stop sending
// traffic; requests are still served. [Serve] calls it when shutting down.
func (h *Handler) Drain() {
	h.draining.Store(true)
	if h.engine != nil {
		h.engine.Drain()
	}
}

func (h *Handler) loadLLM() error {
	lm := h.cfg.LoadedLLM
	if lm == nil {
		if h.cfg.LLM == "off" {
			return nil
		}
		var err error
		if lm, err = LoadLLM(h.cfg.LLM); err != nil {
			return err
		}
	}
	h.engine = NewEngine(lm, h.cfg.Engine, h.met)
	h.met.registerLLM(h.engine)
	return nil
}

// Engine returns the generative model's engine, nil when it is off.
func (h *Handler) Engine() *Engine { return h.engine }

// scratch holds the per-request buffers, reused through a sync.Pool.
type scratch struct {
	body    []byte
	x       []float32
	margins []float32
	out     []float64
	resp    []byte
}

// route indexes the metrics of each endpoint.
type route int

const (
	routeRoot route = iota
	routeHealth
	routeMetrics
	routePredict
	routeOther
	routeModels
	routeCompletions
	routeChat
	numRoutes
)

var routeNames = [numRoutes]string{"/", "/health", "/metrics", "/predict", "other", "/v1/models", "/v1/completions", "/v1/chat/completions"}

func routeOf(path string) route {
	switch path {
	case "/predict":
		return routePredict
	case "/health", "/healthz":
		return routeHealth
	case "/metrics":
		return routeMetrics
	case "/":
		return routeRoot
	case "/v1/models":
		return routeModels
	case "/v1/completions":
		return routeCompletions
	case "/v1/chat/completions":
		return routeChat
	}
	return routeOther
}

var (
	jsonContentType = []string{"application/json"}
	nosniff         = []string{"nosniff"}
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := routeOf(r.URL.Path)
	h.met.inFlight.Inc()
	code := http.StatusInternalServerError
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			writeError(w, &RequestError{Status: code, Code: "internal", Message: "internal error"})
		}
		d := time.Since(start)
		h.met.inFlight.Dec()
		h.met.observe(rt, code, d)
		if h.log.Enabled(r.Context(), slog.LevelDebug) {
			h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", code, "duration", d, "remote", r.RemoteAddr)
		}
	}()
	switch rt {
	case routePredict:
		code = h.predict(w, r)
	case routeHealth:
		code = h.health(w, r)
	case routeMetrics:
		code = h.metrics(w, r)
	case routeRoot:
		code = h.root(w, r)
	case routeModels, routeCompletions, routeChat:
		switch {
		case h.engine == nil:
			code = writeAPIError(w, &APIError{Status: http.StatusNotFound, Type: "invalid_request_error",
				Message: "the generative model is off (-llm off)"})
		case rt == routeModels:
			code = h.models(w, r)
		default:
			code = h.complete(w, r, rt == routeChat)
		}
	default:
		code = writeError(w, reqErr(http.StatusNotFound, CodeNotFound,
			"no endpoint %s: the endpoints are POST /predict, GET /health, GET /metrics, GET /, GET /v1/models, POST /v1/completions and POST /v1/chat/completions", truncate(r.URL.Path, 100)))
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) int {
	w.Header().Set("Allow", allow)
	return writeError(w, reqErr(http.StatusMethodNotAllowed, CodeMethod,
		"method %s is not allowed on %s, use %s", truncate(r.Method, 20), r.URL.Path, allow))
}

func (h *Handler) predict(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		return methodNotAllowed(w, r, http.MethodPost)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return writeError(w, reqErr(http.StatusUnsupportedMediaType, CodeContentType,
			"content type %q is not supported, send application/json", truncate(ct, 100)))
	}
	if max := h.cfg.MaxInFlight; max > 0 {
		if h.predicting.Add(1) > int64(max) {
			h.predicting.Add(-1)
			w.Header().Set("Retry-After", "1")
			return writeError(w, reqErr(http.StatusServiceUnavailable, CodeOverloaded,
				"overloaded: %d predictions in flight, retry later", max))
		}
		defer h.predicting.Add(-1)
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return writeError(w, tooLarge(h.cfg.MaxBodyBytes))
	}
	if n := h.cfg.RequestMemoryBytes; n > 0 {
		work := touched(n)
		defer runtime.KeepAlive(work)
	}
	s := h.scratch.Get().(*scratch)
	defer h.putScratch(s)

	var err error
	s.body, err = readBody(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), s.body[:0])
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return writeError(w, tooLarge(h.cfg.MaxBodyBytes))
		}
		return writeError(w, reqErr(http.StatusBadRequest, CodeMalformedJSON, "cannot read the body: %v", err))
	}
	m := h.model
	req, err := DecodeRequest(s.body, m, h.cfg.MaxBatch, s.x)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			return writeError(w, re)
		}
		return writeError(w, reqErr(http.StatusBadRequest, CodeMalformedJSON, "%v", err))
	}
	s.x = req.X
	if cap(s.margins) < m.Groups() {
		s.margins = make([]float32, m.Groups())
		s.out = make([]float64, max(m.Groups(), m.Outputs()))
	}
	b := s.resp[:0]
	if req.Batch {
		b = append(b, `{"predictions":[`...)
	}
	ctx := r.Context()
	nf := m.NumFeatures
	for i := range req.N {
		if req.Batch && i > 0 {
			if ctx.Err() != nil { // the client is gone: stop working for it
				return 499
			}
			b = append(b, ',')
		}
		class := m.Predict(req.X[i*nf:(i+1)*nf], s.margins, s.out)
		b = appendPrediction(b, m, class, s.out)
	}
	if req.Batch {
		b = append(b, "]}"...)
	}
	s.resp = b
	h.met.predicts.Add(float64(req.N))
	return writeJSON(w, http.StatusOK, b)
}

func (h *Handler) putScratch(s *scratch) {
	const keep = 256 << 10 // do not hoard the buffers of rare huge requests
	if cap(s.body) > keep {
		s.body = nil
	}
	if cap(s.resp) > keep {
		s.resp = nil
	}
	if cap(s.x) > keep/4 {
		s.x = nil
	}
	h.scratch.Put(s)
}

func tooLarge(limit int64) *RequestError {
	return reqErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
		"the body is larger than %d bytes: send smaller batches", limit)
}

// readBody reads all of r into buf, growing it as needed.
func readBody(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
			if cap(buf) < 4096 {
				buf = make([]byte, 0, 4096)
			}
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// appendPrediction appends the JSON answer for one instance.
func appendPrediction(b []byte, m *Model, class int, out []float64) []byte {
	if m.Kind == Regressor {
		b = append(b, `{"value":`...)
		b = strconv.AppendFloat(b, out[0], 'g', -1, 32)
		return append(b, '}')
	}
	b = append(b, `{"class":`...)
	b = strconv.AppendInt(b, int64(class), 10)
	if m.transform != hingeClass {
		b = append(b, `,"probabilities":[`...)
		for i, p := range out[:m.Outputs()] {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, p, 'g', -1, 32)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func writeJSON(w http.ResponseWriter, code int, body []byte) int {
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	hd["X-Content-Type-Options"] = nosniff
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body) //nolint:errcheck // the client may be gone; nothing to do about it
	return code
}

func writeError(w http.ResponseWriter, e *RequestError) int {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{e.Message, e.Code})
	return writeJSON(w, e.Status, append(b, '\n'))
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, r, "GET, HEAD")
	}
	if h.draining.Load() {
		return writeError(w, reqErr(http.StatusServiceUnavailable, CodeDraining, "shutting down"))
	}
	b, _ := json.Marshal(map[string]string{"status": "ok", "model": h.model.Name})
	return writeJSON(w, http.StatusOK, append(b, '\n'))
}

func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, r, "GET, HEAD")
	}
	h.met.serve.ServeHTTP(w, r)
	return http.StatusOK
}

// Info is the JSON document of GET /.
type Info struct {
	Service   string         `json:"service"`
	Version   string         `json:"version"`
	Model     ModelInfo      `json:"model"`
	Limits    map[string]any `json:"limits"`
	Runtime   map[string]any `json:"runtime"`
	Endpoints []string       `json:"endpoints"`
	// LLM describes the generative model and its limits; absent when it is off.
	LLM map[string]any `json:"llm,omitempty"`
}

func (h *Handler) root(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, r, "GET, HEAD")
	}
	info := Info{
		Service: "inference",
		Version: h.cfg.Version,
		Model:   h.model.Info(),
		Limits: map[string]any{
			"max_body_bytes": h.cfg.MaxBodyBytes,
			"max_batch":      h.cfg.MaxBatch,
			"max_in_flight":  max(h.cfg.MaxInFlight, 0),
		},
		Runtime: map[string]any{
			"go_version":         runtime.Version(),
			"gomaxprocs":         runtime.GOMAXPROCS(0),
			"memory_limit_bytes": debug.SetMemoryLimit(-1),
		},
		Endpoints: []string{"POST /predict", "GET /health", "GET /metrics", "GET /"},
	}
	if h.engine != nil {
		lm, ec := h.engine.Model(), h.engine.Config()
		info.LLM = map[string]any{"name": lm.Name, "parameters": lm.Params, "context": lm.Config.Context,
			"max_running": ec.MaxRunning, "max_waiting": ec.MaxWaiting, "kv_cache_bytes": ec.KVCacheBytes}
		info.Endpoints = append(info.Endpoints, "GET /v1/models", "POST /v1/completions", "POST /v1/chat/completions")
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return writeError(w, &RequestError{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()})
	}
	return writeJSON(w, http.StatusOK, append(b, '\n'))
}
