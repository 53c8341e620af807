package load

import (
	"io"
	"net"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// exchange is one request on the hit path, the single path every model sends
// through: the model's pick fills the request half, hit sends it on the
// endpoint's pool and fills the response half, and the collector reads both.
type exchange struct {
	// Request, set by pick (per-request body selection happens there).
	target int    // index into Config.Targets
	body   []byte // request body
	name   string // request name for per-name accounting; "" for the only request
	req    int    // index into the engine's requests (Config.Requests)

	// Set by the model before hit.
	seq    uint64        // sequence number within its attack
	attack string        // AttackWarmup or AttackMeasure; "" labels by send time
	due    time.Duration // open model: intended send time, from the attack's start
	began  time.Time     // open model: the attack's start; zero for the closed model

	// Response, set by hit and the body reader.
	res     vegeta.Result // in the exchange, so a request allocates one object, not two
	kept    []byte        // up to keptBodyBytes of a failed response's body
	latency time.Duration // what the metrics use: from the intended send time in the open model

	// Streaming, set by hit for a streaming request and by its body reader.
	stream *streamed
	conn   net.Conn // the connection the answer arrives on, for the body reader's deadlines
}

// bodyReader reads one response body on the hit path. It is the hook for
// readers that look inside a body (streaming: time to first token, inter-token
// latency).
//
// Contract: it is called on the goroutine that sent the request, once the
// status line and headers of resp are read, with body capped at
// MaxResponseBytes and under the request's deadline. It must read body to its
// end or return the error that stopped it (the request then fails with that
// error and its connection is closed), and returns the number of body bytes
// read. It may record per-request timings and counts into x (never shared
// state: many run at once); the collector, on one goroutine, folds them in. It
// must not keep resp or body after returning. On a failed status (not 2xx or
// 3xx) it should keep up to keptBodyBytes of the body in x.kept, which the raw
// results file holds.
type bodyReader func(x *exchange, resp *response, body io.Reader) (int64, error)

// discardBody is the default bodyReader: it keeps the start of a failed
// response's body and discards the rest.
func discardBody(x *exchange, resp *response, body io.Reader) (int64, error) {
	var n int64
	if resp.code < 200 || resp.code >= 400 {
		kept, err := io.ReadAll(io.LimitReader(body, keptBodyBytes))
		x.kept, n = kept, int64(len(kept))
		if err != nil {
			return n, err
		}
	}
	m, err := io.Copy(io.Discard, body)
	return n + m, err
}

// pick chooses the next request: the entry of a mix (by weight), the target,
// round-robin with BalanceClient, and the body, cycled (or at random with
// RandomBodies).
func (e *engine) pick(x *exchange) {
	x.req = 0
	if e.mix != nil {
		x.req = e.mix.Next()
	}
	r := &e.reqs[x.req]
	x.name = r.Name
	x.target = 0
	if len(e.bases) > 1 && e.c.Balancer == BalanceClient {
		x.target = int((e.nextTarget.Add(1) - 1) % uint64(len(e.bases)))
	}
	x.body = r.data.Line(r.order.Next())
}

// hit sends x on its endpoint's pool and fills x.res with the fields vegeta's
// Attacker would, and x.latency.
func (e *engine) hit(x *exchange) {
	req := &e.reqs[x.req]
	r := &x.res
	*r = vegeta.Result{Method: req.Method, URL: req.urls[x.target], Seq: x.seq, BytesOut: uint64(len(x.body))}
	e.begin()
	r.Timestamp = time.Now()
	if req.Stream {
		x.stream = &streamed{start: r.Timestamp}
		if !x.began.IsZero() {
			x.stream.start = x.began.Add(x.due)
		}
	}
	code, status, in, err := req.pools[x.target].exchange(x, e.read)
	r.Latency = time.Since(r.Timestamp)
	e.inFlight.Add(-1)
	r.Code, r.BytesIn, r.Body = uint16(code), in, x.kept
	switch {
	case err != nil:
		r.Error = err.Error()
	case code < 200 || code >= 400:
		r.Error = status
	}
	r.Attack = x.attack
	if r.Attack == "" {
		r.Attack = AttackMeasure
		if r.Timestamp.Before(e.measureStart) {
			r.Attack = AttackWarmup
		}
	}
	x.latency = r.Latency
	if !x.began.IsZero() && r.Attack == AttackMeasure {
		// The k-th hit sent is the k-th the pacer scheduled (wrk2's rule).
		if d := r.End().Sub(x.began.Add(x.due)); d > x.latency {
			x.latency = d
		}
	}
}

// begin counts a request in flight.
func (e *engine) begin() {
	n := e.inFlight.Add(1)
	for p := e.peak.Load(); n > p && !e.peak.CompareAndSwap(p, n); p = e.peak.Load() {
	}
}
