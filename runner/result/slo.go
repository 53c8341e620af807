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
	if s.MinThroughputRPS > 0 && l.ThroughputRPS < s.MinThroughputRPS {
		failures = append(failures, fmt.Sprintf("throughput %.1f/s < %.1f/s", l.ThroughputRPS, s.MinThroughputRPS))
	}
	return len(failures) == 0, failures
}
