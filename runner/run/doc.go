// Package run executes a scenario file: preflight, then for each scenario bring the
// stack up, load it, watch it, bring it down, and write results as they complete.
package run
