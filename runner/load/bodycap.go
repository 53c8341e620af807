package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMaxResponseBytes is the response body cap when Config.MaxResponseBytes is 0.
const DefaultMaxResponseBytes = 1 << 20

// capReader reads at most max bytes of r; one more byte fails the read with
// "response body over N bytes", so a target that sends an endless (or merely
// oversized) body costs one bounded read and counts as an error.
type capReader struct {
	r         io.Reader
	left, max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("response body over %d bytes", c.max)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// capBody is a response body read through a capReader, under the request's
// deadline.
type capBody struct {
	capReader
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelFunc
}

func (b *capBody) Read(p []byte) (int, error) {
	n, err := b.capReader.Read(p)
	if err != nil && err != io.EOF && errors.Is(b.ctx.Err(), context.DeadlineExceeded) {
		err = &timeoutError{err.Error() + " (Client.Timeout exceeded while reading body)"}
	}
	return n, err
}

func (b *capBody) Close() error {
	defer b.cancel()
	return b.rc.Close()
}

// capTransport caps the body of every response of rt at max bytes (the open
// model's client, whose bodies vegeta reads). It also applies the request
// timeout itself, as http.Client.Timeout would: the client's own timeout is
// racy with a RoundTripper it does not know (the context's error can win over
// its "Client.Timeout exceeded" message).
type capTransport struct {
	rt      http.RoundTripper
	max     int64
	timeout time.Duration
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
	}
	resp, err := t.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = &timeoutError{err.Error() + " (Client.Timeout exceeded while awaiting headers)"}
		}
		return nil, err
	}
	resp.Body = &capBody{capReader: capReader{r: resp.Body, left: t.max, max: t.max}, rc: resp.Body, ctx: ctx, cancel: cancel}
	return resp, nil
}

// timeoutError is a timeout as net/http reports it.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
