package docker

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/platform"
)

// fakePingDaemon serves the two calls New makes on a unix socket; hang makes every
// later request wait until the test ends (a daemon that accepts but never answers).
func fakePingDaemon(t *testing.T) (host string, srv *http.Server, hang *atomic.Bool) {
	t.Helper()
	dir, err := os.MkdirTemp("", "dk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hang = new(atomic.Bool)
	done := make(chan struct{})
	srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			<-done
			return
		}
		w.Header().Set("Api-Version", "1.41")
		if strings.HasSuffix(r.URL.Path, "/version") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"Version":"20.10.24","ApiVersion":"1.41","Arch":"amd64"}`))
			return
		}
		_, _ = w.Write([]byte("OK"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(done); srv.Close() })
	return "unix://" + sock, srv, hang
}

// TestLost: Lost leaves an error alone while the daemon answers, and wraps it in
// platform.ErrUnavailable, naming the daemon, once the daemon is gone or hangs
// (within LostPing) or when the caller knows the connection failed.
func TestLost(t *testing.T) {
	host, srv, hang := fakePingDaemon(t)
	t.Setenv("DOCKER_HOST", host)
	c, err := New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	boom := errors.New("boom")
	if got := c.Lost(nil, true); got != nil {
		t.Errorf("Lost(nil) = %v", got)
	}
	if got := c.Lost(boom, false); got != boom {
		t.Errorf("daemon answering: Lost = %v, want the error as is", got)
	}
	if got := c.Lost(boom, true); !errors.Is(got, platform.ErrUnavailable) || !errors.Is(got, boom) {
		t.Errorf("connection known to have failed: Lost = %v, want ErrUnavailable", got)
	}

	hang.Store(true)
	start := time.Now()
	got := c.Lost(boom, false)
	if !errors.Is(got, platform.ErrUnavailable) || !strings.Contains(got.Error(), "the Docker daemon at "+host+" stopped answering") {
		t.Errorf("hung daemon: Lost = %v", got)
	}
	if d := time.Since(start); d > LostPing+2*time.Second {
		t.Errorf("hung daemon: Lost took %s, want about %s", d, LostPing)
	}

	srv.Close() // the daemon stops: the socket is gone
	if got := c.Lost(boom, false); !errors.Is(got, platform.ErrUnavailable) || !errors.Is(got, boom) {
		t.Errorf("daemon gone: Lost = %v, want ErrUnavailable wrapping the error", got)
	}
	wrapped := c.Lost(boom, true)
	if again := c.Lost(wrapped, false); again != wrapped {
		t.Errorf("Lost wrapped twice: %v", again)
	}
}
