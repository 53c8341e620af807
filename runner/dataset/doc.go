// Package dataset holds request bodies for the load: a JSON Lines file read
// into one byte slice with line offsets (a million 1 KiB prompts cost the file's
// size plus 4 bytes a line, not a million Go strings), and the choosers that
// pick a body (cycle or seeded random) and a request of a weighted mix.
//
// It has no dependencies beyond the standard library, so the scenario loader
// (runner/spec) validates a dataset with the same reader the load engine uses.
package dataset
