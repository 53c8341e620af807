package load

import (
	"context"
	"net"
	"sync"
	"time"
)

// connSet tracks every connection the transport opened so a cancelled run can
// close them and abort requests in flight at once: vegeta's Attacker takes no
// context, and its requests would otherwise run until their timeout.
type connSet struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.conns, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}

func (s *connSet) add(c net.Conn) (net.Conn, bool) {
	tc := &trackedConn{Conn: c, set: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	s.conns[tc] = struct{}{}
	return tc, true
}

// closeAll closes every connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = map[*trackedConn]struct{}{}
	s.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

// newDialer returns a dial function whose connections all close when stop is
// cancelled, and the set that tracks them.
func newDialer(stop context.Context) (func(ctx context.Context, network, addr string) (net.Conn, error), *connSet) {
	set := &connSet{conns: map[*trackedConn]struct{}{}}
	context.AfterFunc(stop, set.closeAll)
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		unhook := context.AfterFunc(stop, cancel)
		defer unhook()
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := set.add(c)
		if !ok {
			_ = c.Close()
			return nil, context.Canceled
		}
		return tc, nil
	}, set
}
