package plan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/spec"
)

const file = `name: p
platform: compose
service: {image: x:1, port: 8000}
request: {path: /}
defaults: {duration: 10s, warmup: 2s}
grid:
  - name: small
    replicas: [1]
    memory: [1G]
    load: [{users: 10, spawn_rate: 5}]
  - name: big
    replicas: [2]
    memory: [8G]
    cpus: [1]
    load: [{rate: 50/s}]
`

func TestRowsFitAndEstimate(t *testing.T) {
	f, err := spec.Parse("p.yaml", t.TempDir(), []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	h := preflight.Host{CPUs: 2, MemTotalBytes: 12 << 30, MemAvailableBytes: 10 << 30}
	rows := Rows(f, h)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	small, big := rows[0], rows[1]
	if !small.Fits || len(small.FitProblems) != 0 || small.Users == nil || *small.Users != 10 || small.Rate != nil {
		t.Errorf("small: %+v", small)
	}
	// Two replicas of 8G do not fit 10G available.
	if big.Fits || len(big.FitProblems) == 0 || big.Rate == nil || big.Users != nil || *big.Replicas != 2 || *big.CPUs != 1 {
		t.Errorf("big: %+v", big)
	}
	for _, r := range rows {
		if r.EstimatedS < r.DurationS+r.WarmupS {
			t.Errorf("%s: estimate %vs is below warm-up + duration", r.Scenario, r.EstimatedS)
		}
	}
	var b bytes.Buffer
	if err := Table(&b, f, h, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"p: 2 scenarios, platform compose", big.Scenario, "NO: ", "1 of 2 scenarios do not fit"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
