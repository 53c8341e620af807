package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// backend is an httptest server that names itself in its answers.
func backend(t *testing.T, name string, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s", name, r.URL.Path, body)
		}
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func addr(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

func newProxy(t *testing.T, cfg Config) (*Proxy, *httptest.Server) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	return p, front
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func counts(p *Proxy) map[string]uint64 {
	m := map[string]uint64{}
	for _, u := range p.Stats().Upstreams {
		m[u.Address] = u.Requests
	}
	return m
}

func TestRoundRobinIsEven(t *testing.T) {
	var addrs []string
	for i := range 3 {
		addrs = append(addrs, addr(backend(t, fmt.Sprint("b", i), nil)))
	}
	p, front := newProxy(t, Config{Static: addrs})
	for range 300 {
		if code, body, _ := get(t, front.URL+"/predict"); code != 200 || !strings.Contains(body, "/predict") {
			t.Fatalf("got %d %q", code, body)
		}
	}
	for a, n := range counts(p) {
		if n != 100 {
			t.Errorf("%s got %d requests, want exactly 100 of 300", a, n)
		}
	}
}

func TestLeastConnPrefersIdleUpstream(t *testing.T) {
	release := make(chan struct{})
	held := make(chan string, 1)
	h := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				held <- name
				<-release
			}
			io.WriteString(w, name)
		}
	}
	a, b := backend(t, "a", h("a")), backend(t, "b", h("b"))
	p, front := newProxy(t, Config{Static: []string{addr(a), addr(b)}, Policy: LeastConn})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Get(front.URL + "/hold"); err == nil {
			resp.Body.Close()
		}
	}()
	busy := <-held
	// While one request is held by one upstream, every new one must go to the other.
	for range 20 {
		if _, body, _ := get(t, front.URL+"/x"); body == busy {
			t.Fatalf("least_conn sent a request to the busy upstream %s", busy)
		}
	}
	close(release)
	<-done
	// The proxy closes the upstream's body just after the client has the answer.
	waitIdle(t, p)
}

// waitIdle fails t unless every upstream's in-flight count drops to 0 within 5s.
func waitIdle(t *testing.T, p *Proxy) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := ""
		for _, u := range p.Stats().Upstreams {
			if u.InFlight != 0 {
				busy = fmt.Sprintf("%s still has %d in flight", u.Address, u.InFlight)
			}
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(busy)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLeastConnChoosesFewestInFlight(t *testing.T) {
	p, err := New(Config{Static: []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}, Policy: LeastConn})
	if err != nil {
		t.Fatal(err)
	}
	p.ups[0].inFlight.Store(5)
	p.ups[1].inFlight.Store(1)
	p.ups[2].inFlight.Store(3)
	for range 5 {
		if u := p.pick(nil); u.addr != "10.0.0.2:80" {
			t.Fatalf("picked %s, want the least busy 10.0.0.2:80", u.addr)
		}
	}
	p.ups[2].inFlight.Store(1) // a tie: alternate between the two
	seen := map[string]int{}
	for range 10 {
		seen[p.pick(nil).addr]++
	}
	if seen["10.0.0.2:80"] != 5 || seen["10.0.0.3:80"] != 5 {
		t.Errorf("ties were not shared round-robin: %v", seen)
	}
}

// fakeResolver answers from a map that tests change.
type fakeResolver struct {
	mu   sync.Mutex
	ips  map[string][]string
	errs map[string]error
}

func (f *fakeResolver) set(host string, ips ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ips[host] = ips
}

func (f *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[host]; err != nil {
		return nil, err
	}
	ips, ok := f.ips[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return ips, nil
}

func states(p *Proxy) map[string]string {
	m := map[string]string{}
	for _, u := range p.Stats().Upstreams {
		m[u.Address] = u.State
	}
	return m
}

func TestDiscoveryAddsAndRemovesUpstreams(t *testing.T) {
	r := &fakeResolver{ips: map[string][]string{}, errs: map[string]error{}}
	p, err := New(Config{Upstream: "app:8000", Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := p.Resolve(ctx); err == nil {
		t.Fatal("resolving a missing name gave no error")
	}
	if p.Ready() != 0 {
		t.Fatalf("%d upstreams before any replica", p.Ready())
	}
	r.set("app", "172.18.0.3", "172.18.0.2")
	if err := p.Resolve(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"172.18.0.2:8000": StateUp, "172.18.0.3:8000": StateUp}
	if got := states(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after discovery: %v, want %v", got, want)
	}
	if got := p.Stats().Upstreams[0].Address; got != "172.18.0.2:8000" {
		t.Errorf("upstreams not ordered by address: first is %s", got)
	}
	r.set("app", "172.18.0.3", "172.18.0.4")
	p.Resolve(ctx)
	want = map[string]string{"172.18.0.2:8000": StateRemoved, "172.18.0.3:8000": StateUp, "172.18.0.4:8000": StateUp}
	if got := states(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a change: %v, want %v", got, want)
	}
	for range 10 {
		if u := p.pick(nil); u.addr == "172.18.0.2:8000" {
			t.Fatal("a removed upstream was picked")
		}
	}
	// A failing lookup (not "not found") keeps the set.
	r.errs["app"] = &net.DNSError{Err: "timeout", Name: "app", IsTimeout: true}
	if err := p.Resolve(ctx); err == nil {
		t.Fatal("want the lookup error")
	}
	if p.Ready() != 2 {
		t.Errorf("a failed lookup changed the set: %v", states(p))
	}
	delete(r.errs, "app")
	r.set("app", "172.18.0.2")
	p.Resolve(ctx)
	want = map[string]string{"172.18.0.2:8000": StateUp, "172.18.0.3:8000": StateRemoved, "172.18.0.4:8000": StateRemoved}
	if got := states(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a return: %v, want %v", got, want)
	}
	delete(r.ips, "app")
	p.Resolve(ctx)
	if p.Ready() != 0 {
		t.Errorf("the name vanished but %d upstreams remain", p.Ready())
	}
}

func TestRunResolvesPeriodically(t *testing.T) {
	r := &fakeResolver{ips: map[string][]string{"app": {"127.0.0.1"}}, errs: map[string]error{}}
	p, err := New(Config{Upstream: "app:1", Resolver: r, ResolveInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	r.set("app", "127.0.0.1", "127.0.0.2")
	deadline := time.Now().Add(5 * time.Second)
	for p.Ready() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if p.Ready() != 2 {
		t.Fatalf("Run did not pick up the second address: %v", states(p))
	}
}

func TestRefusingUpstreamIsTakenOutAndRetriedLater(t *testing.T) {
	good := backend(t, "good", nil)
	// A port that refuses: listen, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	p, front := newProxy(t, Config{Static: []string{addr(good), dead}, RetryAfter: time.Hour})
	now := time.Now()
	p.now = func() time.Time { return now }
	for i := range 20 {
		code, body, _ := get(t, front.URL+"/p")
		if code != 200 || !strings.HasPrefix(body, "good") {
			t.Fatalf("request %d: %d %q; a refused connection must be retried on another upstream", i, code, body)
		}
	}
	st := map[string]UpstreamStats{}
	for _, u := range p.Stats().Upstreams {
		st[u.Address] = u
	}
	if d := st[dead]; d.State != StateDown || d.Failures != 1 || d.Requests != 1 {
		t.Errorf("refusing upstream: %+v, want down after exactly one attempt", d)
	}
	if g := st[addr(good)]; g.Requests != 20 || g.Errors != 0 {
		t.Errorf("good upstream: %+v, want all 20 requests", g)
	}
	// After RetryAfter it is tried again (and taken out again, as it still refuses).
	now = now.Add(2 * time.Hour)
	if p.Ready() != 2 {
		t.Fatalf("after RetryAfter: %v", states(p))
	}
	get(t, front.URL+"/p")
	get(t, front.URL+"/p")
	if got := p.Stats(); got.Upstreams[0].Failures+got.Upstreams[1].Failures != 2 {
		t.Errorf("the upstream was not retried after RetryAfter: %+v", got.Upstreams)
	}
}

// postX posts {"x":1} to /predict and returns the status and body.
func postX(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/predict", "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestUpstreamFailingMidRun(t *testing.T) {
	a := backend(t, "a", nil)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "b %s", body)
	}))
	defer b.Close()
	p, front := newProxy(t, Config{Static: []string{addr(a), addr(b)}, RetryAfter: time.Hour})
	post := func() (int, string) { return postX(t, front.URL) }
	seen := map[string]int{}
	for range 10 {
		code, body := post()
		if code != 200 {
			t.Fatalf("%d %q", code, body)
		}
		seen[body[:1]]++
	}
	if seen["a"] != 5 || seen["b"] != 5 {
		t.Fatalf("before the failure: %v", seen)
	}
	b.CloseClientConnections()
	b.Close() // the replica dies mid-run: its port now refuses
	for i := range 10 {
		code, body := post()
		if code != 200 || body != `a /predict {"x":1}` {
			t.Fatalf("request %d after the failure: %d %q (the body must be resent whole)", i, code, body)
		}
	}
	if s := states(p); s[addr(b)] != StateDown || s[addr(a)] != StateUp {
		t.Errorf("states after the failure: %v", s)
	}
}

func TestNoUpstreamIs502JSON(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	p, front := newProxy(t, Config{Static: []string{dead}})
	for i, wantCode := range []string{"bad_gateway", "no_upstream"} {
		code, body, h := get(t, front.URL+"/predict")
		if code != http.StatusBadGateway || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("request %d: %d %s %q, want 502 JSON", i, code, h.Get("Content-Type"), body)
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("request %d: body is not JSON: %q", i, body)
		}
		if v["code"] != wantCode || v["error"] == "" {
			t.Errorf("request %d: %v, want code %s", i, v, wantCode)
		}
		if i == 0 && v["upstream"] != dead {
			t.Errorf("the first error does not name the upstream: %v", v)
		}
	}
	if p.Stats().NoUpstream != 1 {
		t.Errorf("no_upstream = %d, want 1", p.Stats().NoUpstream)
	}
}

func TestActiveHealthChecks(t *testing.T) {
	var mu sync.Mutex
	healthy := false
	b := backend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := healthy
		mu.Unlock()
		if r.URL.Path == "/health" && !ok {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "b")
	})
	p, front := newProxy(t, Config{Static: []string{addr(b)}, Health: "/health"})
	if code, _, _ := get(t, front.URL+"/proxy/health"); code != 503 {
		t.Errorf("health before any check passed: %d, want 503", code)
	}
	if code, _, _ := get(t, front.URL+"/x"); code != 502 {
		t.Errorf("an unready upstream took a request: %d", code)
	}
	p.CheckHealth(t.Context())
	if p.Ready() != 0 {
		t.Fatal("an upstream answering 503 became ready")
	}
	mu.Lock()
	healthy = true
	mu.Unlock()
	p.CheckHealth(t.Context())
	if code, body, _ := get(t, front.URL+"/proxy/health"); code != 200 || !strings.Contains(body, `"upstreams":1`) {
		t.Errorf("health: %d %q", code, body)
	}
	if code, _, _ := get(t, front.URL+"/proxy/health?min=2"); code != 503 {
		t.Errorf("health?min=2 with one upstream: %d, want 503", code)
	}
	if code, _, _ := get(t, front.URL+"/proxy/health?min=x"); code != 400 {
		t.Errorf("health?min=x: %d, want 400", code)
	}
	if code, body, h := get(t, front.URL+"/x"); code != 200 || body != "b" || h.Get("X-Proxy-Upstream") != addr(b) {
		t.Errorf("proxied: %d %q %v", code, body, h)
	}
}

func TestStatsAndMetrics(t *testing.T) {
	ok := backend(t, "ok", nil)
	bad := backend(t, "bad", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	p, front := newProxy(t, Config{Static: []string{addr(ok), addr(bad)}})
	for range 4 {
		get(t, front.URL+"/")
	}
	code, body, _ := get(t, front.URL+"/proxy/stats")
	var s Stats
	if err := json.Unmarshal([]byte(body), &s); code != 200 || err != nil {
		t.Fatalf("stats: %d %v %q", code, err, body)
	}
	if s.Policy != RoundRobin || len(s.Upstreams) != 2 {
		t.Fatalf("stats: %+v", s)
	}
	waitIdle(t, p)
	for _, u := range s.Upstreams {
		wantErr := uint64(0)
		if u.Address == addr(bad) {
			wantErr = 2
		}
		if u.Requests != 2 || u.Errors != wantErr {
			t.Errorf("%s: %+v, want 2 requests, %d errors", u.Address, u, wantErr)
		}
	}
	fetched, err := FetchStats(t.Context(), front.URL)
	if err != nil || fmt.Sprint(fetched) != fmt.Sprint(p.Stats()) {
		t.Errorf("FetchStats: %v %+v", err, fetched)
	}
	_, metrics, _ := get(t, front.URL+"/proxy/metrics")
	for _, want := range []string{
		fmt.Sprintf("proxy_upstream_requests_total{upstream=%q} 2", addr(ok)),
		fmt.Sprintf("proxy_upstream_errors_total{upstream=%q} 2", addr(bad)),
		fmt.Sprintf("proxy_upstream_up{upstream=%q} 1", addr(ok)),
		"# TYPE proxy_upstream_in_flight gauge",
		"proxy_no_upstream_total 0",
		"# TYPE go_goroutines gauge",               // the standard Go collector
		"# TYPE process_cpu_seconds_total counter", // and process collector
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	if err != nil {
		t.Fatalf("metrics do not parse as the Prometheus text format: %v", err)
	}
	if got := len(families["proxy_upstream_requests_total"].GetMetric()); got != 2 {
		t.Errorf("proxy_upstream_requests_total has %d series, want one per upstream", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"policy":   {Upstream: "app:8000", Policy: "random"},
		"upstream": {Upstream: "app"},
		"static":   {Static: []string{"10.0.0.1"}},
		"health":   {Upstream: "app:8000", Health: "health"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Errorf("New(%+v) accepted it", cfg)
			}
		})
	}
}

// closingBackend answers the first request on each connection, keeping it alive,
// and closes the connection without a word on the second one: a stale kept-alive
// connection, deterministically.
func closingBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nclosing")
				if req, err := http.ReadRequest(br); err == nil {
					io.Copy(io.Discard, req.Body) // read it, then hang up
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestStaleKeepAliveIsResentElsewhere(t *testing.T) {
	good := backend(t, "good", nil)
	closing := closingBackend(t)
	p, front := newProxy(t, Config{Static: []string{closing, addr(good)}, Policy: RoundRobin})
	post := func() (int, string) { return postX(t, front.URL) }
	// Whatever the order: closing answers once on a fresh connection, is picked
	// again on that kept-alive connection, hangs up, and the request goes to good.
	seen := map[string]int{}
	for i := range 4 {
		code, body := post()
		if code != 200 {
			t.Fatalf("request %d: %d %q, want 200", i+1, code, body)
		}
		seen[body]++
	}
	for _, u := range p.Stats().Upstreams {
		if u.Address != closing {
			continue
		}
		// Every answer was 200, so the one hang-up was resent; closing stays up.
		if u.Errors != 1 || u.State != StateUp || int(u.Requests-u.Errors) != seen["closing"] {
			t.Errorf("closing upstream: %+v after answers %v, want one hang-up, still up", u, seen)
		}
	}
}

func TestFreshConnectionClosedIsNotResent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			http.ReadRequest(bufio.NewReader(c)) // took the request, died answering
			c.Close()
		}
	}()
	good := backend(t, "good", nil)
	_, front := newProxy(t, Config{Static: []string{ln.Addr().String(), addr(good)}, Policy: RoundRobin})
	codes := map[int]int{}
	for range 2 { // one of them goes to the dying upstream
		resp, err := http.Post(front.URL+"/predict", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusBadGateway] != 1 || codes[200] != 1 {
		t.Fatalf("codes %v, want one 502: an upstream that took the request on a fresh connection may have acted on it", codes)
	}
}
