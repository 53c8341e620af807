package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// Jobs turns the scenarios of f into what Execute runs on the platform called
// platformName ("external" for f's targets); on a swarm, sw says how stacks are
// rendered. Each stack's compose file is rendered now, so that a template error
// stops the run before anything starts, and again before it comes up, with the
// host ports that are free then.
func Jobs(f *spec.File, scenarios []spec.Scenario, runID, platformName string, sw *render.Swarm) ([]Job, error) {
	jobs := make([]Job, len(scenarios))
	for i, s := range scenarios {
		j := Job{Scenario: s.Result(), Load: Loader(s, f.SLO.Result()), Agents: agentsOf(f, s, f.SLO.Result())}
		if platformName == "external" {
			for k, t := range s.Targets {
				j.Targets = append(j.Targets, platform.Endpoint{Name: fmt.Sprintf("target-%d", k+1), URL: t})
			}
			jobs[i] = j
			continue
		}
		spc, err := StackSpec(s, runID, platformName)
		if err != nil {
			return nil, err
		}
		if platformName != "local" {
			j.Render = renderer(s, runID, spc.Project, sw)
			if spc.Compose, err = j.Render(); err != nil {
				return nil, err
			}
			if spc.Files, err = render.Files(s, render.Params{RunID: runID, Project: spc.Project, Swarm: sw}); err != nil {
				return nil, err
			}
		}
		j.Stack = spc
		jobs[i] = j
	}
	return jobs, nil
}

// StackSpec is what the platform called platformName brings up for scenario s
// of run runID (its Compose and Files are left to the caller).
func StackSpec(s spec.Scenario, runID, platformName string) (*platform.Spec, error) {
	spc := &platform.Spec{
		Project: render.Project(runID, s.ID), RunID: runID, ScenarioID: s.ID, Service: render.Service,
		Command: s.Service.Command, WorkDir: s.Service.Workdir, Env: s.Service.Env, Port: s.Service.Port,
		Replicas: s.Replicas, CPUs: s.CPUs, MemoryBytes: s.MemoryBytes,
		Health: s.Service.Health, HealthTimeout: s.Service.HealthTimeout.Duration, Network: s.Network,
		Address: s.Service.Address,
	}
	if px := s.Proxy; px != nil {
		spc.Balancer, spc.BalancerPort = render.BalancerService, render.BalancerPort
		spc.BalancerCPUs, spc.BalancerMemoryBytes, spc.BalancerPolicy = px.CPUs, px.MemoryBytes, px.Policy
		spc.BalancerKind = px.Kind
		if !px.Runner() && platformName == "local" {
			return nil, fmt.Errorf("scenario %s: balancer image %s runs in a container, and platform local runs processes; use --platform compose or swarm", s.ID, px.Image)
		}
	}
	return spc, nil
}

// renderer renders scenario s's compose file with host ports free now.
func renderer(s spec.Scenario, runID, project string, sw *render.Swarm) func() ([]byte, error) {
	return func() ([]byte, error) {
		var ports spec.PortRange
		if n := render.PortsNeeded(s, sw); n > 0 {
			var err error
			if ports, err = render.FreePorts(s.Service.HostPorts, n); err != nil {
				return nil, fmt.Errorf("scenario %s: %w; widen service.host_ports", s.ID, err)
			}
		}
		return render.Render(s, render.Params{RunID: runID, Project: project, Ports: ports, Swarm: sw})
	}
}

// LoadConfig is the load of scenario s against eps, streaming its raw results to
// resultsPath.
func LoadConfig(s spec.Scenario, eps []platform.Endpoint, resultsPath string) load.Config {
	w := s.Load
	bal := s.Balancer
	if s.Proxy != nil {
		bal = load.BalanceClient // the proxy is the one endpoint; it balances
	}
	c := load.Config{
		Balancer: bal, Method: s.Request.Method, Path: s.Request.Path,
		Header: http.Header{}, Bodies: s.Request.Bodies, RandomBodies: s.Request.Random,
		Rate: w.Rate, RampFrom: w.RateFrom, RampTo: w.RateTo, MaxWorkers: uint64(w.MaxWorkers),
		Users: w.Users, SpawnRate: w.SpawnRate, ThinkMin: w.ThinkMin, ThinkMax: w.ThinkMax,
		Duration: w.Duration, Warmup: w.Warmup, Timeout: w.Timeout,
		ResultsPath: resultsPath,
	}
	for k, v := range s.Request.Headers {
		c.Header.Set(k, v)
	}
	inferenceLoad(&c, s, resultsPath)
	for _, e := range eps {
		c.Targets = append(c.Targets, e.URL)
	}
	return c
}

// Loader returns the load of scenario s as a Job's Load function: one load.Run,
// or for a capacity search a load.Search against slo whose steps write
// results-stepN.gob next to resultsPath. It emits KindProgress events, and a
// KindStep event for each finished search step.
func Loader(s spec.Scenario, slo *result.SLO) func(ctx context.Context, eps []platform.Endpoint, resultsPath string, emit func(Event)) (result.Load, error) {
	return func(ctx context.Context, eps []platform.Endpoint, resultsPath string, emit func(Event)) (result.Load, error) {
		c := LoadConfig(s, eps, resultsPath)
		if slo != nil {
			c.Goodput = slo.Goodput
		}
		progress := func(prefix string, p load.Progress) {
			emit(Event{Kind: KindProgress, Progress: &p, Line: prefix + ProgressLine(p)})
		}
		if !s.Load.Search() {
			c.Progress = func(p load.Progress) { progress("", p) }
			return load.Run(ctx, c)
		}
		if slo == nil { // spec refuses a search without an SLO
			return result.Load{}, errors.New("a capacity search needs an SLO")
		}
		var step atomic.Int64 // the step running
		step.Store(1)
		c.Progress = func(p load.Progress) { progress(fmt.Sprintf("step %d: ", step.Load()), p) }
		w := s.Load
		check := slo.Check
		if w.SearchOnGoodput {
			check = goodputCheck(w.SearchMinGoodput)
		}
		res, err := load.Search(ctx, load.SearchConfig{
			Load: c, From: w.SearchFrom, To: w.SearchTo, MaxSteps: w.SearchSteps, Precision: w.SearchPrecision,
			OnStep: func(n int, st result.CapacityStep) {
				step.Store(int64(n) + 1)
				emit(Event{Kind: KindStep, Step: &st, StepN: n, Line: load.StepLine(n, st)})
			},
		}, check)
		return res.Best, err
	}
}

// ProgressLine is the one-line live status of a running load.
func ProgressLine(p load.Progress) string {
	s := fmt.Sprintf("%s/%s %s: %d req, %.0f/s, %d err, p99 %s",
		p.Elapsed.Round(time.Second), p.Total.Round(time.Second), p.Phase, p.Requests, p.RatePerSecond, p.Errors, p.P99.Round(100*time.Microsecond))
	if p.Users > 0 {
		s += fmt.Sprintf(", %d users", p.Users)
	}
	return s
}
