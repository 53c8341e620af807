// Package local is the platform that needs no Docker: each replica of the service
// runs as a child process on a free loopback port.
//
// The contract with the service: it gets PORT=<port> and ADDR=127.0.0.1:<port> in
// its environment (and "{{.Port}}" in a scenario's command is replaced by the
// port), must listen there and answer the health path with 2xx when ready. It also
// gets INFERGRID_RUNNER_RUN and INFERGRID_RUNNER_PROJECT, which tag it for leak
// checks, and GOMAXPROCS=ceil(cpus) when a CPU limit is set.
//
// Limits are enforced with cgroups where this host permits (cgroup v2 with the
// memory and cpu controllers delegated, or writable cgroup v1 memory and cpu
// hierarchies, as root usually has). Otherwise they are advisory: GOMAXPROCS and
// GOMEMLIMIT hint them to a Go service, and Stack.Advisory reports it so the report
// can say so. Telemetry comes from /proc/PID and the cgroup's memory files; the
// network counters are not kept per process and stay 0.
//
// Every replica runs in its own process group and is ended on Down (SIGTERM, then
// SIGKILL); Linux's parent-death signal kills it if the runner dies first.
package local
