package load

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// results streams the raw results to a file in vegeta's gob format. A zero
// results (no path) writes nothing. Its first write error sticks.
type results struct {
	file *os.File
	buf  *bufio.Writer
	enc  vegeta.Encoder
	err  error
}

// openResults creates the raw results file at c.ResultsPath, or writes JSON
// lines to c.ResultsWriter; neither keeps none.
func openResults(c Config) (*results, error) {
	if c.ResultsWriter != nil {
		buf := bufio.NewWriterSize(c.ResultsWriter, 256<<10)
		return &results{buf: buf, enc: vegeta.NewJSONEncoder(buf)}, nil
	}
	path := c.ResultsPath
	if path == "" {
		return &results{}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot create results file: %w", err)
	}
	buf := bufio.NewWriterSize(f, 256<<10)
	return &results{file: f, buf: buf, enc: vegeta.NewEncoder(buf)}, nil
}

// write appends r without its headers, with a failed response's body cut to
// keptBodyBytes and a successful one's dropped.
func (w *results) write(r *vegeta.Result) {
	if w.enc == nil || w.err != nil {
		return
	}
	r.Headers = nil
	if !failed(r) {
		r.Body = nil
	} else if len(r.Body) > keptBodyBytes {
		r.Body = r.Body[:keptBodyBytes]
	}
	if err := w.enc.Encode(r); err != nil {
		w.err = fmt.Errorf("cannot write results file: %w", err)
	}
}

func (w *results) flush() {
	if w.buf == nil || w.err != nil {
		return
	}
	if err := w.buf.Flush(); err != nil {
		w.err = fmt.Errorf("cannot write results file: %w", err)
	}
}

// close flushes and closes the file and returns the first write error.
func (w *results) close() error {
	w.flush()
	if w.file == nil {
		return w.err
	}
	if err := w.file.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("cannot write results file: %w", err)
	}
	return w.err
}

// collector folds the results of one Run into the metrics and the raw file, on
// Run's goroutine, and calls Progress about once a second.
type collector struct {
	e           *engine
	rw          *results
	agg         *aggregator
	streams     *streamAgg
	aborted     uint64 // requests cut short by a cancellation
	cancelledAt atomic.Pointer[time.Time]
	lastTick    time.Time
}

func newCollector(e *engine, rw *results) *collector {
	c := e.c
	col := &collector{
		e: e, rw: rw, lastTick: e.start,
		agg:     newAggregator(e.measureStart, c.Duration, e.urls, e.bases, !c.closed()),
		streams: newStreamAgg(e),
	}
	for _, r := range e.reqs { // a mix's other paths count for the same endpoints
		for i, u := range r.urls {
			col.agg.urlIndex[u] = i
		}
	}
	return col
}

// watch halts the model and aborts requests in flight when ctx is cancelled
// before finished is closed.
func (col *collector) watch(ctx context.Context, finished <-chan struct{}) {
	select {
	case <-ctx.Done():
		now := time.Now()
		col.cancelledAt.Store(&now)
		col.e.halt()
		col.e.closeConns()
	case <-finished:
	}
}

// collect receives results until the model closes e.out.
func (col *collector) collect() {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case x, ok := <-col.e.out:
			if !ok {
				return
			}
			col.receive(x)
		case now := <-ticker.C:
			col.tick(now)
		}
	}
}

// receive folds in one result.
func (col *collector) receive(x *exchange) {
	r := &x.res
	if at := col.cancelledAt.Load(); at != nil && failed(r) && !r.End().Before(*at) {
		col.aborted++ // cut short by the cancellation, not by the target
		return
	}
	col.agg.add(r, x.latency)
	col.streams.add(x)
	col.rw.write(r)
}

// tick flushes the raw file and reports progress.
func (col *collector) tick(now time.Time) {
	e, agg := col.e, col.agg
	col.rw.flush()
	if p := e.c.Progress; p != nil {
		rate, p50, p99 := agg.takeTick(now.Sub(col.lastTick))
		phase := AttackMeasure
		if now.Before(e.measureStart) {
			phase = AttackWarmup
		}
		p(Progress{
			Elapsed:       now.Sub(e.start),
			Total:         e.c.Warmup + e.c.Duration,
			Phase:         phase,
			Requests:      agg.done,
			Errors:        agg.failed,
			RatePerSecond: rate,
			P50:           p50,
			P99:           p99,
			Users:         int(e.started.Load()),
			InFlight:      int(e.inFlight.Load()),
			Endpoints:     slices.Clone(agg.endpoints),
			Stream:        col.liveStream(now.Sub(col.lastTick)),
		})
	}
	col.lastTick = now
}

// liveStream is the streams' part of a progress tick over interval.
func (col *collector) liveStream(interval time.Duration) *LiveStream {
	if t, ok := col.streams.takeTick(interval); ok {
		return &t
	}
	return nil
}

// meter measures the generator's own CPU from the start of the measured window
// (so it compares with Elapsed; the warm-up's is left out like its requests),
// and its peak RSS from the start of the run.
type meter struct {
	rssReset bool
	cpu0     atomic.Int64
	timer    *time.Timer
}

func startMeter(warmup time.Duration) *meter {
	m := &meter{rssReset: resetPeakRSS()}
	m.cpu0.Store(int64(cpuTime()))
	if warmup > 0 {
		m.timer = time.AfterFunc(warmup, func() { m.cpu0.Store(int64(cpuTime())) })
	}
	return m
}

// cpu returns the CPU used since the measured window started.
func (m *meter) cpu() time.Duration { return cpuTime() - time.Duration(m.cpu0.Load()) }

func (m *meter) stop() {
	if m.timer != nil {
		m.timer.Stop()
	}
}
