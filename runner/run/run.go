package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// Job is one scenario ready to execute.
type Job struct {
	// Scenario is what the reports show of it.
	Scenario result.Scenario
	// Stack is what the platform brings up; nil when the targets already run
	// (platform external).
	Stack *platform.Spec
	// Render, when set, renders Stack's compose file again with host ports that are
	// free now; Execute calls it before each attempt to bring the stack up.
	Render func() ([]byte, error)
	// Targets are the endpoints of an external platform.
	Targets []platform.Endpoint
	// Load drives the scenario's load against eps, streams the raw results to
	// resultsPath, and reports its live state through emit: KindProgress and
	// KindStep events (emit fills in the run, the scenario and the time).
	Load func(ctx context.Context, eps []platform.Endpoint, resultsPath string, emit func(Event)) (result.Load, error)
}

// Options configure Execute.
type Options struct {
	// Dir is the run directory (OUT/RUN_ID); it is created, or reused by a resume.
	Dir string
	// Resume skips scenarios whose outcome.json in Dir says they finished.
	Resume bool
	// Platform brings stacks up; nil when every job has Targets.
	Platform platform.Platform
	// Build is prepared once, before the first scenario.
	Build platform.Build
	// Interval is the telemetry sampling interval; 0 means monitor.DefaultInterval.
	Interval time.Duration
	// SLO is checked against every finished scenario; nil checks nothing.
	SLO *result.SLO
	// Observers receive the run's events (see Event); NewProgress is the
	// terminal's, Stream the one for consumers with their own pace.
	Observers []Observer
	// TeardownTimeout bounds each Down, which runs even after ctx is cancelled.
	TeardownTimeout time.Duration
}

// DefaultTeardownTimeout bounds a stack's teardown.
const DefaultTeardownTimeout = 60 * time.Second

// ID returns the run ID NAME-YYYYMMDDTHHMMSSZ of a run named name started at t.
func ID(name string, t time.Time) string {
	return name + "-" + t.UTC().Format("20060102T150405Z")
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Execute runs the jobs one after the other and writes each scenario's results into
// opt.Dir as soon as it finishes. It returns the run with every outcome, including
// those of failed scenarios; its error is non-nil only when the run itself could not
// go on (no run directory, the platform could not prepare, ctx cancelled, or the
// platform stopped answering: a *LostError, after which no later scenario starts).
func Execute(ctx context.Context, meta result.Run, jobs []Job, opt Options) (result.Run, error) {
	if opt.TeardownTimeout <= 0 {
		opt.TeardownTimeout = DefaultTeardownTimeout
	}
	for _, j := range jobs {
		if !safeID.MatchString(j.Scenario.ID) {
			return meta, fmt.Errorf("scenario ID %q cannot name a folder", j.Scenario.ID)
		}
	}
	if err := os.MkdirAll(filepath.Join(opt.Dir, "scenarios"), 0o755); err != nil {
		return meta, fmt.Errorf("cannot create run directory: %w", err)
	}
	plan := make([]result.Scenario, len(jobs))
	for i, j := range jobs {
		plan[i] = j.Scenario
	}
	if err := result.WriteJSON(filepath.Join(opt.Dir, "plan.json"), plan); err != nil {
		return meta, fmt.Errorf("cannot write the plan: %w", err)
	}
	if meta.Started.IsZero() {
		meta.Started = time.Now()
	}
	hostStart := readHost("/proc")
	if err := result.WriteJSON(filepath.Join(opt.Dir, "run.json"), meta); err != nil {
		return meta, fmt.Errorf("cannot write run metadata: %w", err)
	}

	ev := &emitter{observers: opt.Observers, run: meta.ID, n: len(jobs), now: time.Now}
	ev.emit(Event{Kind: KindRunStart, Dir: opt.Dir})
	var todo []int
	meta.Scenarios = make([]result.Outcome, len(jobs))
	for i, j := range jobs {
		if o, ok := finished(opt, j.Scenario.ID); ok {
			meta.Scenarios[i] = o
			continue
		}
		meta.Scenarios[i] = result.Outcome{Scenario: j.Scenario, Status: result.StatusSkipped, Error: "not run"}
		todo = append(todo, i)
	}

	var runErr error
	if opt.Platform != nil && len(todo) > 0 {
		ev.emit(Event{Kind: KindPhase, Phase: PhaseBuild})
		start := time.Now()
		if err := opt.Platform.Prepare(ctx, opt.Build); err != nil {
			runErr = fmt.Errorf("cannot prepare platform %s: %w", opt.Platform.Name(), err)
			todo = nil
		}
		meta.Build = time.Since(start)
	}
	eta := newETA(jobs, todo)
	for k, i := range todo {
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		emit := ev.scenario(i+1, jobs[i].Scenario.ID)
		o, lost := execute(ctx, emit, jobs[i], opt)
		if opt.SLO != nil && o.Status == result.StatusOK {
			pass, why := opt.SLO.Check(o.Load)
			o.SLOPass, o.SLOFailures = &pass, why
		}
		meta.Scenarios[i] = o
		if err := result.WriteJSON(filepath.Join(opt.Dir, "scenarios", o.Scenario.ID, "outcome.json"), o); err != nil {
			runErr = fmt.Errorf("cannot record scenario %s: %w", o.Scenario.ID, err)
			break
		}
		eta.done(k, o.Ended.Sub(o.Started))
		if o.Status == result.StatusFailed {
			emit(Event{Kind: KindFailure, Err: o.Error})
		}
		emit(Event{Kind: KindResult, Outcome: &o, ETA: eta.remaining()})
		if lost != nil {
			lost.Scenario, lost.K, lost.N = o.Scenario.ID, i+1, len(jobs)
			runErr = lost // no later scenario can run; what finished is kept
			break
		}
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
	}
	meta.Ended = time.Now()
	meta.Noise = hostNoise(hostStart, readHost("/proc"), numCPU())
	runs := meta
	runs.Scenarios = nil
	if err := result.WriteJSON(filepath.Join(opt.Dir, "run.json"), runs); err != nil && runErr == nil {
		runErr = fmt.Errorf("cannot write run metadata: %w", err)
	}
	end := Event{Kind: KindRunEnd}
	if runErr != nil {
		end.Err = runErr.Error()
	}
	ev.emit(end)
	return meta, runErr
}

// LostError says the platform stopped answering (an error wrapping
// platform.ErrUnavailable from Up, the telemetry or Down) during a scenario: the
// run stopped there. The scenario's outcome is recorded as failed.
type LostError struct {
	// Scenario is the ID of the scenario that was running, scenario K of N.
	Scenario string
	K, N     int
	// StackLeft is true when its stack could not be brought down: it may still
	// run once the platform answers again.
	StackLeft bool
	// Err wraps platform.ErrUnavailable.
	Err error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("scenario %s: %v", e.Scenario, e.Err)
}

func (e *LostError) Unwrap() error { return e.Err }

// finished returns the recorded outcome of a scenario a resumed run need not repeat.
func finished(opt Options, id string) (result.Outcome, bool) {
	if !opt.Resume {
		return result.Outcome{}, false
	}
	var o result.Outcome
	err := result.ReadJSON(filepath.Join(opt.Dir, "scenarios", id, "outcome.json"), &o)
	return o, err == nil && o.Status == result.StatusOK
}

// execute runs one scenario and returns its outcome; failures are recorded in it.
// When the platform stopped answering, lost says so, and the run must stop.
func execute(ctx context.Context, emit func(Event), j Job, opt Options) (o result.Outcome, lost *LostError) {
	o = result.Outcome{Scenario: j.Scenario, Status: result.StatusOK, Started: time.Now()}
	defer func() { o.Ended = time.Now() }()
	fail := func(err error) (result.Outcome, *LostError) {
		o.Status, o.Error = result.StatusFailed, err.Error()
		return o, lost
	}
	dir := filepath.Join(opt.Dir, "scenarios", j.Scenario.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}

	eps := j.Targets
	var stack platform.Stack
	var series monitor.Series
	if j.Stack != nil {
		if opt.Platform == nil {
			return fail(errors.New("scenario needs a platform, none is configured"))
		}
		spec := *j.Stack
		spec.Dir = dir
		emit(Event{Kind: KindPhase, Phase: PhaseUp})
		start := time.Now()
		s, err := up(ctx, opt.Platform, spec, j.Render)
		o.Phases.Up = time.Since(start)
		if err != nil {
			if errors.Is(err, platform.ErrUnavailable) {
				// Up could not remove what it started either.
				lost = &LostError{StackLeft: true, Err: err}
			}
			upFailed(err, dir, &o)
			return fail(fmt.Errorf("stack did not come up: %w", err))
		}
		stack = s
		o.Phases.Up, o.Phases.Healthy = s.UpTimes()
		defer func() { teardown(ctx, emit, stack, &series, dir, opt, &o, &lost) }()
		eps = stack.Endpoints()
	}

	emit(Event{Kind: KindPhase, Phase: PhaseLoad})
	// The load stops early when the telemetry finds the platform gone.
	lctx, stopLoad := context.WithCancelCause(ctx)
	defer stopLoad(nil)
	watched := make(chan monitor.Series, 1)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if stack != nil {
		if err := watch(wctx, emit, stack, dir, opt.Interval, stopLoad, watched); err != nil {
			return fail(err)
		}
	} else {
		close(watched)
	}
	var before []result.EndpointCount
	var beforeErr error
	bal, balanced := stack.(platform.Balanced)
	if balanced {
		before, beforeErr = bal.Upstreams(ctx)
	}
	start := time.Now()
	l, err := j.Load(lctx, eps, filepath.Join(dir, "results.gob"), emit)
	o.Phases.Load = time.Since(start)
	if balanced && balancerName(stack) != "" {
		l = withUpstreams(ctx, l, bal, before, beforeErr)
	}
	o.Load = l
	stopWatch()
	series = <-watched
	switch {
	case ctx.Err() != nil:
		return fail(errors.New("interrupted during the load; the results so far are kept"))
	case lctx.Err() != nil:
		cause := context.Cause(lctx)
		lost = &LostError{Err: cause}
		return fail(fmt.Errorf("the load was stopped after %s, the results so far are kept: %w", o.Phases.Load.Round(time.Millisecond), cause))
	case err != nil:
		return fail(fmt.Errorf("load: %w", err))
	}
	return o, nil
}

// teardown brings the stack down with its own timeout, even after ctx is
// cancelled, and records in o what the stack and the monitor saw.
func teardown(ctx context.Context, emit func(Event), stack platform.Stack, series *monitor.Series, dir string, opt Options, o *result.Outcome, lost **LostError) {
	emit(Event{Kind: KindPhase, Phase: PhaseDown})
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opt.TeardownTimeout)
	defer cancel()
	start := time.Now()
	err := stack.Down(dctx)
	o.Phases.Down = time.Since(start)
	if err != nil && o.Error == "" {
		o.Status, o.Error = result.StatusFailed, fmt.Sprintf("teardown: %v", err)
	}
	if errors.Is(err, platform.ErrUnavailable) {
		if *lost == nil {
			*lost = &LostError{Err: err}
		}
		(*lost).StackLeft = true
	}
	// Summarise after Down: it records the final state (OOM kills) of every replica.
	events := monitor.Merge(stack.Events(), series.Errors)
	replicas, balancer, side, replicaEvents, sideEvents := monitor.SplitRoles(series.Samples, events, balancerName(stack))
	o.Resources = monitor.Summarize(replicas, replicaEvents, stack.Advisory())
	if len(balancer) > 0 {
		if b := monitor.Summarize(balancer, nil, stack.Advisory()); len(b.Containers) > 0 {
			o.Resources.Balancer = &b.Containers[0]
		}
	}
	o.Resources.Services = monitor.Services(side, sideEvents)
	if err := monitor.WriteEvents(filepath.Join(dir, "events.json"), events); err != nil && o.Error == "" {
		o.Status, o.Error = result.StatusFailed, err.Error()
	}
}

// watch samples the stack into dir/stats.csv and KindSample events until ctx is
// done, then sends what it collected on watched. A platform that stops
// answering stops the load through stopLoad.
func watch(ctx context.Context, emit func(Event), stack platform.Stack, dir string, interval time.Duration, stopLoad context.CancelCauseFunc, watched chan<- monitor.Series) error {
	f, err := os.Create(filepath.Join(dir, "stats.csv"))
	if err != nil {
		return err
	}
	sw, err := result.NewStatsWriter(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("stats.csv: %w", err)
	}
	go func() {
		defer f.Close()
		sample := samplerFunc(func(sctx context.Context) ([]result.Sample, error) {
			s, err := stack.Sample(sctx)
			withRoles(s, balancerName(stack))
			if errors.Is(err, platform.ErrUnavailable) {
				stopLoad(err)
			}
			if len(s) > 0 && ctx.Err() == nil {
				emit(Event{Kind: KindSample, Samples: s})
			}
			return s, err
		})
		series, err := monitor.Run(ctx, sample, interval, sw)
		if err != nil {
			series.Errors = append(series.Errors, result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: err.Error()})
		}
		watched <- series
	}()
	return nil
}

// samplerFunc is a monitor.Sampler.
type samplerFunc func(ctx context.Context) ([]result.Sample, error)

func (f samplerFunc) Sample(ctx context.Context) ([]result.Sample, error) { return f(ctx) }

// PortAttempts is how often Execute tries to bring a stack up when its host ports
// were taken between rendering and starting (by another program, or a race
// between replicas publishing one range).
const PortAttempts = 3

// up brings the stack up, rendering it anew with other free ports when its ports
// were taken.
func up(ctx context.Context, p platform.Platform, spec platform.Spec, render func() ([]byte, error)) (platform.Stack, error) {
	for attempt := 1; ; attempt++ {
		if render != nil {
			compose, err := render()
			if err != nil {
				return nil, err
			}
			spec.Compose = compose
		}
		s, err := p.Up(ctx, spec)
		if err == nil || !errors.Is(err, platform.ErrPortsTaken) || render == nil || attempt == PortAttempts {
			return s, err
		}
	}
}

// balancerName is the name of the stack's load balancer container, if it has one.
func balancerName(st platform.Stack) string {
	if b, ok := st.(platform.Balanced); ok {
		return b.BalancerName()
	}
	return ""
}

// upFailed records what the platform saw of a stack that failed during up or
// health: its events (events.json) and its OOM kills and restarts, counted as for
// a stack that fails under load.
func upFailed(err error, dir string, o *result.Outcome) {
	var ue *platform.UpError
	if !errors.As(err, &ue) {
		return
	}
	replicas := make([]result.Event, 0, len(ue.Events))
	var side []result.Event
	for _, ev := range ue.Events {
		if ev.Role == result.RoleSide {
			side = append(side, ev)
		} else {
			replicas = append(replicas, ev)
		}
	}
	r := monitor.Summarize(nil, replicas, false)
	o.Resources.OOMKills, o.Resources.Restarts = r.OOMKills, r.Restarts
	o.Resources.Services = monitor.Services(nil, side)
	_ = monitor.WriteEvents(filepath.Join(dir, "events.json"), ue.Events) // the failure is the error the user reads
}

// withRoles gives the samples the platform left without a role theirs: the
// balancer's by its name, else replica.
func withRoles(samples []result.Sample, balancer string) {
	for i := range samples {
		switch {
		case samples[i].Role != "":
		case balancer != "" && samples[i].Container == balancer:
			samples[i].Role = result.RoleBalancer
		default:
			samples[i].Role = result.RoleReplica
		}
	}
}

// withUpstreams replaces the load's endpoints (the balancer alone) by the
// balancer's per-replica counts over the load: its counters after the load minus
// those before.
func withUpstreams(ctx context.Context, l result.Load, b platform.Balanced, before []result.EndpointCount, beforeErr error) result.Load {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	after, err := b.Upstreams(rctx)
	if err = errors.Join(beforeErr, err); err != nil {
		l.Notes = append(l.Notes, fmt.Sprintf("request share per replica unavailable: %v", err))
		return l
	}
	l.Endpoints = DiffCounts(before, after)
	l.Notes = append(l.Notes, fmt.Sprintf("request share per replica read from the balancer %s; it includes the warm-up", b.BalancerName()))
	return l
}

// DiffCounts returns after minus before, matching endpoints by name, else URL.
func DiffCounts(before, after []result.EndpointCount) []result.EndpointCount {
	key := func(e result.EndpointCount) string { return e.Name + "|" + e.URL }
	prev := map[string]result.EndpointCount{}
	for _, e := range before {
		prev[key(e)] = e
	}
	out := make([]result.EndpointCount, len(after))
	for i, e := range after {
		p := prev[key(e)]
		e.Requests -= min(p.Requests, e.Requests)
		e.Errors -= min(p.Errors, e.Errors)
		out[i] = e
	}
	return out
}
