package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pool is the HTTP/1.1 client of both models for one endpoint: a stack of idle
// keep-alive connections, each used by one request at a time, synchronously. Unlike
// net/http's Transport it runs no reader and writer goroutine per connection, so
// a request in flight costs one goroutine (its user's or worker's) and a thinking
// user costs nothing; connections never outnumber the requests in flight at once.
type pool struct {
	url     string
	op      string // "Get", "Post": net/http's prefix of error messages
	addr    string
	tls     *tls.Config // nil for http
	head    []byte      // the request line and headers, up to the blank line's start
	method  string
	timeout time.Duration
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int
	req     *http.Request // for http.ReadResponse (method only), which reads unusual responses
	maxBody int64         // response body cap; 0 means none

	mu   sync.Mutex
	idle []*poolConn
}

type poolConn struct {
	c    net.Conn
	n    countingReader
	rr   respReader
	bw   *bufio.Writer
	cap  capReader
	used bool // has carried a response: it may have gone stale while idle
}

// countingReader counts the bytes read from r, and fails a read once limit
// (if not 0) are.
type countingReader struct {
	r        io.Reader
	n, limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.n >= c.limit {
		return 0, errHeadersTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newPool(rawURL, method string, header http.Header, timeout time.Duration, maxIdle int,
	dial func(context.Context, string, string) (net.Conn, error)) (*pool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	p := &pool{
		url: rawURL, method: method, timeout: timeout, dial: dial, maxIdle: maxIdle,
		op: method[:1] + strings.ToLower(method[1:]),
	}
	host := u.Host
	port := u.Port()
	switch u.Scheme {
	case "https":
		p.tls = &tls.Config{ServerName: u.Hostname()}
		if port == "" {
			port = "443"
		}
	default:
		if port == "" {
			port = "80"
		}
	}
	p.addr = net.JoinHostPort(u.Hostname(), port)
	if h := header.Get("Host"); h != "" {
		host = h
	}
	p.req = &http.Request{Method: method, URL: u, Header: http.Header{}}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), host)
	hasUA := false
	for k, vs := range header {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Host" || ck == "Content-Length" {
			continue
		}
		hasUA = hasUA || ck == "User-Agent"
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", ck, v)
		}
	}
	if !hasUA {
		b.WriteString("User-Agent: Go-http-client/1.1\r\n")
	}
	p.head = b.Bytes()
	return p, nil
}

// exchange sends x's request and reads the whole response, its body through
// read. It returns the status code and status, the bytes read and an error in
// net/http's words ("Get \"URL\": ...").
func (p *pool) exchange(x *exchange, read bodyReader) (code int, status string, bytesIn uint64, err error) {
	deadline := time.Now().Add(p.timeout)
	for attempt := 0; ; attempt++ {
		pc, err := p.get(deadline, attempt == 0)
		if err != nil {
			return 0, "", 0, p.wrap(err)
		}
		code, status, bytesIn, keepAlive, err := p.roundTrip(pc, x, read, deadline)
		if err == nil {
			if keepAlive {
				p.put(pc)
			} else {
				_ = pc.c.Close()
			}
			return code, status, bytesIn, nil
		}
		_ = pc.c.Close()
		// A reused connection the server closed while it was idle fails before
		// any byte of a response: send again on a new one, as net/http does
		// (the other idle ones may be stale too). Unlike net/http this also
		// resends a POST: with no reader goroutine per connection the pool cannot
		// notice an idle connection being closed, and a server that closed it
		// has not read the request.
		if pc.used && pc.n.n == 0 && attempt == 0 && !isTimeout(err) {
			continue
		}
		return code, status, bytesIn, p.wrap(err)
	}
}

func (p *pool) roundTrip(pc *poolConn, x *exchange, read bodyReader, deadline time.Time) (
	code int, status string, bytesIn uint64, keepAlive bool, err error) {
	if err := pc.c.SetDeadline(deadline); err != nil {
		return 0, "", 0, false, err
	}
	pc.n.n = 0
	body := x.body
	pc.bw.Write(p.head)
	if len(body) > 0 || p.method == http.MethodPost || p.method == http.MethodPut || p.method == http.MethodPatch {
		pc.bw.WriteString("Content-Length: ")
		pc.bw.WriteString(strconv.Itoa(len(body)))
		pc.bw.WriteString("\r\n")
	}
	pc.bw.WriteString("\r\n")
	pc.bw.Write(body)
	if err := pc.bw.Flush(); err != nil {
		return 0, "", 0, false, err
	}
	pc.n.limit = maxHeaderBytes
	resp, err := pc.rr.read(p.req)
	pc.n.limit = 0
	if err != nil {
		return 0, "", 0, false, err
	}
	rb := resp.body
	if p.maxBody > 0 {
		pc.cap = capReader{r: resp.body, left: p.maxBody, max: p.maxBody}
		rb = &pc.cap
	}
	x.conn = pc.c
	n, err := read(x, resp, rb)
	x.conn = nil
	keepAlive = pc.rr.finish(err == nil)
	if err != nil {
		return resp.code, resp.status, uint64(n), false, err
	}
	pc.used = true
	return resp.code, resp.status, uint64(n), keepAlive, nil
}

// get returns an idle connection if reuse is true and there is one, or dials a
// new one.
func (p *pool) get(deadline time.Time, reuse bool) (*poolConn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 && reuse {
		pc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return pc, nil
	}
	p.mu.Unlock()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	c, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls != nil {
		tc := tls.Client(c, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		c = tc
	}
	pc := &poolConn{c: c}
	pc.n.r = c
	pc.rr.br = bufio.NewReaderSize(&pc.n, 1<<10)
	pc.bw = bufio.NewWriterSize(c, 1<<10)
	return pc, nil
}

func (p *pool) put(pc *poolConn) {
	p.mu.Lock()
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, pc)
		pc = nil
	}
	p.mu.Unlock()
	if pc != nil {
		_ = pc.c.Close()
	}
}

// closeIdle closes the idle connections.
func (p *pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, pc := range idle {
		_ = pc.c.Close()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// wrap words err as net/http does, so both models report faults alike.
func (p *pool) wrap(err error) error {
	if isTimeout(err) {
		return fmt.Errorf("%s %q: no complete response within %s (Client.Timeout exceeded)", p.op, p.url, p.timeout)
	}
	return &url.Error{Op: p.op, URL: p.url, Err: err}
}
