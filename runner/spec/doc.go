// Package spec reads scenario files: YAML types, defaults, validation with
// FILE:LINE:COL errors, and expansion of the experiment grid into scenarios.
//
// Load (or Parse) reads a file, reports every problem at once (each an *Error that
// wraps ErrInvalid, joined with errors.Join and sorted by position), resolves paths
// relative to the file's folder, reads the request bodies and fills defaults.
// File.Scenarios expands the grid: each block is the cartesian product of its
// replicas, cpus, memory, balancer and load axes, and every Scenario carries what a
// platform and the load engine need, with a stable ID that starts with its block's
// name. Scenario.Result flattens a scenario for reports; SLO.Result converts the
// objective; Scenario.Fit checks it against a Host; Schema derives the JSON Schema
// of the format from these types.
package spec
