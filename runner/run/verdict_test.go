package run

import (
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
			if got := Verdict(tt.run, tt.ignore); got != tt.want {
				t.Errorf("verdict =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}
