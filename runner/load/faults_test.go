package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHostileTargets: a target that answers too slowly, resets connections, or
// sends an endless or oversized body costs each request at most the timeout and
// the body cap, and every such request is counted as an error with its reason,
// in both load models.
func TestHostileTargets(t *testing.T) {
	chunk := strings.Repeat("x", 32<<10)
	tests := []struct {
		name string
		h    http.HandlerFunc
		want string // in the error messages
	}{
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}, "Client.Timeout exceeded"},
		{"reset", func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST
			}
			_ = c.Close()
		}, ""}, // connection reset, EOF or broken pipe: any error
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte(chunk)); err != nil {
					return
				}
			}
		}, "response body over 65536 bytes"},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "300000")
			_, _ = w.Write([]byte(strings.Repeat("y", 300000)))
		}, "response body over 65536 bytes"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(tt.h)
		t.Cleanup(srv.Close)
		for _, model := range []string{"open", "closed"} {
			t.Run(tt.name+"/"+model, func(t *testing.T) {
				c := Config{
					Targets: []string{srv.URL}, Duration: time.Second, Timeout: 300 * time.Millisecond,
					MaxResponseBytes: 64 << 10,
				}
				if model == "open" {
					c.Rate = 20
				} else {
					c.Users = 4
				}
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				l, err := Run(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if ctx.Err() != nil {
					t.Fatal("the load did not end within 20s")
				}
				if l.Requests == 0 || l.SuccessRatio != 0 {
					t.Fatalf("%d requests, success %v, errors %v; want every request failed", l.Requests, l.SuccessRatio, l.Errors)
				}
				var n uint64
				for msg, k := range l.Errors {
					if strings.Contains(msg, tt.want) {
						n += k
					}
				}
				if n == 0 {
					t.Errorf("no error says %q: %v", tt.want, l.Errors)
				}
			})
		}
	}
}

// TestBodyCapAllowsBodiesAtTheCap: a body of exactly the cap is fine, one byte
// more fails, and a negative cap turns the cap off.
func TestBodyCapAllowsBodiesAtTheCap(t *testing.T) {
	body := strings.Repeat("z", 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
	defer srv.Close()
	for _, tt := range []struct {
		max int64
		ok  bool
	}{{4096, true}, {4095, false}, {-1, true}} {
		for _, users := range []int{0, 2} {
			c := Config{Targets: []string{srv.URL}, Duration: 300 * time.Millisecond, MaxResponseBytes: tt.max, Users: users}
			if users == 0 {
				c.Rate = 20
			}
			l, err := Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.SuccessRatio == 1; got != tt.ok || l.Requests == 0 {
				t.Errorf("cap %d, users %d: %d requests, success %v (%v), want ok=%v", tt.max, users, l.Requests, l.SuccessRatio, l.Errors, tt.ok)
			}
		}
	}
}
