// Package monitor samples a stack's containers at a fixed interval into stats.csv,
// records its events into events.json, and summarises both per scenario into
// result.Resources.
//
// The orchestrator's use, per scenario:
//
//	mctx, stop := context.WithCancel(ctx)
//	done := make(chan monitor.Series, 1)
//	go func() { s, _ := monitor.Run(mctx, stack, time.Second, statsWriter); done <- s }()
//	... run the load ...
//	stop()
//	series := <-done
//	stack.Down(downCtx) // records OOM kills seen only at teardown
//	events := monitor.Merge(stack.Events(), series.Errors)
//	monitor.WriteEvents(filepath.Join(dir, "events.json"), events)
//	outcome.Resources = monitor.Summarize(series.Samples, events, stack.Advisory())
package monitor
