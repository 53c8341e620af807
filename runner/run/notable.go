package run

import (
	"fmt"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Notable is the one-line account of a container event worth telling as it
// happens: an OOM kill (with the time it sat at its limit), a restart, a failed
// health check, memory reaching its limit, or an exit with a code other than
// a stop's (0, 137 for SIGKILL, 143 for SIGTERM). It is "" for other events.
func Notable(ev result.Event) string {
	who := ev.Container
	if ev.Role == result.RoleSide {
		who = "side service " + who
	}
	switch ev.Kind {
	case result.EventOOM:
		s := "OOM kill of " + who
		if ev.AtLimit > 0 {
			s += fmt.Sprintf(", after %s at its memory limit", ev.AtLimit.Round(time.Second))
		}
		return s
	case result.EventRestart:
		return who + " restarted"
	case result.EventHealth:
		return who + " failed its health check: " + ev.Message
	case result.EventMemLimit:
		return who + " reached its memory limit"
	case result.EventDie:
		if ev.ExitCode != nil && *ev.ExitCode != 0 && *ev.ExitCode != 137 && *ev.ExitCode != 143 {
			return fmt.Sprintf("%s exited with code %d", who, *ev.ExitCode)
		}
	}
	return ""
}
