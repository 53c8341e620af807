package dashboard

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

func TestBindAddr(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "8089", want: "127.0.0.1:8089"},
		{in: ":8089", want: "127.0.0.1:8089"},
		{in: "127.0.0.1:8089", want: "127.0.0.1:8089"},
		{in: "0.0.0.0:80", want: "0.0.0.0:80"},
		{in: "[::1]:8089", want: "[::1]:8089"},
		{in: "0", want: "127.0.0.1:0"},
		{in: "localhost", err: "want PORT or HOST:PORT"},
		{in: "host:http", err: "is not a number"},
		{in: "70000", err: "want PORT or HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := BindAddr(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("BindAddr(%q) = %q, %v; want error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BindAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	srv := httptest.NewServer(New(nil).Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/", 200},
		{"HEAD", "/", 200},
		{"POST", "/", 405},
		{"PUT", "/events", 405},
		{"DELETE", "/events", 405},
		{"GET", "/run.json", 404},
		{"GET", "/scenarios/a/outcome.json", 404},
		{"GET", "/..%2frun.json", 404},
		{"GET", "/static/../../etc/passwd", 404},
		{"GET", "/events/", 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			// The mux answers a path with dot segments by a redirect to its clean
			// form, which is itself a 404.
			if (res.StatusCode == http.StatusMovedPermanently || res.StatusCode == http.StatusTemporaryRedirect) && tt.want == 404 {
				loc := res.Header.Get("Location")
				if loc == "/" || loc == "/events" {
					t.Fatalf("%s redirects to %s", tt.path, loc)
				}
				return
			}
			if res.StatusCode != tt.want {
				t.Fatalf("%s %s: %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
			}
		})
	}
}

// sse reads the events of an event stream.
type sse struct {
	t  *testing.T
	sc *bufio.Scanner
}

// next returns the data of the next event named name.
func (s *sse) next(name string) fragments {
	s.t.Helper()
	event := ""
	for s.sc.Scan() {
		line := s.sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == name {
			var f fragments
			if err := json.Unmarshal([]byte(v), &f); err != nil {
				s.t.Fatalf("bad data %q: %v", v, err)
			}
			return f
		}
	}
	s.t.Fatalf("stream ended before an event %q: %v", name, s.sc.Err())
	return fragments{}
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &sse{t: t, sc: sc}
}

func TestStreamSendsChanges(t *testing.T) {
	plan := []result.Scenario{{ID: "a-r1", Replicas: 1, MemoryBytes: 256 << 20}, {ID: "b-r2", Replicas: 2}}
	s := New(plan)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close) // after the stream's body is closed
	st := openStream(t, srv.URL)
	f := st.next("state")
	if !strings.Contains(string(f.Grid), "a-r1") || !strings.Contains(string(f.Grid), "pending") {
		t.Errorf("first state lacks the pending plan:\n%s", f.Grid)
	}
	s.update(func(st *state) { st.phase(1, "a-r1", "load") })
	s.update(func(st *state) {
		st.progress(1, "a-r1", tick{RPS: 100, P99: 20 * time.Millisecond}, 0, time.Second, 10*time.Second, nil)
	})
	f = st.next("state")
	if !strings.Contains(string(f.Head), "scenario 1 of 2") {
		t.Errorf("head does not show the running scenario:\n%s", f.Head)
	}
	if !strings.Contains(string(f.Live), "<svg") {
		t.Errorf("no chart for the running scenario:\n%s", f.Live)
	}
}
