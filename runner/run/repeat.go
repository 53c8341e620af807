package run

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/infergrid/runner/runner/result"
)

// unit is one run of one job: job is its index, repeat its 1-based repeat
// number, 0 for a scenario that runs once.
type unit struct{ job, repeat int }

// execution is the state of Execute's loop over the units of a run.
type execution struct {
	jobs []Job
	opt  Options
	ev   *emitter
	// outcomes are the scenarios' outcomes so far, by job; for a repeated
	// scenario, the median over its finished repeats.
	outcomes []result.Outcome
	// repeats are the finished repeats of each repeated scenario, in number order.
	repeats [][]result.Outcome
	// todo are the units still to run, in the order they run.
	todo []unit
}

// repeatsOf is how many times job j runs.
func repeatsOf(j Job) int { return max(j.Scenario.Repeat, 1) }

// newExecution plans the units of jobs: on a resume it takes what finished
// from disk and plans the rest.
//
// Repeats run in interleaved rounds, A B C A B C ...: round r runs repeat r of
// every scenario that has one, in plan order. Slow drift of the host (other jobs,
// heat, caches, Docker's state) then lands on every scenario alike instead of
// on the ones that happen to run last, and two repeats of one scenario never run
// back to back, so they sample the host's noise at different times. It costs
// nothing, since every repeat brings its stack up afresh anyway; a run stopped
// half-way has fewer repeats of every scenario rather than all of some.
func newExecution(jobs []Job, opt Options, ev *emitter) *execution {
	x := &execution{jobs: jobs, opt: opt, ev: ev,
		outcomes: make([]result.Outcome, len(jobs)), repeats: make([][]result.Outcome, len(jobs))}
	done := map[unit]bool{}
	rounds := 1
	for i, j := range jobs {
		x.outcomes[i] = result.Outcome{Scenario: j.Scenario, Status: result.StatusSkipped, Error: "not run"}
		n := repeatsOf(j)
		rounds = max(rounds, n)
		if n == 1 {
			if o, ok := x.finished(unit{i, 0}); ok {
				x.outcomes[i], done[unit{i, 0}] = o, true
			}
			continue
		}
		for k := 1; k <= n; k++ {
			if o, ok := x.finished(unit{i, k}); ok {
				x.repeats[i], done[unit{i, k}] = append(x.repeats[i], o), true
			}
		}
		if len(x.repeats[i]) > 0 {
			x.outcomes[i] = x.median(i)
		}
	}
	for r := 1; r <= rounds; r++ {
		for i, j := range jobs {
			u := unit{i, r}
			if repeatsOf(j) == 1 {
				u.repeat = 0
				if r > 1 {
					continue
				}
			} else if r > repeatsOf(j) {
				continue
			}
			if !done[u] {
				x.todo = append(x.todo, u)
			}
		}
	}
	return x
}

// dir is the folder of a unit's files: the scenario's, or its repeat's in it.
func (x *execution) dir(u unit) string {
	d := filepath.Join(x.opt.Dir, "scenarios", x.jobs[u.job].Scenario.ID)
	if u.repeat > 0 {
		d = filepath.Join(d, result.RepeatDir(u.repeat))
	}
	return d
}

// finished returns the recorded outcome of a unit a resumed run need not repeat.
func (x *execution) finished(u unit) (result.Outcome, bool) {
	if !x.opt.Resume {
		return result.Outcome{}, false
	}
	var o result.Outcome
	err := result.ReadJSON(filepath.Join(x.dir(u), "outcome.json"), &o)
	return o, err == nil && o.Status == result.StatusOK
}

// median is the outcome of repeated job i over its finished repeats, its SLO checked.
func (x *execution) median(i int) result.Outcome {
	o := result.Median(x.repeats[i])
	x.checkSLO(&o)
	return o
}

// checkSLO records whether a successful outcome met the SLO.
func (x *execution) checkSLO(o *result.Outcome) {
	if x.opt.SLO != nil && o.Status == result.StatusOK {
		pass, why := x.opt.SLO.Check(o.Load)
		o.SLOPass, o.SLOFailures = &pass, why
	}
}

// run runs the units to do, in order, until one stops the run.
func (x *execution) run(ctx context.Context) error {
	idx := make([]int, len(x.todo))
	for k, u := range x.todo {
		idx[k] = u.job
	}
	eta := newETA(x.jobs, idx)
	for k, u := range x.todo {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := x.runUnit(ctx, k, u, eta); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// runUnit runs the k-th unit to do and records it: its outcome.json, and for a
// repeat the scenario's outcome.json over its finished repeats. A repeat cut
// short by Ctrl-C stays on disk for the record but out of the median, so the
// scenario's figures are those of the repeats that finished.
func (x *execution) runUnit(ctx context.Context, k int, u unit, eta *eta) error {
	j := x.jobs[u.job]
	n := repeatsOf(j)
	emit := x.ev.unit(u.job+1, j.Scenario.ID, u.repeat, n)
	o, lost := execute(ctx, emit, j, x.dir(u), x.opt)
	o.Repeat = u.repeat
	x.checkSLO(&o)
	if err := result.WriteJSON(filepath.Join(x.dir(u), "outcome.json"), o); err != nil {
		return fmt.Errorf("cannot record scenario %s: %w", j.Scenario.ID, err)
	}
	var median *result.Outcome
	switch interrupted := ctx.Err() != nil && o.Status != result.StatusOK; {
	case u.repeat == 0:
		x.outcomes[u.job] = o
	case !interrupted:
		x.repeats[u.job] = append(x.repeats[u.job], o)
		slices.SortStableFunc(x.repeats[u.job], func(a, b result.Outcome) int { return cmp.Compare(a.Repeat, b.Repeat) })
		m := x.median(u.job)
		x.outcomes[u.job], median = m, &m
		if err := result.WriteJSON(filepath.Join(x.dir(unit{u.job, 0}), "outcome.json"), m); err != nil {
			return fmt.Errorf("cannot record scenario %s: %w", j.Scenario.ID, err)
		}
	}
	eta.done(k, o.Ended.Sub(o.Started))
	if o.Status == result.StatusFailed {
		emit(Event{Kind: KindFailure, Err: o.Error})
	}
	emit(Event{Kind: KindResult, Outcome: &o, Median: median, ETA: eta.remaining()})
	if lost != nil {
		lost.Scenario, lost.K, lost.N = j.Scenario.ID, u.job+1, len(x.jobs)
		return lost // no later scenario can run; what finished is kept
	}
	return nil
}
