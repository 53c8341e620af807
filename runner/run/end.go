package run

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// Ending is how a run ended, which the exit status tells.
type Ending int

// The endings of a run, from best to worst.
const (
	// EndedOK: every scenario ran and met the SLO (or the SLO is ignored).
	EndedOK Ending = iota
	// EndedMissed: a scenario failed or missed the SLO.
	EndedMissed
	// EndedPlatform: the platform failed or stopped answering; the run stopped.
	EndedPlatform
	// EndedInterrupted: Ctrl-C or SIGTERM.
	EndedInterrupted
)

// EndOptions say what End needs of the command that ran the file.
type EndOptions struct {
	// File is the scenario file, Out the folder of the run directories, as the
	// user gave them (for the commands End suggests).
	File, Out string
	// Interrupted is true when the run was stopped by a signal.
	Interrupted bool
	// IgnoreSLO ends a run with failed or missed scenarios as EndedOK.
	IgnoreSLO bool
}

// End says how the run ran ended, given the error Execute returned: its
// ending, what to tell on stderr (how to resume, or to remove a stack left
// behind), and the verdict line for stdout (only for a run that ended by itself).
func End(ran result.Run, runErr error, o EndOptions) (e Ending, advice, verdict string) {
	dir := filepath.Join(o.Out, ran.ID)
	var lost *LostError
	switch {
	case o.Interrupted:
		return EndedInterrupted, fmt.Sprintf("interrupted; the stack was torn down and finished scenarios are kept: resume with\n  runner run %s --resume=%s", o.File, dir), ""
	case errors.As(runErr, &lost):
		return EndedPlatform, lostAdvice(ran, lost, runErr, o.File, dir), ""
	case runErr != nil:
		s := runErr.Error()
		if errors.Is(runErr, platform.ErrUnavailable) {
			s += "\nIs the Docker daemon running? `--platform local` runs without Docker."
		}
		return EndedPlatform, s, ""
	}
	e = EndedOK
	for _, sc := range ran.Scenarios {
		if sc.Status == result.StatusFailed || (sc.SLOPass != nil && !*sc.SLOPass) {
			e = EndedMissed
		}
	}
	if o.IgnoreSLO {
		e = EndedOK
	}
	return e, "", Verdict(ran, o.IgnoreSLO)
}

// lostAdvice says where a run whose platform stopped answering stopped, what
// is kept, what may be left running and how to finish.
func lostAdvice(ran result.Run, lost *LostError, runErr error, file, dir string) string {
	what := "the platform " + ran.Platform
	if ran.Platform == "compose" || ran.Platform == "swarm" {
		what = "the Docker daemon"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", runErr)
	fmt.Fprintf(&b, "The run stopped at scenario %d of %d because %s stopped answering; no later scenario was started. The scenarios finished before, the results so far and the report are kept in %s.\n", lost.K, lost.N, what, dir)
	if lost.StackLeft {
		fmt.Fprintf(&b, "The stack of %s may still be running. Once %s answers again, remove it with\n  runner clean --run %s\n", lost.Scenario, what, ran.ID)
	} else {
		fmt.Fprintf(&b, "The stack of %s was removed.\n", lost.Scenario)
	}
	fmt.Fprintf(&b, "Then finish the run with\n  runner run %s --resume=%s", file, dir)
	return b.String()
}
