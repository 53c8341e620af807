// Package timingtest runs tests whose outcome depends on a shared, noisy
// machine's timing: a rate that was sent, a latency that was measured, a search
// whose steps follow from both.
package timingtest

import (
	"strings"
	"testing"
)

// Attempts is how often a timing-dependent test runs before it fails: a shared,
// noisy machine can starve one short run, not three in a row.
const Attempts = 3

// Measured runs attempt until one reports no problem, and fails t with the
// problems of the last attempt otherwise. An attempt reports as problems only
// what the machine's timing can cause; what it cannot (a wrong file, a wrong
// count) the attempt fails on t directly, at once.
func Measured(t testing.TB, attempt func() (problems []string)) {
	t.Helper()
	var problems []string
	for i := range Attempts {
		if problems = attempt(); len(problems) == 0 {
			return
		}
		t.Logf("attempt %d: %s", i+1, strings.Join(problems, "; "))
	}
	t.Error(strings.Join(problems, "\n"))
}
