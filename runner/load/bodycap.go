package load

import (
	"fmt"
	"io"
	"net/http"
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

// capBody is a response body read through a capReader.
type capBody struct {
	capReader
	io.Closer
}

// capTransport caps the body of every response of rt at max bytes (the open
// model's client, whose bodies vegeta reads).
type capTransport struct {
	rt  http.RoundTripper
	max int64
}

func (t capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil || t.max <= 0 {
		return resp, err
	}
	resp.Body = &capBody{capReader{r: resp.Body, left: t.max, max: t.max}, resp.Body}
	return resp, nil
}
