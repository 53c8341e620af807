package run

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// NewProgress returns the Observer that shows a run on w: one live, rewritten line
// when w is a terminal, plain log lines (live load status at most every
// PlainInterval) when not. Capacity-search steps and finished scenarios are
// always printed on lines of their own.
func NewProgress(w io.Writer, terminal bool) Observer {
	return newPrinter(w, terminal).observe
}

func newPrinter(w io.Writer, terminal bool) *printer {
	return &printer{w: w, tty: terminal, now: time.Now}
}

func (p *printer) observe(e Event) {
	switch e.Kind {
	case KindPhase:
		p.Phase(e.K, e.N, label(e), string(e.Phase))
	case KindProgress:
		p.Status(e.Line)
	case KindStep:
		p.Status(e.Line + "\n")
	case KindContainer:
		if text := Notable(*e.Container); text != "" {
			p.Status(text + "\n")
		}
	case KindResult:
		p.Done(e.K, e.N, label(e), *e.Outcome, e.ETA)
	}
}

// label names the scenario of an event, and its repeat: "ID" or "ID repeat 2/5".
func label(e Event) string {
	if e.Repeats > 1 {
		return fmt.Sprintf("%s repeat %d/%d", e.Scenario, e.Repeat, e.Repeats)
	}
	return e.Scenario
}

// PlainInterval is how often a non-terminal progress prints the live load status.
const PlainInterval = 10 * time.Second

type printer struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	now        func() time.Time
	head       string // "[k/n] ID phase"
	lastStatus time.Time
	eta        time.Duration
}

func (p *printer) Phase(k, n int, id, phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k == 0 {
		p.head = fmt.Sprintf("[%d scenarios] %s", n, phase)
	} else {
		p.head = fmt.Sprintf("[%d/%d] %s %s", k, n, id, phase)
	}
	if p.eta > 0 {
		p.head += fmt.Sprintf(" (run ETA %s)", p.eta.Round(time.Second))
	}
	p.line(p.head)
}

func (p *printer) Status(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if line, ok := strings.CutSuffix(s, "\n"); ok { // an event: always printed, kept
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s: %s\n", p.head, line)
			return
		}
		fmt.Fprintf(p.w, "%s: %s\n", p.head, line)
		return
	}
	if !p.tty {
		if now := p.now(); now.Sub(p.lastStatus) >= PlainInterval {
			p.lastStatus = now
		} else {
			return
		}
	}
	p.line(p.head + ": " + s)
}

func (p *printer) Done(k, n int, label string, o result.Outcome, eta time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eta = eta
	msg := fmt.Sprintf("[%d/%d] %s %s", k, n, label, outcomeLine(o))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", msg)
		return
	}
	fmt.Fprintln(p.w, msg)
}

func (p *printer) line(s string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		return
	}
	fmt.Fprintln(p.w, s)
}

// outcomeLine is the one-line summary of a finished scenario.
func outcomeLine(o result.Outcome) string {
	if o.Status != result.StatusOK {
		return fmt.Sprintf("FAILED after %s: %s", o.Ended.Sub(o.Started).Round(time.Second), o.Error)
	}
	l := o.Load
	s := fmt.Sprintf("ok: %d req, %.1f/s ok, %.2f%% errors, p50 %s, p99 %s",
		l.Requests, l.ThroughputRPS, 100*(1-l.SuccessRatio), round(l.Latency.P50), round(l.Latency.P99))
	if o.Resources.OOMKills > 0 {
		s += fmt.Sprintf(", %d OOM kills", o.Resources.OOMKills)
	}
	if o.SLOPass != nil && !*o.SLOPass {
		s += fmt.Sprintf(", SLO failed %v", o.SLOFailures)
	}
	return s
}

// round keeps three significant figures of a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
