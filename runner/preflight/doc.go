// Package preflight checks, before anything starts, that each scenario fits this
// host: its replicas' memory limits plus the load generator's allowance against the
// memory available, its replicas' CPU limits against the CPUs, and that the host
// ports it publishes are free. Scenarios run one at a time, so each is checked on
// its own. Problems refuse the run unless overcommit is allowed, which turns them
// into warnings.
package preflight
