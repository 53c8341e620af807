package dashboard

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/chart"
	"github.com/infergrid/runner/runner/result"
)

// DefaultAddr is the address the documentation uses: Locust's web UI port.
const DefaultAddr = "127.0.0.1:8089"

// MinInterval is the shortest time between two updates sent to a page; state
// changes in between are sent together.
const MinInterval = 250 * time.Millisecond

// Heartbeat is how often an idle stream sends a comment, so proxies and
// browsers keep it open.
const Heartbeat = 15 * time.Second

//go:embed page.tmpl
var pageText string

var pageTemplate = template.Must(template.New("page").Funcs(funcs).Parse(pageText))

// Server holds the state of one run and serves it. Its methods are safe for
// concurrent use.
type Server struct {
	mu      sync.Mutex
	st      state
	plan    map[string]result.Scenario
	version uint64
	changed chan struct{} // closed at the next change
	cached  uint64        // version of cache
	cache   []byte        // the fragments as JSON
}

// New returns a Server for a run of the scenarios of plan, in order (they are
// listed as pending until they start).
func New(plan []result.Scenario) *Server {
	s := &Server{plan: map[string]result.Scenario{}, changed: make(chan struct{})}
	for i, sc := range plan {
		s.plan[sc.ID] = sc
		s.st.row(i+1, sc.ID)
	}
	return s
}

// update changes the state under the lock and wakes the streams.
func (s *Server) update(f func(*state)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
	s.st.Updated = time.Now()
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
}

// snapshot returns the state's fragments as JSON, its version, and a channel
// closed at the next change.
func (s *Server) snapshot() ([]byte, uint64, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil || s.cached != s.version {
		f, err := render(&s.st, s.plan)
		if err != nil {
			return nil, 0, nil, err
		}
		b, err := json.Marshal(f)
		if err != nil {
			return nil, 0, nil, err
		}
		s.cache, s.cached = b, s.version
	}
	return s.cache, s.version, s.changed, nil
}

// Handler serves the page on "/", the stream on "/events" and, once SetReport
// named it, the run's report on "/report.html"; every other path is 404 and
// every method but GET and HEAD is 405.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.page)
	mux.HandleFunc("/events", s.events)
	mux.HandleFunc("/report.html", s.report)
	return readOnly(mux)
}

func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'")
		h.ServeHTTP(w, r)
	})
}

// page serves the whole page with the current state, so it reads without
// JavaScript too (as of the moment it was loaded).
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, err := render(&s.st, s.plan)
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err = pageTemplate.Execute(w, map[string]any{
		"F":      f,
		"Style":  template.CSS(chart.Style),
		"Script": template.JS(chart.Script),
	})
	if err != nil {
		return // the client went away
	}
}

// events streams the state as Server-Sent Events: an event "state" whose data
// is the page's fragments as JSON, at once and after every change (at most
// every MinInterval).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	sent := ^uint64(0)
	for {
		b, v, changed, err := s.snapshot()
		if err != nil {
			fmt.Fprintf(w, "event: problem\ndata: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
			fl.Flush()
			return
		}
		if v != sent {
			if _, err := fmt.Fprintf(w, "id: %d\nevent: state\ndata: %s\n\n", v, b); err != nil {
				return
			}
			fl.Flush()
			sent = v
			select {
			case <-r.Context().Done():
				return
			case <-time.After(MinInterval):
			}
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// Listen opens addr for the dashboard. A bare port ("8089" or ":8089") binds the
// loopback interface only; give a host (0.0.0.0:8089) to listen elsewhere.
func Listen(addr string) (net.Listener, error) {
	bind, err := BindAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for the dashboard: %w", err)
	}
	return ln, nil
}

// BindAddr is the address Listen binds for addr: 127.0.0.1:PORT for a bare port.
func BindAddr(addr string) (string, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("dashboard address %q: want PORT or HOST:PORT, e.g. %s", addr, DefaultAddr)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return "", fmt.Errorf("dashboard address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Serve serves the dashboard on ln until ctx is done; open streams are closed
// then. It returns nil after ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
