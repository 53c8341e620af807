package runnertest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// SockProxy forwards a unix socket to the Docker daemon's, so that a test can
// make "the daemon" vanish for one runner (close the listener and every
// connection) without stopping the daemon that other tests share.
type SockProxy struct {
	// Path is the proxy's socket: DOCKER_HOST=unix://PATH.
	Path string
	ln   net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// StartSockProxy listens on a new unix socket forwarding to target. It is
// stopped when t ends.
func StartSockProxy(t testing.TB, target string) *SockProxy {
	t.Helper()
	dir, err := os.MkdirTemp("", "dk") // short: a socket path has at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &SockProxy{Path: filepath.Join(dir, "docker.sock"), conns: map[net.Conn]bool{}}
	if p.ln, err = net.Listen("unix", p.Path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	p.wg.Go(func() {
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("unix", target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, d) {
				return
			}
			p.wg.Go(func() { p.pipe(c, d) })
		}
	})
	return p
}

// track records a forwarded pair, unless the proxy is stopped.
func (p *SockProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

// pipe copies both ways; each side's EOF half-closes the other, and both are
// closed once both directions ended.
func (p *SockProxy) pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if u, ok := dst.(*net.UnixConn); ok {
			_ = u.CloseWrite()
		}
	}
	wg.Go(func() { half(a, b) })
	wg.Go(func() { half(b, a) })
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range []net.Conn{a, b} {
		c.Close()
		delete(p.conns, c)
	}
}

// Stop is the daemon stopping: the socket disappears and every connection
// through it breaks. Stopping twice is harmless.
func (p *SockProxy) Stop() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close() // also removes the socket file
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Open is the number of connections forwarded now.
func (p *SockProxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}
