package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"time"
)

// Defaults of [ServerConfig].
const (
	DefaultAddr              = ":8000"
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	// DefaultShutdownTimeout stays below Docker's 10 s between SIGTERM and SIGKILL.
	DefaultShutdownTimeout = 8 * time.Second
	DefaultMaxHeaderBytes  = 64 << 10
)

// ServerConfig configures the HTTP server. Zero durations mean the defaults above.
type ServerConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to the end of the
	// answer.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next request.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown: requests still running after it are
	// cut off.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes int
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

func (sc ServerConfig) withDefaults() ServerConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&sc.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&sc.ReadTimeout, DefaultReadTimeout)
	def(&sc.WriteTimeout, DefaultWriteTimeout)
	def(&sc.IdleTimeout, DefaultIdleTimeout)
	def(&sc.ShutdownTimeout, DefaultShutdownTimeout)
	if sc.MaxHeaderBytes == 0 {
		sc.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if sc.Logger == nil {
		sc.Logger = slog.New(slog.DiscardHandler)
	}
	return sc
}

// Serve serves h on ln until ctx is done, then shuts down gracefully: /health turns 503
// (when h has a Drain method), the listener closes, idle connections close, and requests
// in flight run to completion within ShutdownTimeout. It returns nil after a clean
// shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, sc ServerConfig) error {
	sc = sc.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: sc.ReadHeaderTimeout,
		ReadTimeout:       sc.ReadTimeout,
		WriteTimeout:      sc.WriteTimeout,
		IdleTimeout:       sc.IdleTimeout,
		MaxHeaderBytes:    sc.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(sc.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("cannot serve: %w", err)
	case <-ctx.Done():
	}
	sc.Logger.Info("shutting down: finishing requests in flight", "timeout", sc.ShutdownTimeout)
	if d, ok := h.(interface{ Drain() }); ok {
		d.Drain()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("graceful shutdown did not finish within %s: %w", sc.ShutdownTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("cannot serve: %w", err)
	}
	sc.Logger.Info("stopped")
	return nil
}

// Options is everything the inference binary is configured with.
type Options struct {
	// Addr is the address to listen on, for example ":8000" or "127.0.0.1:0".
	Addr string
	// Handler configures the HTTP handler (model and limits).
	Handler Config
	// Server configures timeouts and shutdown.
	Server ServerConfig
	// MemoryLimitRatio is the share of the cgroup memory limit set as GOMEMLIMIT (unless
	// the GOMEMLIMIT environment variable is set); 0 leaves the runtime's limit alone.
	MemoryLimitRatio float64
	// KVCacheRatio sizes the generative model's KV cache as a share of the cgroup
	// memory limit when Handler.Engine.KVCacheBytes is 0; without a cgroup limit (or
	// with 0) the cache gets DefaultKVCacheBytes.
	KVCacheRatio float64
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
	// Ready, when set, is called with the listening address once the model is loaded and
	// the service accepts connections.
	Ready func(net.Addr)
}

// Run is the whole service: it applies the container's memory limit, loads the model,
// listens, serves until ctx is done and shuts down gracefully.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ml := ApplyMemoryLimit(o.MemoryLimitRatio)
	memAttr := slog.Int64("gomemlimit_bytes", ml.Bytes)
	if ml.Bytes == math.MaxInt64 {
		memAttr = slog.String("gomemlimit_bytes", "none")
	}
	log.Info("runtime limits", "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", runtime.NumCPU(),
		"cgroup", ml.Cgroup, "cgroup_cpu_limit", CPULimit(), "cgroup_memory_limit_bytes", ml.CgroupBytes,
		memAttr, "gomemlimit_source", ml.Source)

	if o.Handler.Engine.KVCacheBytes == 0 && ml.CgroupBytes > 0 && o.KVCacheRatio > 0 {
		o.Handler.Engine.KVCacheBytes = int64(float64(ml.CgroupBytes) * min(o.KVCacheRatio, 1))
	}
	start := time.Now()
	o.Handler.Logger = log
	h, err := NewHandler(o.Handler)
	if err != nil {
		return err
	}
	m := h.Model()
	log.Info("model loaded", "model", m.Name, "objective", m.Objective, "features", m.NumFeatures,
		"classes", m.NumClasses, "trees", m.NumTrees, "nodes", m.NumNodes, "load_time", time.Since(start).Round(time.Millisecond))

	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	if e := h.Engine(); e != nil {
		ec := e.Config()
		log.Info("generative model loaded", "llm", e.Model().Name, "parameters", e.Model().Params,
			"context", e.Model().Config.Context, "kv_cache_bytes", ec.KVCacheBytes,
			"max_running", ec.MaxRunning, "max_waiting", ec.MaxWaiting, "kernels", e.Model().Kernels())
	}
	log.Info("listening", "addr", ln.Addr().String(), "max_in_flight", max(h.cfg.MaxInFlight, 0),
		"max_batch", h.cfg.MaxBatch, "max_body_bytes", h.cfg.MaxBodyBytes)
	if o.Ready != nil {
		o.Ready(ln.Addr())
	}
	o.Server.Logger = log
	return Serve(ctx, ln, h, o.Server)
}
