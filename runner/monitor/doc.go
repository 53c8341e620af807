// Package monitor samples a stack's containers at a fixed interval into stats.csv,
// records its events, and summarises both per scenario.
package monitor
