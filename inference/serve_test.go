package inference

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowHandler wraps the real handler: /slow blocks until release is closed, and
// reports when it has started.
type slowHandler struct {
	*Handler
	started chan struct{}
	release chan struct{}
}

func (s *slowHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		close(s.started)
		<-s.release
		w.Write([]byte("done"))
		return
	}
	s.Handler.ServeHTTP(w, r)
}

// TestGracefulShutdown cancels Serve's context while a request is in flight: the
// request completes, the handler is drained (/health answers 503), new connections
// are refused, and Serve returns nil once the request is done.
func TestGracefulShutdown(t *testing.T) {
	h := &slowHandler{Handler: newTestHandler(t, Config{}), started: make(chan struct{}), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, ServerConfig{ShutdownTimeout: 10 * time.Second}) }()

	if res, err := http.Get(url + "/health"); err != nil || res.StatusCode != 200 {
		t.Fatalf("health before shutdown: %v %v", res, err)
	} else {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	slow := make(chan string, 1)
	go func() {
		res, err := http.Get(url + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- string(b)
	}()
	<-h.started
	cancel()
	// Shutdown closes the listener: wait for new connections to be refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !h.draining.Load() {
		t.Error("the handler was not drained")
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(h.release)
	if got := <-slow; got != "done" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	h := &slowHandler{Handler: newTestHandler(t, Config{}), started: make(chan struct{}), release: make(chan struct{})}
	defer close(h.release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, ServerConfig{ShutdownTimeout: 50 * time.Millisecond}) }()
	go http.Get("http://" + ln.Addr().String() + "/slow") //nolint:errcheck
	<-h.started
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("Serve returned %v, want a shutdown timeout error", err)
	}
}

// TestRun starts the whole service on a free port, predicts, and stops it.
func TestRun(t *testing.T) {
	var logs strings.Builder
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Addr:             "127.0.0.1:0",
			MemoryLimitRatio: 0, // do not change this test process's memory limit
			Logger:           slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)),
			Ready:            func(a net.Addr) { ready <- a },
		})
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	res, err := http.Post("http://"+addr.String()+"/predict", "application/json", strings.NewReader(testdata(t, "predict.json")))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("predict: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"runtime limits", "gomaxprocs=", "gomemlimit_source=", "model loaded", "listening", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if err := Run(t.Context(), Options{Addr: "127.0.0.1:0", Handler: Config{Model: "/nonexistent.json"}}); err == nil {
		t.Error("Run with a missing model did not fail")
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
