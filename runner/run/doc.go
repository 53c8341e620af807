// Package run executes a scenario file: preflight, then for each scenario bring the
// stack up, load it, watch it, bring it down, and write results as they complete.
//
// Jobs maps the scenarios of a spec.File to Jobs (StackSpec is a scenario's
// platform.Spec, LoadConfig its load.Config, Loader runs it or drives its
// capacity search), and Execute runs them one after the other into a run
// directory.
//
// # Events
//
// A run reports what it does as a stream of Event values, which every consumer
// subscribes to: the terminal progress (NewProgress), a live dashboard, a test.
// Pass them in Options.Observers:
//
//	var s run.Stream // for consumers that read at their own pace
//	events, cancel := s.Subscribe(256)
//	defer cancel()
//	go func() {
//		for e := range events { // closed after the run_end event
//			fmt.Println(e.Time, e.Kind, e.Scenario, e.Line)
//		}
//	}()
//	run.Execute(ctx, meta, jobs, run.Options{
//		Observers: []run.Observer{run.NewProgress(os.Stdout, false), s.Observe},
//	})
//
// The events of a run, in order:
//
//	run_start                     Dir: the run directory
//	phase build                   once, when the platform prepares (K is 0)
//	for each scenario K of N:
//	  phase up                    the stack is coming up
//	  phase load                  the load runs; meanwhile, interleaved:
//	    progress                  Progress, Line: the load's live state, ~1/s
//	    step                      Step, StepN, Line: a finished capacity-search step
//	    sample                    Samples: one telemetry reading of every container
//	  phase down                  the stack is coming down
//	  failure                     Err: why the scenario failed (only if it did)
//	  result                      Outcome (as in outcome.json), ETA of the rest
//	run_end                       Err: why the run stopped early, if it did
//
// Every event carries Time, Kind, Run (the run ID) and N; those of a scenario
// carry K and Scenario too. Observers are called synchronously, one event at a
// time and in this order, from the run's goroutines: they must return quickly.
// A Stream decouples slow consumers: each subscriber has its own buffered
// channel, and loses events (counted by Dropped) rather than slowing the run.
// Event has JSON tags, so a consumer can forward it as is (one JSON object per
// event, e.g. as Server-Sent Events). The files of the run directory are written
// by Execute itself, before the result event, so that a write error stops the run.
package run
