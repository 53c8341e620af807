package run

import "time"

// DefaultOverhead is the orchestration time (up, health, down) assumed per scenario
// until one has been measured.
const DefaultOverhead = 10 * time.Second

// eta estimates the time left in a run from the planned load time of each pending
// scenario plus the mean overhead measured so far.
type eta struct {
	planned  []time.Duration // load + warm-up of each scenario to run, in order
	overhead time.Duration   // summed measured overhead
	finished int
}

func newETA(jobs []Job, todo []int) *eta {
	e := &eta{}
	for _, i := range todo {
		s := jobs[i].Scenario
		e.planned = append(e.planned, s.Duration+s.Warmup)
	}
	return e
}

// done records that the k-th scenario to run took took.
func (e *eta) done(k int, took time.Duration) {
	e.overhead += took - e.planned[k]
	e.finished = k + 1
}

// remaining is the estimated time until the last scenario ends.
func (e *eta) remaining() time.Duration {
	per := DefaultOverhead
	if e.finished > 0 {
		per = max(e.overhead/time.Duration(e.finished), 0)
	}
	var left time.Duration
	for _, p := range e.planned[e.finished:] {
		left += p + per
	}
	return left
}
