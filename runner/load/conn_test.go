package load

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The closed model's own HTTP/1.1 client must survive what servers do to
// keep-alive connections and send requests exactly.
func TestPoolHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		method  string
		body    string
		handler http.HandlerFunc
		idle    time.Duration // server keep-alive timeout
	}{
		{name: "idle connections closed by the server", method: http.MethodGet, idle: 30 * time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }},
		{name: "connection close", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "close")
				_, _ = io.WriteString(w, "ok")
			}},
		{name: "chunked", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 3 {
					_, _ = io.WriteString(w, strings.Repeat("x", 5000))
					w.(http.Flusher).Flush()
				}
			}},
		{name: "post body", method: http.MethodPost, body: `{"inputs":[[1,2,3]]}`,
			handler: func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if string(b) != `{"inputs":[[1,2,3]]}` || r.ContentLength != int64(len(b)) ||
					r.Header.Get("X-Test") != "yes" || r.Host != "svc.example" || r.URL.RawQuery != "v=1" {
					http.Error(w, "bad request "+strconv.Quote(string(b)), http.StatusBadRequest)
				}
			}},
		{name: "head", method: http.MethodHead,
			handler: func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Content-Length", "1234") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var conns atomic.Int64
			s := httptest.NewUnstartedServer(tc.handler)
			s.Config.IdleTimeout = tc.idle
			s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			s.Start()
			t.Cleanup(s.Close)
			c := Config{
				Targets: []string{s.URL}, Path: "/p?v=1", Method: tc.method,
				Header: http.Header{"X-Test": {"yes"}, "Host": {"svc.example"}},
				Users:  2, ThinkMin: 60 * time.Millisecond, Duration: 600 * time.Millisecond,
			}
			if tc.body != "" {
				c.Bodies = [][]byte{[]byte(tc.body)}
			}
			l, err := Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if l.Requests < 4 || l.SuccessRatio != 1 {
				t.Fatalf("%d requests, success %.2f, errors %v, codes %v", l.Requests, l.SuccessRatio, l.Errors, l.StatusCodes)
			}
			if tc.name == "chunked" && l.SuccessRatio == 1 {
				// every byte of the body was read
				if n := conns.Load(); n > 2 {
					t.Errorf("%d connections for 2 users, want keep-alive", n)
				}
			}
		})
	}
}

// An https target whose certificate is not trusted fails in both models with
// the TLS error, as vegeta does by default.
func TestUntrustedTLS(t *testing.T) {
	t.Parallel()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	s.StartTLS()
	t.Cleanup(s.Close)
	for _, c := range []Config{{Rate: 20}, {Users: 2}} {
		c.Targets, c.Duration, c.Timeout = []string{s.URL}, 300*time.Millisecond, 2*time.Second
		l, err := Run(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if l.Requests == 0 || l.SuccessRatio != 0 {
			t.Fatalf("%d requests, success %.2f", l.Requests, l.SuccessRatio)
		}
		for m := range l.Errors {
			if !strings.Contains(m, "certificate") {
				t.Errorf("error %q, want a certificate error", m)
			}
		}
	}
}
