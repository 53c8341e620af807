package load

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func sampleOpen() result.Load {
	return result.Load{
		Requests: 11990, WarmupRequests: 1000, Elapsed: time.Minute,
		RateRPS: 199.83, ThroughputRPS: 198.1, SuccessRatio: 0.9913,
		Latency: result.Latency{
			Mean: 2549289, P50: 1275904, P90: 5857280, P95: 11026432, P99: 19038208, Max: 1220835509,
		},
		StatusCodes: map[string]uint64{"200": 11886, "503": 100, "0": 4},
		Errors: map[string]uint64{
			"503 Service Unavailable": 100,
			`Get "http://127.0.0.1:18090/predict": dial tcp 127.0.0.1:18090: connect: connection refused`: 4,
		},
		Endpoints: []result.EndpointCount{
			{URL: "http://127.0.0.1:18089", Requests: 5995, Errors: 50},
			{URL: "http://127.0.0.1:18090", Requests: 5995, Errors: 54},
		},
		RequestedRPS: 200, GeneratorCPU: 5300 * time.Millisecond, GeneratorPeakRSSBytes: 47 << 20,
		LatencyFrom: "intended-send-time", PeakInFlight: 12,
		Notes: []string{"send lag behind the schedule: p50 80µs, p99 1.2ms, max 3ms"},
	}
}

func sampleClosed() result.Load {
	errs := map[string]uint64{}
	for i := range 7 {
		errs[fmt.Sprintf("error %d", i)] = uint64(i + 1)
	}
	return result.Load{
		Requests: 3000, Elapsed: 10 * time.Second, RateRPS: 300, ThroughputRPS: 250, SuccessRatio: 0.99,
		Latency:     result.Latency{Mean: 30 * time.Millisecond, P50: 25 * time.Millisecond, Max: 2 * time.Second},
		StatusCodes: map[string]uint64{"200": 2972, "0": 28}, Errors: errs,
		Endpoints:    []result.EndpointCount{{URL: "http://127.0.0.1:18089", Requests: 3000, Errors: 28}},
		Series:       []result.Second{{T: 0, Users: 50}, {T: 1, Users: 100}},
		LatencyFrom:  "actual-send-time: closed model",
		RequestedRPS: 0, Shortfall: false, PeakInFlight: 100,
	}
}

func TestSummaryGolden(t *testing.T) {
	short := sampleOpen()
	short.RateRPS, short.Shortfall = 150, true
	for name, l := range map[string]result.Load{
		"open": sampleOpen(), "closed": sampleClosed(), "shortfall": short, "empty": {},
	} {
		t.Run(name, func(t *testing.T) {
			got := Summary(l)
			path := filepath.Join("testdata", "summary-"+name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Summary mismatch (go test -update rewrites it)\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func ExampleSummary() {
	l := result.Load{
		Requests: 1200, Elapsed: 6 * time.Second, RateRPS: 200, ThroughputRPS: 200, SuccessRatio: 1,
		Latency:      result.Latency{Mean: 1500 * time.Microsecond, P50: time.Millisecond, P90: 2 * time.Millisecond, P95: 3 * time.Millisecond, P99: 8 * time.Millisecond, Max: 12 * time.Millisecond},
		StatusCodes:  map[string]uint64{"200": 1200},
		Endpoints:    []result.EndpointCount{{URL: "http://127.0.0.1:18089", Requests: 1200}},
		RequestedRPS: 200, GeneratorCPU: 600 * time.Millisecond, GeneratorPeakRSSBytes: 30 << 20,
		LatencyFrom: "intended-send-time", PeakInFlight: 3,
	}
	fmt.Print(Summary(l))
	// Output:
	// requests   1200 in 6s
	// rate       200.0/s sent of 200.0/s requested, 200.0/s successful, success 100.00%
	// latency    mean 1.5ms, p50 1ms, p90 2ms, p95 3ms, p99 8ms, max 12ms (from intended-send-time)
	// status     200×1200
	// endpoints  http://127.0.0.1:18089 1200 (100.0%), 0 errors
	// generator  cpu 600ms (10% of a core), peak rss 30.0 MiB, peak in flight 3
}

func ExampleProgress_String() {
	p := Progress{
		Elapsed: 12300 * time.Millisecond, Total: time.Minute, Phase: AttackMeasure,
		Requests: 2400, Errors: 3, RatePerSecond: 199.84, P99: 12134 * time.Microsecond, Users: 100, InFlight: 4,
	}
	fmt.Println(p)
	p.Stream = &LiveStream{TTFTP50: 180 * time.Millisecond, TTFTP99: 312 * time.Millisecond, ITLP50: 21 * time.Millisecond, ITLP99: 40 * time.Millisecond, TokensPerSecond: 412}
	fmt.Println(p)
	// Output:
	// 12s/1m0s measure  2400 requests  199.8/s  3 errors  p99 12.1ms  100 users  4 in flight
	// 12s/1m0s measure  2400 requests  199.8/s  3 errors  p99 12.1ms  100 users  4 in flight  ttft p99 312ms  itl p50 21ms  412.0 tok/s
}
