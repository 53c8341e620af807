package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// Agents sends a job's load from load agents that the platform deploys beside
// the stack (generators), instead of the runner's process.
type Agents struct {
	// N is the number of agents.
	N int
	// Image is the agents' image (the runner binary FROM scratch).
	Image string
	// Constraints place them.
	Constraints []string
	// Config is the scenario's load against eps, as the agents reach them.
	Config func(eps []platform.Endpoint) load.Config
	// Lead is how long after their deployment they start; 0 is the platform's default.
	Lead time.Duration
}

// GeneratorsDir is the folder of a scenario's directory that holds each load
// agent's raw results, agent-SLOT.gob.
const GeneratorsDir = "generators"

// MaxAgentConfigBytes bounds the load handed to the agents (a swarm config
// holds at most 500 KB): its bodies and dataset lines must fit.
const MaxAgentConfigBytes = 480 << 10

// agentsOf returns the agents of scenario s of f, nil when its own process
// sends its load.
func agentsOf(f *spec.File, s spec.Scenario, slo *result.SLO) *Agents {
	if s.Generators < 1 {
		return nil
	}
	return &Agents{N: s.Generators, Image: AgentImage(f), Constraints: s.GeneratorConstraints,
		Config: func(eps []platform.Endpoint) load.Config {
			c := LoadConfig(s, eps, "")
			if slo != nil {
				c.Goodput = slo.Goodput
			}
			return c
		}}
}

// AgentImage is the load agents' image of a run of f.
func AgentImage(f *spec.File) string { return "runner-" + f.Name + "-agent:latest" }

// runAgents sends the load of a from its agents on stack: every agent's
// results into dir/generators/agent-SLOT.gob as they arrive, merged into
// resultsPath and the figures of the whole (load.MergeTo), with each agent's
// own figures. A failed agent fails the load, named, and what it sent is kept.
func runAgents(ctx context.Context, gen platform.Generating, a *Agents, dir, resultsPath string, emit func(Event)) (result.Load, error) {
	eps, err := gen.AgentEndpoints(ctx)
	if err != nil {
		return result.Load{}, err
	}
	c := a.Config(eps)
	conf, err := c.MarshalAgent()
	if err != nil {
		return result.Load{}, err
	}
	if len(conf) > MaxAgentConfigBytes {
		return result.Load{}, fmt.Errorf("the load handed to the agents is %d KiB, over the %d KiB a swarm config holds: its request bodies or dataset are too large for generators", len(conf)>>10, MaxAgentConfigBytes>>10)
	}
	gdir := filepath.Join(dir, GeneratorsDir)
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		return result.Load{}, err
	}
	r := &agentReads{dir: gdir, gather: load.NewGather(time.Now()), reports: map[int]load.AgentReport{}, files: map[int]string{}}
	stop := r.progress(emit, c.Warmup+c.Duration)
	gens, genErr := gen.Generate(ctx, platform.Generation{
		N: a.N, Image: a.Image, Constraints: a.Constraints, Config: conf, Lead: a.Lead,
		Read: r.read, Start: r.started,
	})
	stop()
	l, err := r.merge(resultsPath, gens, c, a.N)
	if err != nil {
		return l, errors.Join(genErr, err)
	}
	if genErr != nil {
		return l, fmt.Errorf("%w; what each agent sent is kept in %s and merged", genErr, filepath.Join(GeneratorsDir, "agent-N.gob"))
	}
	return l, nil
}

// agentReads holds what the agents' streams delivered.
type agentReads struct {
	dir     string
	gather  *load.Gather
	mu      sync.Mutex
	start   time.Time
	reports map[int]load.AgentReport // by slot, of agents that finished
	files   map[int]string
}

// started records the agreed instant, from which progress counts.
func (r *agentReads) started(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start = at
}

// read is platform.Generation.Read: agent slot's stream into its raw file.
func (r *agentReads) read(slot int, _ string, stdout io.Reader) error {
	path := filepath.Join(r.dir, fmt.Sprintf("agent-%d.gob", slot))
	r.mu.Lock()
	g := r.gather
	r.files[slot] = path
	r.mu.Unlock()
	rep, _, err := g.Read(stdout, path)
	if err != nil {
		return fmt.Errorf("its results: %w", err)
	}
	r.mu.Lock()
	r.reports[slot] = rep
	r.mu.Unlock()
	return nil
}

// progress emits a KindProgress event about once a second over every agent's
// results, until the returned stop is called.
func (r *agentReads) progress(emit func(Event), total time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				r.mu.Lock()
				g, start := r.gather, r.start
				r.mu.Unlock()
				if start.IsZero() || now.Before(start) {
					continue
				}
				p := g.Progress(now)
				p.Elapsed, p.Total = now.Sub(start), total
				emit(Event{Kind: KindProgress, Progress: &p, Line: ProgressLine(p)})
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// merge merges the agents' raw files into resultsPath and the load's
// figures, with each agent's own (gens in slot order) from its raw file and
// its report. c is the whole load, shared by n agents.
func (r *agentReads) merge(resultsPath string, gens []platform.Generator, c load.Config, n int) (result.Load, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var paths []string
	for _, g := range gens {
		if p, ok := r.files[slotOf(g.Name)]; ok {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return result.Load{}, errors.New("no load agent delivered results")
	}
	l, err := load.MergeTo(paths, resultsPath)
	if err != nil {
		return l, err
	}
	share := requestedRPS(c, l.Elapsed) / float64(n)
	for _, g := range gens {
		l.Generators = append(l.Generators, r.generator(g, share))
	}
	figures(&l, c, share*float64(n))
	return l, nil
}

// generator is one agent's figures.
func (r *agentReads) generator(g platform.Generator, share float64) result.Generator {
	slot := slotOf(g.Name)
	out := result.Generator{Name: g.Name, Node: g.Node, Error: g.Err}
	if p, ok := r.files[slot]; ok {
		if own, err := load.Merge([]string{p}); err == nil {
			out.Requests, out.WarmupRequests, out.RateRPS = own.Requests, own.WarmupRequests, own.RateRPS
		}
	}
	if share > 0 {
		out.RequestedRPS = share
		out.Shortfall = out.RateRPS < 0.95*share
	}
	if rep, ok := r.reports[slot]; ok {
		al := rep.Load
		out.CPU, out.CPUShare, out.Procs, out.SendLagP99, out.Late = al.GeneratorCPU, al.GeneratorCPUShare, rep.Procs, al.SendLagP99, rep.Late
		out.Overloaded = al.GeneratorBound || al.Shortfall
	}
	out.Overloaded = out.Overloaded || out.Shortfall
	return out
}

// figures fills what the merged raw results do not tell: the rate asked for,
// the shortfall, the agents' CPU, and how the numbers were measured.
func figures(l *result.Load, c load.Config, requested float64) {
	if requested > 0 {
		l.RequestedRPS = requested
		l.Shortfall = l.RateRPS < 0.95*requested
	}
	var over []string
	for _, g := range l.Generators {
		l.GeneratorCPU += g.CPU
		if g.Overloaded {
			over = append(over, g.Name)
		}
	}
	l.LatencyFrom = fmt.Sprintf("actual-send-time: merged from the raw results of %d load agents (each request's own latency, as vegeta report gives it over their files; each agent's send lag is in its figures)", len(l.Generators))
	if len(over) > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("load agents %v may have bounded the load: see their figures", over))
	}
}

// requestedRPS is the mean arrival rate c asks for over elapsed (open model); 0
// for the closed model.
func requestedRPS(c load.Config, elapsed time.Duration) float64 {
	switch {
	case c.Rate > 0:
		return c.Rate
	case c.RampFrom > 0 && c.Duration > 0:
		frac := min(elapsed.Seconds()/c.Duration.Seconds(), 1)
		return c.RampFrom + (c.RampTo-c.RampFrom)*frac/2
	}
	return 0
}

// slotOf is the slot of a task name SERVICE.SLOT.
func slotOf(task string) int {
	var slot int
	for i := len(task) - 1; i >= 0; i-- {
		if task[i] == '.' {
			fmt.Sscanf(task[i+1:], "%d", &slot)
			break
		}
	}
	return slot
}
