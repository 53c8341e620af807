package load

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// server is an httptest server that counts requests and the requests in flight.
type server struct {
	*httptest.Server
	requests atomic.Int64
	inFlight atomic.Int64

	mu       sync.Mutex
	maxIn    int64
	maxInAt  time.Time // when maxIn was first reached
	first    time.Time
	arrivals []time.Time
}

// newServer starts a server that sleeps delay and answers status with a small body.
func newServer(t *testing.T, delay time.Duration, status int) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		now := time.Now()
		s.requests.Add(1)
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		s.mu.Lock()
		if s.first.IsZero() {
			s.first = now
		}
		if n > s.maxIn {
			s.maxIn, s.maxInAt = n, now
		}
		s.arrivals = append(s.arrivals, now)
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"prediction":[1.0]}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) maxInFlight() (int64, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn, s.maxInAt.Sub(s.first)
}

// readResults decodes a raw results file with vegeta's own decoder.
func readResults(t *testing.T, path string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decoding result %d: %v", len(out), err)
		}
		out = append(out, r)
	}
}

func within(got, want, frac float64) bool {
	return got >= want*(1-frac) && got <= want*(1+frac)
}

// refusedURL returns the URL of a loopback port bound by a socket that does not
// listen: connections are refused, and no other test can take the port meanwhile.
func refusedURL(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
