// Package dashboard serves the live web dashboard of a run (runner run FILE
// --dashboard ADDR): the grid of scenarios with their status, SLO verdict and key
// figures, the ETA, the running scenario's load and per-replica telemetry as
// charts, and failures as they happen.
//
// A Server keeps the state of one run, fed by the run's events, and pushes it to
// every open page over Server-Sent Events about once a second. Everything is
// rendered by Go: the page and its fragments by html/template, the charts as SVG
// by package chart; the page's own script only swaps the fragments in and keeps
// the charts' legend toggles. Every asset is embedded in the binary, nothing is
// fetched from elsewhere.
//
// The server is read-only: it answers GET and HEAD on "/" (the page), "/events"
// (the stream) and "/report.html" (the run's report, once written: a path fixed
// by the runner, never taken from a request) and nothing else, so no request can
// reach into the run directory or change the run. Listen binds a bare port to
// the loopback interface.
package dashboard
