package result

import (
	"fmt"
	"time"
)

// Check reports whether l meets the objective, and which objectives it missed.
func (s SLO) Check(l Load) (pass bool, failures []string) {
	lat := func(name string, got, limit time.Duration) {
		if limit > 0 && got > limit {
			failures = append(failures, fmt.Sprintf("%s %s > %s", name, got.Round(time.Millisecond), limit))
		}
	}
	lat("p50", l.Latency.P50, s.P50)
	lat("p95", l.Latency.P95, s.P95)
	lat("p99", l.Latency.P99, s.P99)
	if s.ErrorRate != nil {
		if rate := 1 - l.SuccessRatio; l.Requests == 0 || rate > *s.ErrorRate {
			failures = append(failures, fmt.Sprintf("error rate %.2f%% > %.2f%%", 100*rate, 100**s.ErrorRate))
		}
	}
	if st := l.Stream; s.Streaming() && l.Requests > 0 && (st == nil || st.Streams == 0) {
		failures = append(failures, "no streamed token measured for the ttft/itl/tpot objectives")
	} else if st != nil {
		lat("ttft p50", st.TTFT.P50, s.TTFTP50)
		lat("ttft p95", st.TTFT.P95, s.TTFTP95)
		lat("ttft p99", st.TTFT.P99, s.TTFTP99)
		lat("itl p95", st.ITL.P95, s.ITLP95)
		lat("itl p99", st.ITL.P99, s.ITLP99)
		lat("tpot p95", st.TPOT.P95, s.TPOTP95)
		lat("tpot p99", st.TPOT.P99, s.TPOTP99)
	}
	if s.MinThroughputRPS > 0 && l.ThroughputRPS < s.MinThroughputRPS {
		failures = append(failures, fmt.Sprintf("throughput %.1f/s < %.1f/s", l.ThroughputRPS, s.MinThroughputRPS))
	}
	return len(failures) == 0, failures
}

// Streaming reports whether s sets an objective on streaming figures.
func (s SLO) Streaming() bool {
	return s.TTFTP50 > 0 || s.TTFTP95 > 0 || s.TTFTP99 > 0 || s.ITLP95 > 0 || s.ITLP99 > 0 ||
		s.TPOTP95 > 0 || s.TPOTP99 > 0
}
