package dashboard

import (
	"github.com/infergrid/runner/runner/run"
)

// Observe updates the dashboard with one event of the run; it is a run.Observer
// and returns at once (the pages are rendered and sent by their own goroutines).
func (s *Server) Observe(ev run.Event) {
	s.update(func(st *state) {
		switch ev.Kind {
		case run.KindRunStart:
			st.Run, st.Dir, st.Started = ev.Run, ev.Dir, ev.Time
			st.row(ev.N, "")
		case run.KindPhase:
			st.Run = ev.Run
			st.phase(ev.K, ev.Scenario, string(ev.Phase))
		case run.KindProgress:
			if p := ev.Progress; p != nil {
				st.progress(ev.K, ev.Scenario, tick{RPS: p.RatePerSecond, P50: p.P50, P99: p.P99, Users: p.Users, InFlight: p.InFlight, Stream: p.Stream},
					p.Errors, p.Elapsed, p.Total, p.Endpoints)
			}
		case run.KindStep:
			if ev.Line != "" {
				st.note(ev.Scenario, ev.Line)
			}
		case run.KindSample:
			st.samples(ev.K, ev.Scenario, ev.Samples)
		case run.KindContainer:
			if ev.Container != nil {
				st.container(ev.Time, ev.Scenario, *ev.Container)
			}
		case run.KindFailure:
			st.fail(ev.Time, ev.Scenario, ev.Err)
		case run.KindResult:
			if ev.Outcome != nil {
				st.result(ev.Time, ev.K, *ev.Outcome, ev.ETA)
			}
			if ev.Median != nil { // a repeat: the row shows the median so far
				st.median(ev.K, *ev.Median)
			}
		case run.KindRunEnd:
			st.Ended, st.EndErr, st.Live = true, ev.Err, nil
		}
	})
}
