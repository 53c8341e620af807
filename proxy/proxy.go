package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Policies.
const (
	RoundRobin = "round_robin"
	LeastConn  = "least_conn"
)

// Policies lists the valid balancing policies.
var Policies = []string{RoundRobin, LeastConn}

// Defaults of Config.
const (
	DefaultResolveInterval = time.Second
	DefaultHealthInterval  = time.Second
	DefaultRetryAfter      = 2 * time.Second
	// DefaultMaxRetryBody is the largest request body kept to retry a request on
	// another upstream after a refused connection.
	DefaultMaxRetryBody = 4 << 20
)

// Resolver finds the addresses of a host name (net.DefaultResolver does).
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Config configures a Proxy.
type Config struct {
	// Upstream is the name and port to resolve, e.g. "app:8000". Every address the
	// name resolves to is one upstream.
	Upstream string
	// Static lists upstream addresses (host:port) used as they are; when set,
	// Upstream is not resolved.
	Static []string
	// Policy is round_robin (the default) or least_conn.
	Policy string
	// Health is the upstreams' health path, e.g. /health. When set, an upstream
	// takes requests only after answering it with 2xx, and is checked every
	// HealthInterval. Empty: upstreams take requests as soon as they are found.
	Health string
	// ResolveInterval is how often Upstream is resolved again.
	ResolveInterval time.Duration
	// HealthInterval is how often every upstream's Health is checked.
	HealthInterval time.Duration
	// RetryAfter is how long an upstream that refused a connection stays out
	// (without Health; with Health it returns once its check passes).
	RetryAfter time.Duration
	// MaxRetryBody is the largest request body buffered so that the request can be
	// retried on another upstream; 0 means DefaultMaxRetryBody.
	MaxRetryBody int64
	// Resolver resolves Upstream; nil means net.DefaultResolver.
	Resolver Resolver
	// Transport sends the proxied requests; nil means a keep-alive http.Transport.
	Transport http.RoundTripper
	// Logger receives changes of the upstream set; nil discards them.
	Logger *slog.Logger
}

// upstream is one replica address and its counters.
type upstream struct {
	addr     string
	requests atomic.Uint64
	errors   atomic.Uint64
	failures atomic.Uint64
	inFlight atomic.Int64

	// Guarded by Proxy.mu.
	ready     bool      // passed its health check (always true without Health)
	removed   bool      // no longer in the resolved set
	downUntil time.Time // refused a connection; out until then
}

// Proxy is the load balancer: an http.Handler. Use New, then Run.
type Proxy struct {
	cfg  Config
	rp   *httputil.ReverseProxy
	base http.RoundTripper
	hc   *http.Client
	now  func() time.Time

	mu   sync.Mutex
	ups  []*upstream // sorted by address, removed ones included
	next int

	noUpstream atomic.Uint64

	metrics http.Handler // GET /proxy/metrics
}

// New checks cfg and returns a proxy with no upstream yet (Static ones excepted).
func New(cfg Config) (*Proxy, error) {
	if cfg.Policy == "" {
		cfg.Policy = RoundRobin
	}
	if !slices.Contains(Policies, cfg.Policy) {
		return nil, fmt.Errorf("policy %q: use round_robin or least_conn", cfg.Policy)
	}
	if len(cfg.Static) == 0 {
		if _, _, err := net.SplitHostPort(cfg.Upstream); err != nil {
			return nil, fmt.Errorf("upstream %q: want NAME:PORT, e.g. app:8000", cfg.Upstream)
		}
	}
	for _, a := range cfg.Static {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("static upstream %q: want HOST:PORT", a)
		}
	}
	if cfg.Health != "" && cfg.Health[0] != '/' {
		return nil, fmt.Errorf("health path %q must start with /", cfg.Health)
	}
	if cfg.ResolveInterval <= 0 {
		cfg.ResolveInterval = DefaultResolveInterval
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.MaxRetryBody <= 0 {
		cfg.MaxRetryBody = DefaultMaxRetryBody
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg, base: cfg.Transport, now: time.Now}
	if p.base == nil {
		p.base = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
	}
	p.hc = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "upstream" // the transport picks the address
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport:     transport{p},
		BufferPool:    bufferPool{},
		FlushInterval: -1,
		ErrorHandler:  p.fail,
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	if len(cfg.Static) > 0 {
		p.setUpstreams(cfg.Static)
	}
	p.metrics = p.newMetrics()
	return p, nil
}

// Run resolves the upstreams and checks their health until ctx is done; it
// returns ctx's error. The first resolution happens before Run waits.
func (p *Proxy) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if len(p.cfg.Static) == 0 {
		wg.Go(func() { p.every(ctx, p.cfg.ResolveInterval, p.Resolve) })
	}
	if p.cfg.Health != "" {
		wg.Go(func() { p.every(ctx, p.cfg.HealthInterval, p.CheckHealth) })
	}
	wg.Wait()
	<-ctx.Done()
	return ctx.Err()
}

func (p *Proxy) every(ctx context.Context, d time.Duration, f func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		if err := f(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("upstream discovery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Resolve looks Upstream up once and updates the upstream set: new addresses are
// added, vanished ones removed (their counters are kept). A failed lookup changes
// nothing, except that a name that does not exist (no replica runs) empties the set.
func (p *Proxy) Resolve(ctx context.Context) error {
	host, port, _ := net.SplitHostPort(p.cfg.Upstream)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ips, err := p.cfg.Resolver.LookupHost(ctx, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			p.setUpstreams(nil)
		}
		return fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	addrs := make([]string, len(ips))
	for i, ip := range ips {
		addrs[i] = net.JoinHostPort(ip, port)
	}
	p.setUpstreams(addrs)
	return nil
}

// setUpstreams makes addrs the current upstream set.
func (p *Proxy) setUpstreams(addrs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	for _, u := range p.ups {
		switch {
		case want[u.addr] && u.removed:
			u.removed, u.ready, u.downUntil = false, p.cfg.Health == "", time.Time{}
			p.cfg.Logger.Info("upstream back", "addr", u.addr)
		case !want[u.addr] && !u.removed:
			u.removed = true
			p.cfg.Logger.Info("upstream removed", "addr", u.addr)
		}
		delete(want, u.addr)
	}
	for a := range want {
		p.ups = append(p.ups, &upstream{addr: a, ready: p.cfg.Health == ""})
		p.cfg.Logger.Info("upstream added", "addr", a)
	}
	slices.SortFunc(p.ups, func(a, b *upstream) int { return compareAddr(a.addr, b.addr) })
}

// compareAddr orders addresses by IP numerically where it can, so that the order
// (and round-robin's order) is stable and readable.
func compareAddr(a, b string) int {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	ia, ib := net.ParseIP(ha), net.ParseIP(hb)
	if ia != nil && ib != nil && !ia.Equal(ib) {
		return bytes.Compare(ia.To16(), ib.To16())
	}
	if ha != hb {
		return cmpString(ha, hb)
	}
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	return na - nb
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CheckHealth probes every present upstream's Health path once, concurrently, and
// lets those answering 2xx take requests. Without Health it does nothing.
func (p *Proxy) CheckHealth(ctx context.Context) error {
	if p.cfg.Health == "" {
		return nil
	}
	p.mu.Lock()
	var ups []*upstream
	for _, u := range p.ups {
		if !u.removed {
			ups = append(ups, u)
		}
	}
	p.mu.Unlock()
	ok := make([]bool, len(ups))
	var wg sync.WaitGroup
	for i, u := range ups {
		wg.Go(func() { ok[i] = p.probe(ctx, u.addr) == nil })
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, u := range ups {
		if ok[i] != u.ready {
			p.cfg.Logger.Info("upstream health", "addr", u.addr, "healthy", ok[i])
		}
		u.ready = ok[i]
		if ok[i] {
			u.downUntil = time.Time{}
		}
	}
	return nil
}

func (p *Proxy) probe(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.cfg.Health, nil)
	if err != nil {
		return err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// eligible reports whether u may take a request now. Call with mu held.
func (u *upstream) eligible(now time.Time) bool {
	return !u.removed && u.ready && !now.Before(u.downUntil)
}

// pick chooses the upstream for the next request, skipping those in tried; nil
// when none can take it.
func (p *Proxy) pick(tried []*upstream) *upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := len(p.ups)
	var best *upstream
	bestIdx := 0
	for k := range n {
		i := (p.next + k) % n
		u := p.ups[i]
		if !u.eligible(now) || slices.Contains(tried, u) {
			continue
		}
		if best == nil || (p.cfg.Policy == LeastConn && u.inFlight.Load() < best.inFlight.Load()) {
			best, bestIdx = u, i
			if p.cfg.Policy == RoundRobin {
				break
			}
		}
	}
	if best != nil {
		p.next = bestIdx + 1
	}
	return best
}

// markDown takes u out after a refused connection.
func (p *Proxy) markDown(u *upstream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u.downUntil = p.now().Add(p.cfg.RetryAfter)
	if p.cfg.Health != "" {
		u.ready = false
	}
	p.cfg.Logger.Warn("upstream taken out", "addr", u.addr, "for", p.cfg.RetryAfter)
}

// ServeHTTP serves the proxy's own paths and proxies everything else.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/proxy/health":
		p.serveHealth(w, r)
	case "/proxy/stats":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(p.Stats())
	case "/proxy/metrics":
		p.metrics.ServeHTTP(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func (p *Proxy) serveHealth(w http.ResponseWriter, r *http.Request) {
	want := 1
	if v := r.URL.Query().Get("min"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "min must be a whole number of 1 or more", "code": "bad_request"})
			return
		}
		want = n
	}
	ready := p.Ready()
	body := map[string]any{"status": "ok", "upstreams": ready, "want": want}
	code := http.StatusOK
	if ready < want {
		body["status"] = "waiting for upstreams"
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

// Ready is the number of upstreams that can take requests now.
func (p *Proxy) Ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	now := p.now()
	for _, u := range p.ups {
		if u.eligible(now) {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// errNoUpstream is the error of a request no upstream could take.
var errNoUpstream = errors.New("no upstream can take the request")

// upstreamError is a transport failure of one upstream.
type upstreamError struct {
	addr string
	err  error
}

func (e *upstreamError) Error() string { return fmt.Sprintf("upstream %s: %v", e.addr, e.err) }
func (e *upstreamError) Unwrap() error { return e.err }

// fail answers a request that could not be proxied: 502 with a JSON body.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	body := map[string]string{"error": err.Error(), "code": "bad_gateway"}
	var ue *upstreamError
	switch {
	case errors.Is(err, errNoUpstream):
		body["code"] = "no_upstream"
	case errors.As(err, &ue):
		body["upstream"] = ue.addr
	}
	if r.Context().Err() != nil {
		body["code"] = "client_gone"
	}
	writeJSON(w, http.StatusBadGateway, body)
}

// transport sends a proxied request to the upstream the policy picks, and to
// another one when an upstream refuses the connection.
type transport struct{ p *Proxy }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.p
	var body []byte
	retry := true
	if req.Body != nil && req.Body != http.NoBody {
		if req.ContentLength < 0 || req.ContentLength > p.cfg.MaxRetryBody {
			retry = false // streamed as is, tried once
		} else {
			b, err := io.ReadAll(io.LimitReader(req.Body, p.cfg.MaxRetryBody+1))
			req.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("reading the request body: %w", err)
			}
			body = b
		}
	}
	var tried []*upstream
	var lastErr error = errNoUpstream
	for {
		u := p.pick(tried)
		if u == nil {
			if len(tried) == 0 {
				p.noUpstream.Add(1)
			}
			return nil, lastErr
		}
		tried = append(tried, u)
		out := req.Clone(req.Context())
		out.URL.Host = u.addr
		if out.Host == "" {
			out.Host = u.addr
		}
		if retry && body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		var reused bool
		out = out.WithContext(httptrace.WithClientTrace(out.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		u.requests.Add(1)
		u.inFlight.Add(1)
		resp, err := p.base.RoundTrip(out)
		if err != nil {
			u.inFlight.Add(-1)
			u.errors.Add(1)
			lastErr = &upstreamError{addr: u.addr, err: err}
			if req.Context().Err() != nil {
				return nil, lastErr
			}
			switch {
			case refused(err):
				u.failures.Add(1)
				p.markDown(u)
				if retry {
					continue
				}
			case reused && retry && stale(err):
				// The upstream closed a kept-alive connection as the request went
				// out (a replica that died or timed its idle connections out):
				// nothing was answered. Send it once more elsewhere, as Go's
				// transport does for idempotent requests; predictions are.
				// The upstream is not taken out: a fresh dial decides that.
				continue
			}
			return nil, lastErr
		}
		if resp.StatusCode >= 500 {
			u.errors.Add(1)
		}
		resp.Header.Set("X-Proxy-Upstream", u.addr)
		resp.Body = &countedBody{ReadCloser: resp.Body, u: u}
		return resp, nil
	}
}

// refused reports whether err means the request never reached the upstream (the
// connection could not be made), so that it is safe to send it elsewhere.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// stale reports whether err is a kept-alive connection found closed by the
// upstream before any answer: EOF or a reset while writing or awaiting the head.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// countedBody ends an upstream's request in flight when the response body is
// closed.
type countedBody struct {
	io.ReadCloser
	u    *upstream
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.u.inFlight.Add(-1) })
	return b.ReadCloser.Close()
}

// buffers are the response copy buffers, reused instead of 32 KiB per request.
var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufferPool is httputil.BufferPool over buffers.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
