// Package cli holds the conventions the runner's commands share, so that each
// command is only its flags, its options and one call (as fortio.org/cli does
// for fortio's): flags anywhere among the arguments ("--" ends them), -h that
// prints the command's usage text with its options filled in, a scenario file
// whose problems are printed one a line, and the exit codes.
package cli
