package result

import (
	"slices"
	"testing"
	"time"
)

func TestSLOCheck(t *testing.T) {
	onePct := 0.01
	tests := []struct {
		name string
		slo  SLO
		load Load
		want []string
	}{
		{name: "empty slo passes", slo: SLO{}, load: Load{Requests: 1}},
		{name: "p95 within", slo: SLO{P95: time.Second}, load: Load{Latency: Latency{P95: time.Second}}},
		{name: "p95 over", slo: SLO{P95: time.Second}, load: Load{Latency: Latency{P95: 1500 * time.Millisecond}}, want: []string{"p95 1.5s > 1s"}},
		{name: "errors over", slo: SLO{ErrorRate: &onePct}, load: Load{Requests: 100, SuccessRatio: 0.9}, want: []string{"error rate 10.00% > 1.00%"}},
		{name: "no requests fails error rate", slo: SLO{ErrorRate: &onePct}, load: Load{}, want: []string{"error rate 100.00% > 1.00%"}},
		{name: "throughput under", slo: SLO{MinThroughputRPS: 100}, load: Load{ThroughputRPS: 50}, want: []string{"throughput 50.0/s < 100.0/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass, got := tt.slo.Check(tt.load)
			if pass != (len(tt.want) == 0) || !slices.Equal(got, tt.want) {
				t.Errorf("Check = %v, %q; want %q", pass, got, tt.want)
			}
		})
	}
}
