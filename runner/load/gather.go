package load

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// WriteAgentReport writes rep as the last line of a results stream (after
// every result the agent's Config.ResultsWriter received); its presence tells
// the reader that the agent finished.
func WriteAgentReport(w io.Writer, rep AgentReport) error {
	rep.Load.Series = nil
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s}\n", agentReportKey, b)
	return err
}

// maxStreamLine bounds one line of a results stream: a result keeps at most
// keptBodyBytes of a body (base64 in JSON) and an error message.
const maxStreamLine = 1 << 20

// Gather collects the results streams of load agents that send one load
// together, each into a raw results file of its own (vegeta's gob format, as
// Config.ResultsPath writes it; Merge reads them), and keeps live figures over
// all of them for progress lines. Its methods may be called from several
// goroutines: one Read per agent, and Progress.
type Gather struct {
	mu       sync.Mutex
	done     uint64
	failed   uint64
	tick     sparseHist
	lastTick time.Time
	measured time.Time // the start of the measured window, once known
}

// NewGather returns a Gather whose live figures start at start.
func NewGather(start time.Time) *Gather { return &Gather{lastTick: start} }

// Read reads one agent's results stream (vegeta JSON lines, then the agent's
// report, as `runner agent --out -` writes them) until it ends, writes every
// result to a raw results file at path, and returns the agent's report and the
// number of results. A stream that ends without the report (the agent died)
// returns what it held, written to path, and an error for which IsNoReport is
// true.
func (g *Gather) Read(r io.Reader, path string) (AgentReport, uint64, error) {
	rw, err := openResults(Config{ResultsPath: path})
	if err != nil {
		return AgentReport{}, 0, err
	}
	var rep AgentReport
	var n uint64
	ended := false
	lr := &lineReader{}
	dec := vegeta.NewJSONDecoder(lr)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxStreamLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte(agentReportKey)) {
			if err := json.Unmarshal(line[len(agentReportKey):len(line)-1], &rep); err != nil {
				return rep, n, joinClose(rw, fmt.Errorf("result stream line %d: bad agent report: %w", n+1, err))
			}
			ended = true
			continue
		}
		res := new(vegeta.Result)
		lr.line, lr.newline = line, true
		if err := dec.Decode(res); err != nil {
			return rep, n, joinClose(rw, fmt.Errorf("result stream line %d: %w", n+1, err))
		}
		n++
		g.add(res)
		rw.write(res)
		if n%4096 == 0 {
			rw.flush()
		}
	}
	err = sc.Err()
	if err == nil && !ended {
		err = errNoReport
	}
	return rep, n, joinClose(rw, err)
}

// joinClose closes rw and returns err, or rw's error when err is nil.
func joinClose(rw *results, err error) error {
	if cerr := rw.close(); err == nil {
		return cerr
	}
	return err
}

// add counts one result in the live figures.
func (g *Gather) add(r *vegeta.Result) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done++
	if failed(r) {
		g.failed++
	}
	g.tick.add(r.Latency)
	if r.Attack == AttackMeasure && (g.measured.IsZero() || r.Timestamp.Before(g.measured)) {
		g.measured = r.Timestamp
	}
}

// Progress returns the live figures over every agent at now: the results so
// far, the completions per second, p50 and p99 since the last call.
func (g *Gather) Progress(now time.Time) Progress {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := Progress{Requests: g.done, Errors: g.failed, Phase: AttackWarmup}
	if !g.measured.IsZero() {
		p.Phase = AttackMeasure
	}
	if d := now.Sub(g.lastTick); d > 0 {
		p.RatePerSecond = float64(g.tick.n) / d.Seconds()
	}
	q := g.tick.quantiles(0.5, 0.99)
	p.P50, p.P99 = q[0], q[1]
	g.tick, g.lastTick = sparseHist{}, now
	return p
}

// lineReader hands one line at a time, with its newline, to vegeta's JSON
// decoder, which reads up to a newline.
type lineReader struct {
	line    []byte
	newline bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.line) == 0 {
		if !l.newline || len(p) == 0 {
			return 0, io.EOF
		}
		p[0], l.newline = '\n', false
		return 1, nil
	}
	n := copy(p, l.line)
	l.line = l.line[n:]
	return n, nil
}
