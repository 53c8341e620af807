package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/infergrid/runner/runner/load/sse"
	"github.com/infergrid/runner/runner/result"
)

// maxGaps bounds the inter-token gaps one streamed answer keeps (4 bytes each);
// later gaps of a longer answer count in its token total but not in ITL.
const maxGaps = 1 << 16

// streamed is what one streaming request saw, written by its body reader on the
// sending goroutine and read by the collector.
type streamed struct {
	start  time.Time // when the request was meant to be sent
	first  time.Time // first token; zero without tokens
	last   time.Time
	gaps   []uint32 // microseconds between consecutive tokens
	tokens int      // content events
	output int      // output tokens: usage.completion_tokens, else tokens
	done   bool
}

func (s *streamed) onToken(at time.Time) {
	if s.first.IsZero() {
		s.first = at
	} else if len(s.gaps) < maxGaps {
		s.gaps = append(s.gaps, uint32(min(at.Sub(s.last).Microseconds(), 1<<32-1)))
	}
	s.last = at
	s.tokens++
}

// ttft is the time to first token from the intended send time.
func (s *streamed) ttft() time.Duration { return s.first.Sub(s.start) }

// tpot is (latency - TTFT) / (output tokens - 1); 0 for fewer than two tokens.
func (s *streamed) tpot(latency time.Duration) time.Duration {
	if s.output < 2 {
		return 0
	}
	return max(latency-s.ttft(), 0) / time.Duration(s.output-1)
}

// readStream is the body reader of streaming requests: it reads the answer as
// Server-Sent Events and times its tokens. A failed status keeps the default
// handling (the status is the error); a 2xx answer that is not an event
// stream, or a stream that breaks, fails the request with the sse error.
func (e *engine) readStream(x *exchange, resp *response, body io.Reader) (int64, error) {
	if x.stream == nil || resp.code < 200 || resp.code > 299 {
		return discardBody(x, resp, body)
	}
	if err := sse.Check(resp.code, string(resp.contentType)); err != nil {
		n, _ := discardBody(x, resp, body)
		return n, err
	}
	headers := time.Now()
	conn := x.conn
	if conn != nil && !e.streamEnd.IsZero() {
		// A stream may outlast the request timeout (its gaps may not): it ends
		// at the latest when the run does, plus the timeout.
		_ = conn.SetDeadline(e.streamEnd)
	}
	o := sse.Options{Stall: e.c.Timeout}
	if conn != nil {
		o.Abort = func() { _ = conn.SetReadDeadline(time.Now()) }
	}
	st, err := sse.Read(body, o, x.stream.onToken)
	x.stream.output, x.stream.done = st.OutputTokens(), st.Done
	if now := time.Now(); err != nil && isTimeout(err) && !e.streamEnd.IsZero() && !now.Before(e.streamEnd) {
		// The run's end came first: a stream silent for the timeout by then
		// stalled; one still sending was too long.
		last := x.stream.last
		if last.IsZero() {
			last = headers
		}
		if err = errStreamTooLong; now.Sub(last) >= e.c.Timeout {
			err = fmt.Errorf("%w: no byte for %s", sse.ErrStall, e.c.Timeout)
		}
	}
	if err == nil {
		// Whatever follows [DONE] is read, so the connection can be reused.
		_, err = io.Copy(io.Discard, body)
	}
	return st.Bytes, err
}

// errStreamTooLong fails a stream still sending when the run ended plus the timeout.
var errStreamTooLong = errors.New("stream: still streaming when the load ended (plus the timeout)")

// streamAgg folds the streaming figures of the measured requests.
type streamAgg struct {
	measureStart    time.Time
	seconds         int
	ttft, itl, tpot *hist
	output, streams uint64
	tokens          []uint64     // per second, by arrival
	ttftSec         []sparseHist // per second of first token
	goodput         *result.Goodput
	good, measured  uint64
	anyStream       bool
	names           []string
	byName          []nameAgg
	side            *sideFile
	live            streamTick // since the last progress tick, warm-up included
}

// streamTick is what the streams delivered since the last progress tick.
type streamTick struct {
	ttft, itl sparseHist
	tokens    uint64
}

type nameAgg struct {
	requests, errors uint64
	lat              *hist
}

func newStreamAgg(e *engine) *streamAgg {
	c := e.c
	s := &streamAgg{
		measureStart: e.measureStart,
		seconds:      int((c.Duration + time.Second - 1) / time.Second),
		ttft:         newHist(), itl: newHist(), tpot: newHist(),
		goodput: c.Goodput,
	}
	for _, r := range c.Requests {
		s.names = append(s.names, r.Name)
		s.byName = append(s.byName, nameAgg{lat: newHist()})
		s.anyStream = s.anyStream || r.Stream
	}
	return s
}

// add folds in one measured or warm-up exchange.
func (s *streamAgg) add(x *exchange) {
	r := &x.res
	s.addLive(x.stream)
	if r.Attack == AttackWarmup {
		return
	}
	bad := failed(r)
	s.measured++
	if x.req >= 0 && x.req < len(s.byName) && len(s.byName) > 1 {
		n := &s.byName[x.req]
		n.requests++
		if bad {
			n.errors++
		}
		n.lat.add(x.latency)
	}
	st := x.stream
	var ttft, tpot time.Duration
	if st != nil && !st.first.IsZero() {
		ttft, tpot = st.ttft(), st.tpot(x.latency)
		s.streams++
		s.ttft.add(ttft)
		if tpot > 0 {
			s.tpot.add(tpot)
		}
		s.output += uint64(st.output)
		s.tokensAt(st)
		sec := s.second(st.first)
		for len(s.ttftSec) <= sec {
			s.ttftSec = append(s.ttftSec, sparseHist{})
		}
		s.ttftSec[sec].add(ttft)
	}
	if s.goodput != nil && !bad && s.goodput.Meets(x.latency, ttft, tpot, st != nil && !st.first.IsZero()) {
		s.good++
	}
	s.side.write(x, ttft, tpot)
}

// addLive folds a stream into the live tick: its TTFT, its gaps and its
// content events (tokens), warm-up included, as the live request figures are.
func (s *streamAgg) addLive(st *streamed) {
	if st == nil || st.first.IsZero() {
		return
	}
	s.live.ttft.add(st.ttft())
	for _, g := range st.gaps {
		s.live.itl.add(time.Duration(g) * time.Microsecond)
	}
	s.live.tokens += uint64(st.tokens)
}

// takeTick returns the live figures of the streams finished in the last
// interval (TTFT and ITL median and p99, tokens per second) and starts the next.
// ok is false when no stream finished in it.
func (s *streamAgg) takeTick(interval time.Duration) (t LiveStream, ok bool) {
	l := &s.live
	if l.ttft.n == 0 {
		return LiveStream{}, false
	}
	q := l.ttft.quantiles(0.5, 0.99)
	t.TTFTP50, t.TTFTP99 = q[0], q[1]
	if l.itl.n > 0 {
		q = l.itl.quantiles(0.5, 0.99)
		t.ITLP50, t.ITLP99 = q[0], q[1]
	}
	if interval > 0 {
		t.TokensPerSecond = float64(l.tokens) / interval.Seconds()
	}
	s.live = streamTick{}
	return t, true
}

func (s *streamAgg) second(t time.Time) int {
	return min(max(int(t.Sub(s.measureStart)/time.Second), 0), max(s.seconds-1, 0))
}

// tokensAt counts st's tokens in the seconds they arrived, and its gaps in ITL.
func (s *streamAgg) tokensAt(st *streamed) {
	at := st.first
	s.countToken(at)
	for _, g := range st.gaps {
		d := time.Duration(g) * time.Microsecond
		s.itl.add(d)
		at = at.Add(d)
		s.countToken(at)
	}
}

func (s *streamAgg) countToken(at time.Time) {
	sec := s.second(at)
	for len(s.tokens) <= sec {
		s.tokens = append(s.tokens, 0)
	}
	s.tokens[sec]++
}

func percentiles(h *hist) result.Percentiles {
	return result.Percentiles{Mean: h.mean(), P50: h.quantile(0.5), P90: h.quantile(0.9),
		P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}
}

// fill adds the streaming figures, goodput and per-name counts to l.
func (s *streamAgg) fill(l *result.Load) {
	if s.anyStream {
		st := &result.Stream{TTFT: percentiles(s.ttft), ITL: percentiles(s.itl), TPOT: percentiles(s.tpot),
			OutputTokens: s.output, Streams: s.streams}
		if l.Elapsed > 0 {
			st.OutputTokensPerS = float64(s.output) / l.Elapsed.Seconds()
		}
		if s.side != nil {
			st.File = s.side.name
		}
		l.Stream = st
		for i := range l.Series {
			if i < len(s.tokens) {
				l.Series[i].Tokens = s.tokens[i]
			}
			if i < len(s.ttftSec) {
				q := s.ttftSec[i].quantiles(0.5, 0.99)
				l.Series[i].TTFTP50, l.Series[i].TTFTP99 = q[0], q[1]
			}
		}
	}
	if s.goodput != nil {
		g := &result.GoodputResult{Requests: s.good}
		if l.Elapsed > 0 {
			g.RPS = float64(s.good) / l.Elapsed.Seconds()
		}
		if s.measured > 0 {
			g.Ratio = float64(s.good) / float64(s.measured)
		}
		l.Goodput = g
	}
	if len(s.byName) > 1 {
		for i, n := range s.byName {
			h := n.lat
			l.ByName = append(l.ByName, result.NameCount{Name: s.names[i], Requests: n.requests, Errors: n.errors,
				Latency: result.Latency{Mean: h.mean(), P50: h.quantile(0.5), P90: h.quantile(0.9),
					P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}})
		}
	}
}

// sideFile is the per-request streaming figures, one JSON object a line, next
// to the raw results (which stay vegeta's format). Its first error sticks.
type sideFile struct {
	name  string
	names []string // request names by index
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	err   error
}

// sideRecord is one line of the side file.
type sideRecord struct {
	Seq          uint64    `json:"seq"`
	Attack       string    `json:"attack"`
	Name         string    `json:"name,omitempty"`
	Timestamp    time.Time `json:"timestamp"`
	LatencyNS    int64     `json:"latency_ns"`
	TTFTNS       int64     `json:"ttft_ns,omitempty"`
	TPOTNS       int64     `json:"tpot_ns,omitempty"`
	Tokens       int       `json:"tokens"`
	OutputTokens int       `json:"output_tokens"`
	Done         bool      `json:"done"`
	Error        string    `json:"error,omitempty"`
}

func openSide(path string) (*sideFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot create streaming results file: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return &sideFile{name: path, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (s *sideFile) write(x *exchange, ttft, tpot time.Duration) {
	if s == nil || s.err != nil || x.stream == nil {
		return
	}
	r, st := &x.res, x.stream
	rec := sideRecord{Seq: r.Seq, Attack: r.Attack, Timestamp: r.Timestamp, LatencyNS: int64(x.latency),
		TTFTNS: int64(ttft), TPOTNS: int64(tpot), Tokens: st.tokens, OutputTokens: st.output, Done: st.done, Error: r.Error}
	if x.req >= 0 && x.req < len(s.names) {
		rec.Name = s.names[x.req]
	}
	if err := s.enc.Encode(rec); err != nil {
		s.err = fmt.Errorf("cannot write streaming results file: %w", err)
	}
}

func (s *sideFile) close() error {
	if s == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil && s.err == nil {
		s.err = fmt.Errorf("cannot write streaming results file: %w", err)
	}
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = fmt.Errorf("cannot write streaming results file: %w", err)
	}
	return s.err
}
