package load

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// maxSummaryErrors is how many error messages Summary lists.
const maxSummaryErrors = 5

// Summary returns a short human-readable summary of l for a terminal: volume and
// rates, latency, status codes, the most frequent errors, the per-endpoint share,
// the generator's own use, and every honesty note.
func Summary(l result.Load) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	summaryVolume(line, l)
	summaryOutcomes(line, l)
	summaryGenerator(line, l)
	return b.String()
}

// summaryVolume writes the requests, rates, users and latency lines.
func summaryVolume(line func(string, ...any), l result.Load) {
	warm := ""
	if l.WarmupRequests > 0 {
		warm = fmt.Sprintf(" (+%d warm-up, excluded)", l.WarmupRequests)
	}
	line("requests   %d in %s%s", l.Requests, fmtDur(l.Elapsed), warm)
	rate := fmt.Sprintf("rate       %.1f/s sent", l.RateRPS)
	if l.RequestedRPS > 0 {
		rate += fmt.Sprintf(" of %.1f/s requested", l.RequestedRPS)
	}
	line("%s, %.1f/s successful, success %.2f%%", rate, l.ThroughputRPS, 100*l.SuccessRatio)
	if users := peakUsers(l.Series); users > 0 {
		line("users      %d", users)
	}
	lat := l.Latency
	from := l.LatencyFrom
	if i := strings.IndexByte(from, ':'); i >= 0 {
		from = from[:i]
	}
	if from != "" {
		from = " (from " + from + ")"
	}
	line("latency    mean %s, p50 %s, p90 %s, p95 %s, p99 %s, max %s%s",
		fmtDur(lat.Mean), fmtDur(lat.P50), fmtDur(lat.P90), fmtDur(lat.P95), fmtDur(lat.P99), fmtDur(lat.Max), from)
}

// summaryOutcomes writes the status codes, the most frequent errors and the
// per-endpoint share.
func summaryOutcomes(line func(string, ...any), l result.Load) {
	codes := slices.Sorted(maps.Keys(l.StatusCodes))
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s×%d", c, l.StatusCodes[c])
	}
	line("status     %s", orNone(strings.Join(parts, " ")))

	msgs := slices.SortedFunc(maps.Keys(l.Errors), func(a, b string) int {
		return cmp.Or(cmp.Compare(l.Errors[b], l.Errors[a]), cmp.Compare(a, b))
	})
	for i, m := range msgs {
		if i == maxSummaryErrors {
			line("           ... %d more messages", len(msgs)-i)
			break
		}
		line("%s%d× %s", listHead(i, "errors"), l.Errors[m], m)
	}
	for i, e := range l.Endpoints {
		share := 0.0
		if l.Requests > 0 {
			share = 100 * float64(e.Requests) / float64(l.Requests)
		}
		line("%s%s %d (%.1f%%), %d errors", listHead(i, "endpoints"), e.URL, e.Requests, share, e.Errors)
	}
}

// listHead is the label column of a list's line i: the label on the first line,
// blanks after it.
func listHead(i int, label string) string {
	if i > 0 {
		label = ""
	}
	return fmt.Sprintf("%-11s", label)
}

// summaryGenerator writes the generator's own use, a shortfall and the notes.
func summaryGenerator(line func(string, ...any), l result.Load) {
	gen := fmt.Sprintf("generator  cpu %s", fmtDur(l.GeneratorCPU))
	if l.Elapsed > 0 {
		gen += fmt.Sprintf(" (%.0f%% of a core)", 100*l.GeneratorCPU.Seconds()/l.Elapsed.Seconds())
	}
	inflight := fmt.Sprint(l.PeakInFlight)
	if l.MaxInFlight > 0 {
		inflight += fmt.Sprintf(" (cap %d)", l.MaxInFlight)
	}
	line("%s, peak rss %.1f MiB, peak in flight %s", gen, float64(l.GeneratorPeakRSSBytes)/(1<<20), inflight)
	if l.Shortfall {
		line("SHORTFALL  achieved %.1f/s is more than 5%% below the requested %.1f/s", l.RateRPS, l.RequestedRPS)
	}
	for _, n := range l.Notes {
		line("note       %s", n)
	}
}

func peakUsers(s []result.Second) int {
	n := 0
	for _, p := range s {
		n = max(n, p.Users)
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// fmtDur rounds d to about 3 significant digits for humans.
func fmtDur(d time.Duration) string {
	for _, r := range []time.Duration{100 * time.Second, 10 * time.Second, time.Second,
		100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond} {
		if d >= r {
			return d.Round(r / 100).String()
		}
	}
	return d.Round(time.Microsecond).String()
}

// String returns a one-line progress report for a terminal, e.g.
// "12s/1m0s measure  2400 requests  199.8/s  3 errors  p99 12.1ms  100 users  4 in flight",
// with "  ttft p99 310ms  itl p50 21ms  412.0 tok/s" when streams finished.
func (p Progress) String() string {
	s := fmt.Sprintf("%s/%s %s  %d requests  %.1f/s  %d errors  p99 %s",
		p.Elapsed.Round(time.Second), p.Total, p.Phase, p.Requests, p.RatePerSecond, p.Errors, fmtDur(p.P99))
	if p.Users > 0 {
		s += fmt.Sprintf("  %d users", p.Users)
	}
	s += fmt.Sprintf("  %d in flight", p.InFlight)
	if st := p.Stream; st != nil {
		s += fmt.Sprintf("  ttft p99 %s  itl p50 %s  %.1f tok/s", fmtDur(st.TTFTP99), fmtDur(st.ITLP50), st.TokensPerSecond)
	}
	return s
}
