// Package result holds the data that flows from a run to its reports: what was
// planned for a scenario, what the load engine measured, what the platform saw the
// containers do, and how long each phase took. It imports nothing of the runner's, so
// the load engine, the platforms, the monitor and the reports all speak it.
//
// The run directory is its serialised form (see DESIGN.md):
//
//	OUT/RUN_ID/run.json                   Run without Scenarios (metadata)
//	OUT/RUN_ID/plan.json                  []Scenario
//	OUT/RUN_ID/scenarios/ID/outcome.json  Outcome
//	OUT/RUN_ID/scenarios/ID/stats.csv     Sample rows
//	OUT/RUN_ID/scenarios/ID/events.json   []Event
//	OUT/RUN_ID/scenarios/ID/results.gob   raw vegeta results
//	OUT/RUN_ID/scenarios/ID/results-stepN.gob  raw vegeta results of step N of a
//	                                           capacity search (instead of results.gob)
package result
