package render

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/infergrid/runner/runner/spec"
)

// ErrNoPorts is returned when no block of free ports is left in a range.
var ErrNoPorts = errors.New("no free host ports")

// FreePorts finds the lowest block of n consecutive ports in within that can be
// bound on every interface of this host right now. The ports are released again,
// so another process can take them before the stack starts; callers that lose that
// race retry.
func FreePorts(within spec.PortRange, n int) (spec.PortRange, error) {
	if n < 1 {
		return spec.PortRange{}, fmt.Errorf("cannot reserve %d ports", n)
	}
	for lo := within.Lo; lo+n-1 <= within.Hi; {
		busy := -1
		var held []net.Listener
		for p := lo; p < lo+n; p++ {
			l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
			if err != nil {
				busy = p
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if busy < 0 {
			return spec.PortRange{Lo: lo, Hi: lo + n - 1}, nil
		}
		lo = busy + 1
	}
	return spec.PortRange{}, fmt.Errorf("%w: no %d consecutive free ports in %s", ErrNoPorts, n, within)
}
