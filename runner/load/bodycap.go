package load

import (
	"fmt"
	"io"
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
