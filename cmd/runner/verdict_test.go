package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

func TestVerdict(t *testing.T) {
	yes, no := true, false
	oc := func(id, status string, pass *bool) result.Outcome {
		return result.Outcome{Scenario: result.Scenario{ID: id}, Status: status, SLOPass: pass}
	}
	slo := &result.SLO{P95: time.Second}
	tests := []struct {
		name   string
		run    result.Run
		ignore bool
		want   string
	}{
		{"all met", result.Run{SLO: slo, Scenarios: []result.Outcome{oc("a", "ok", &yes), oc("b", "ok", &yes)}}, false,
			"the study ran: all 2 scenarios finished and met the SLO"},
		{"no slo", result.Run{Scenarios: []result.Outcome{oc("a", "ok", nil)}}, false,
			"the study ran: all 1 scenarios finished (the file sets no SLO)"},
		{"missed is a finding", result.Run{SLO: slo, Scenarios: []result.Outcome{oc("a", "ok", &yes), oc("big-1", "ok", &no), oc("big-2", "ok", &no)}}, false,
			"the study ran: all 3 scenarios finished; 2 missed the SLO (big-1, big-2), which is what the study measured, not a failure of the run (see the report); exit status 1 reports SLO misses"},
		{"missed, ignored", result.Run{SLO: slo, Scenarios: []result.Outcome{oc("big-1", "ok", &no)}}, true,
			"the study ran: all 1 scenarios finished; 1 missed the SLO (big-1), which is what the study measured, not a failure of the run (see the report); exit status 0 (--ignore-slo) reports SLO misses"},
		{"failed", result.Run{SLO: slo, Scenarios: []result.Outcome{oc("a", "failed", nil), oc("b", "ok", &no), oc("c", "ok", &yes)}}, false,
			"FAILED: 1 of 3 scenarios did not run to the end (a); their errors are in the report; 1 more ran and missed the SLO (b); exit status 1"},
		{"many failed", result.Run{Scenarios: []result.Outcome{oc("a", "failed", nil), oc("b", "failed", nil), oc("c", "failed", nil), oc("d", "failed", nil), oc("e", "failed", nil)}}, false,
			"FAILED: 5 of 5 scenarios did not run to the end (a, b, c, d and 1 more); their errors are in the report; exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(tt.run, tt.ignore); got != tt.want {
				t.Errorf("verdict =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

// TestRunMissedSLOLastLine runs a study whose only scenario misses its SLO on
// purpose: exit status 1, and the last line says the study ran.
func TestRunMissedSLOLastLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "slow.yaml")
	yaml := fmt.Sprintf(`name: slow
platform: external
targets: [%s]
defaults: {duration: 1s, warmup: 0s}
slo: {p50: 1ms}
grid:
  - name: open
    load: [{rate: 20/s}]
`, srv.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{file, "--out", filepath.Join(dir, "runs")}, &stdout, &stderr); code != exitSLO {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitSLO, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "the study ran: all 1 scenarios finished; 1 missed the SLO (open-") {
		t.Errorf("last line %q does not say the study ran and which scenario missed", last)
	}
}
