// Command bench measures the load engine against the vegeta CLI, wrk and hey on
// loopback, all against the same tiny Go HTTP server, and writes a Markdown report.
// scripts/bench-load.sh (make bench-load) builds it and the vegeta CLI and runs it.
//
// Usage:
//
//	bench report -vegeta PATH [-runs 3] [-duration 10s] [-users 50] [-out DIR]
//	bench serve                     the static server; prints its address
//	bench load -url URL [flags]     one runner load; prints its result.Load as JSON
//
// The server runs on CPU 1 and every generator on CPU 0 (taskset), so they do not
// compete for a core. Each tool's CPU time and peak RSS come from the kernel's
// accounting of its process (getrusage of the child).
package main
