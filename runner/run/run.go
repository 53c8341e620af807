package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
	// Agents, when set, sends the load from load agents the platform deploys
	// beside the stack (generators) instead of Load; the stack must implement
	// platform.Generating.
	Agents *Agents
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

// Resume is runner run's --resume: On alone resumes the latest run of the file
// under --out, --resume=RUN_DIR resumes RUN_DIR (Dir).
type Resume struct {
	On  bool
	Dir string
}

func (r *Resume) String() string   { return r.Dir }
func (r *Resume) IsBoolFlag() bool { return true }
func (r *Resume) Set(v string) error {
	r.On = v != "false"
	if v != "true" && v != "false" {
		r.Dir = v
	}
	return nil
}

// ID returns the run ID NAME-YYYYMMDDTHHMMSSZ of a run named name started at t.
func ID(name string, t time.Time) string {
	return name + "-" + t.UTC().Format("20060102T150405Z")
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Execute runs the jobs one after the other and writes each scenario's results into
// opt.Dir as soon as it finishes. A job whose Scenario.Repeat is more than 1 runs
// that many times, its stack brought up afresh each time, in interleaved rounds
// (see units); each repeat is written as it finishes and the scenario's outcome is
// the median over its finished repeats (result.Median). It returns the run with
// every outcome, including those of failed scenarios; its error is non-nil only
// when the run itself could not go on (no run directory, the platform could not
// prepare, ctx cancelled, or the platform stopped answering: a *LostError, after
// which no later scenario starts).
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
	x := newExecution(jobs, opt, ev)
	var runErr error
	if opt.Platform != nil && len(x.todo) > 0 {
		ev.emit(Event{Kind: KindPhase, Phase: PhaseBuild})
		start := time.Now()
		if err := opt.Platform.Prepare(ctx, opt.Build); err != nil {
			runErr = fmt.Errorf("cannot prepare platform %s: %w", opt.Platform.Name(), err)
			x.todo = nil
		}
		meta.Build = time.Since(start)
	}
	if runErr == nil {
		runErr = x.run(ctx)
	}
	meta.Scenarios = x.outcomes
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

// execute runs one scenario (or one repeat of it) with its files in dir and
// returns its outcome; failures are recorded in it. When the platform stopped
// answering, lost says so, and the run must stop.
func execute(ctx context.Context, emit func(Event), j Job, dir string, opt Options) (o result.Outcome, lost *LostError) {
	o = result.Outcome{Scenario: j.Scenario, Status: result.StatusOK, Started: time.Now()}
	defer func() { o.Ended = time.Now() }()
	fail := func(err error) (result.Outcome, *LostError) {
		o.Status, o.Error = result.StatusFailed, err.Error()
		return o, lost
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}

	// The load stops early when the telemetry finds the platform gone.
	lctx, stopLoad := context.WithCancelCause(ctx)
	defer stopLoad(nil)
	eps := j.Targets
	var stack platform.Stack
	var w *watcher
	var loadStart time.Time
	if j.Stack != nil {
		if opt.Platform == nil {
			return fail(errors.New("scenario needs a platform, none is configured"))
		}
		var err error
		if w, err = startWatch(ctx, emit, dir, opt.Interval, stopLoad); err != nil {
			return fail(err)
		}
		defer w.stop()
		spec := *j.Stack
		spec.Dir = dir
		spec.Started = func(s platform.Sampler) { w.use(s, "") }
		emit(Event{Kind: KindPhase, Phase: PhaseUp})
		start := time.Now()
		s, err := up(ctx, opt.Platform, spec, j.Render)
		o.Phases.Up = time.Since(start)
		if err != nil {
			if errors.Is(err, platform.ErrUnavailable) {
				// Up could not remove what it started either.
				lost = &LostError{StackLeft: true, Err: err}
			}
			return fail(upFailed(err, w.stop(), dir, &o))
		}
		stack = s
		w.use(stack, balancerName(stack))
		o.Phases.Up, o.Phases.Healthy = s.UpTimes()
		defer func() { teardown(ctx, emit, stack, w, loadStart, dir, opt, &o, &lost) }()
		eps = stack.Endpoints()
	}

	emit(Event{Kind: KindPhase, Phase: PhaseLoad})
	var before []result.EndpointCount
	var beforeErr error
	bal, balanced := stack.(platform.Balanced)
	if balanced {
		before, beforeErr = bal.Upstreams(ctx)
	}
	loadStart = time.Now()
	l, err := sendLoad(lctx, j, stack, eps, dir, emit)
	o.Phases.Load = time.Since(loadStart)
	if balanced && balancerName(stack) != "" {
		l = withUpstreams(ctx, l, bal, before, beforeErr)
	}
	o.Load = l
	if w != nil {
		w.stop()
	}
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

// sendLoad runs the job's load against eps (or from its agents) with its raw
// results in dir/results.gob.
func sendLoad(ctx context.Context, j Job, stack platform.Stack, eps []platform.Endpoint, dir string, emit func(Event)) (result.Load, error) {
	results := filepath.Join(dir, "results.gob")
	if j.Agents == nil {
		return j.Load(ctx, eps, results, emit)
	}
	gen, ok := stack.(platform.Generating)
	if !ok {
		return result.Load{}, errors.New("generators need a platform that deploys load agents (swarm)")
	}
	return runAgents(ctx, gen, j.Agents, dir, results, emit)
}

// teardown brings the stack down with its own timeout, even after ctx is
// cancelled, and records in o what the stack and the monitor saw, its CPU
// figures from loadStart on.
func teardown(ctx context.Context, emit func(Event), stack platform.Stack, w *watcher, loadStart time.Time, dir string, opt Options, o *result.Outcome, lost **LostError) {
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
	notes, err := record(stack.Events(), w.stop(), balancerName(stack), stack.Advisory(), loadStart, dir, o)
	if o.Error != "" {
		o.Error = withNotes(o.Error, notes)
	}
	if err != nil && o.Error == "" {
		o.Status, o.Error = result.StatusFailed, err.Error()
	}
}

// upFailed records what the platform and the monitor saw of a stack that
// failed during up or health, as for one that fails under load: its stats
// (already in stats.csv), its events (events.json, from the platform's
// *platform.UpError), its OOM kills, restarts and peak memory. It returns the
// scenario's error, which says how long a replica sat at its memory limit
// before an OOM kill.
func upFailed(err error, series monitor.Series, dir string, o *result.Outcome) error {
	var events []result.Event
	var ue *platform.UpError
	if errors.As(err, &ue) {
		events = ue.Events
	}
	// The failure is the error the user reads, not a failed write of events.json.
	notes, _ := record(events, series, "", false, time.Time{}, dir, o)
	return errors.New(withNotes(fmt.Sprintf("stack did not come up: %v", err), notes))
}

// record summarises, from from on for CPU, what the platform (events) and the
// monitor (series) saw of a scenario's stack into o.Resources, apart by role,
// and writes its events, with the times its containers reached their memory
// limit (see monitor.Limits), to dir/events.json. It returns what
// monitor.LimitNotes says of them.
func record(events []result.Event, series monitor.Series, balancer string, advisory bool, from time.Time, dir string, o *result.Outcome) ([]string, error) {
	events = monitor.Limits(series.Samples, monitor.Merge(events, series.Errors))
	replicas, bal, side, replicaEvents, sideEvents := monitor.SplitRoles(series.Samples, events, balancer)
	o.Resources = monitor.SummarizeFrom(replicas, replicaEvents, advisory, from)
	if len(bal) > 0 {
		if b := monitor.SummarizeFrom(bal, nil, advisory, from); len(b.Containers) > 0 {
			o.Resources.Balancer = &b.Containers[0]
		}
	}
	o.Resources.Services = monitor.Services(side, sideEvents, from)
	return monitor.LimitNotes(events), monitor.WriteEvents(filepath.Join(dir, "events.json"), events)
}

// withNotes adds notes to the first line of msg (the one a report shows), before
// any log lines that follow it.
func withNotes(msg string, notes []string) string {
	if len(notes) == 0 {
		return msg
	}
	first, rest, multi := strings.Cut(msg, "\n")
	first += "; " + strings.Join(notes, "; ")
	if multi {
		return first + "\n" + rest
	}
	return first
}

// watcher samples a stack into dir/stats.csv and KindSample events from the
// moment its containers exist (platform.Spec.Started) through the health wait
// and the load, until stop. A platform that stops answering stops the load.
type watcher struct {
	ctx      context.Context
	cancel   context.CancelFunc
	emit     func(Event)
	interval time.Duration
	stopLoad context.CancelCauseFunc
	file     *os.File
	stats    *result.StatsWriter
	done     chan monitor.Series

	mu       sync.Mutex
	sampler  platform.Sampler
	balancer string
	started  bool
	stopped  bool

	once   sync.Once
	series monitor.Series
	seen   map[eventKey]bool // events emitted (run's goroutine only)
}

// startWatch creates dir/stats.csv; the sampling starts with the first use.
func startWatch(ctx context.Context, emit func(Event), dir string, interval time.Duration, stopLoad context.CancelCauseFunc) (*watcher, error) {
	f, err := os.Create(filepath.Join(dir, "stats.csv"))
	if err != nil {
		return nil, err
	}
	sw, err := result.NewStatsWriter(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stats.csv: %w", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	return &watcher{ctx: wctx, cancel: cancel, emit: emit, interval: interval, stopLoad: stopLoad,
		file: f, stats: sw, done: make(chan monitor.Series, 1)}, nil
}

// use samples s from now on, at once the first time; balancer names the
// balancer's container among its samples that carry no role.
func (w *watcher) use(s platform.Sampler, balancer string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.sampler, w.balancer = s, balancer
	if !w.started {
		w.started = true
		go w.run()
	}
}

// run samples until stop, then sends what it collected on w.done.
func (w *watcher) run() {
	defer w.file.Close()
	sample := samplerFunc(func(sctx context.Context) ([]result.Sample, error) {
		w.mu.Lock()
		s, balancer := w.sampler, w.balancer
		w.mu.Unlock()
		x, err := s.Sample(sctx)
		withRoles(x, balancer)
		if errors.Is(err, platform.ErrUnavailable) {
			w.stopLoad(err)
		}
		if len(x) > 0 && w.ctx.Err() == nil {
			w.emit(Event{Kind: KindSample, Samples: x})
		}
		w.newEvents(s)
		return x, err
	})
	series, err := monitor.Run(w.ctx, sample, w.interval, w.stats)
	if err != nil {
		series.Errors = append(series.Errors, result.Event{Time: time.Now(), Kind: result.EventPlatform, Message: err.Error()})
	}
	w.done <- series
}

// newEvents emits, once each, the events of the stack behind s (a platform's
// Stack has them) that were not emitted yet.
func (w *watcher) newEvents(s platform.Sampler) {
	es, ok := s.(interface{ Events() []result.Event })
	if !ok || w.ctx.Err() != nil {
		return
	}
	if w.seen == nil {
		w.seen = map[eventKey]bool{}
	}
	for _, ev := range es.Events() {
		key := eventKey{ev.Time.UnixNano(), ev.Container, ev.Kind, ev.Message}
		if !w.seen[key] {
			w.seen[key] = true
			w.emit(Event{Kind: KindContainer, Container: &ev})
		}
	}
}

// eventKey tells a stack's events apart: its time, container, kind and message.
type eventKey struct {
	at                       int64
	container, kind, message string
}

// stop ends the sampling and returns what it collected; it can be called again.
func (w *watcher) stop() monitor.Series {
	w.once.Do(func() {
		w.mu.Lock()
		w.stopped = true
		started := w.started
		w.mu.Unlock()
		w.cancel()
		if started {
			w.series = <-w.done
		} else {
			w.file.Close()
		}
	})
	return w.series
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
