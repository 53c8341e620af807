package run

import (
	"fmt"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// Verdict is the last line of a run that ended by itself: it tells a study whose
// scenarios missed the SLO (the run worked; the misses are its findings, and exit
// status 1 reports them) apart from one whose scenarios failed to run.
func Verdict(ran result.Run, ignoreSLO bool) string {
	var failed, missed, skipped []string
	for _, sc := range ran.Scenarios {
		switch {
		case sc.Status == result.StatusFailed:
			failed = append(failed, sc.Scenario.ID)
		case sc.Status == result.StatusSkipped:
			skipped = append(skipped, sc.Scenario.ID)
		case sc.SLOPass != nil && !*sc.SLOPass:
			missed = append(missed, sc.Scenario.ID)
		}
	}
	n := len(ran.Scenarios)
	exit := "exit status 1"
	if ignoreSLO {
		exit = "exit status 0 (--ignore-slo)"
	}
	switch {
	case len(failed) > 0:
		s := fmt.Sprintf("FAILED: %d of %d scenarios did not run to the end (%s); their errors are in the report", len(failed), n, ids(failed))
		if len(missed) > 0 {
			s += fmt.Sprintf("; %d more ran and missed the SLO (%s)", len(missed), ids(missed))
		}
		return s + "; " + exit
	case len(skipped) > 0:
		return fmt.Sprintf("the run stopped before %d of %d scenarios (%s)", len(skipped), n, ids(skipped))
	case len(missed) > 0:
		return fmt.Sprintf("the study ran: all %d scenarios finished; %d missed the SLO (%s), which is what the study measured, not a failure of the run (see the report); %s reports SLO misses",
			n, len(missed), ids(missed), exit)
	case ran.SLO != nil:
		return fmt.Sprintf("the study ran: all %d scenarios finished and met the SLO", n)
	}
	return fmt.Sprintf("the study ran: all %d scenarios finished (the file sets no SLO)", n)
}

// ids lists scenario IDs, the first few only.
func ids(v []string) string {
	const most = 4
	if len(v) <= most {
		return strings.Join(v, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(v[:most], ", "), len(v)-most)
}
