package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/platform/swarm"
	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
	"github.com/infergrid/runner/runner/spec"
)

const runUsage = `Usage: runner [run] FILE [--out DIR] [--only PATTERN] [--platform P] [--init-swarm] [--distribute-image] [--resume[=RUN_DIR]] [--dry-run]

Runs every scenario of FILE: for each, renders its compose file, brings the stack up
under its limits, waits until every replica is healthy, drives the load, samples the
containers, and tears the stack down (also on Ctrl-C). Results are written to
DIR/NAME-YYYYMMDDTHHMMSSZ/ as each scenario finishes; report.md, report.html (the
same, self-contained, with interactive charts), results.csv and summary.json are
written at the end.

Exit status: 0 all scenarios ran and met the SLO; 1 a scenario failed or missed
the SLO; 2 bad usage, an invalid file, or a grid that does not fit this host;
3 the platform failed or stopped answering mid-run (the run stops there; finished
scenarios are kept, and the message says how to remove a stack left behind);
130 interrupted (finished scenarios are kept).

Options:
OPTIONS
Examples:
  runner scenarios/smoke.yaml
  runner run scenarios/workshop5.yaml --only 'replicas-*' --out /tmp/runs
  runner run scenarios/workshop5.yaml --dry-run
  runner run scenarios/workshop5.yaml --resume          # finish the latest interrupted run
  runner run scenarios/external.yaml --platform external
  runner run scenarios/smoke.yaml --platform swarm --init-swarm
`

// exitInterrupted is the conventional status of a command stopped by SIGINT.
const exitInterrupted = 130

// resumeFlag is --resume (the latest run of the file under --out) or
// --resume=RUN_DIR.
type resumeFlag struct {
	set bool
	dir string
}

func (r *resumeFlag) String() string   { return r.dir }
func (r *resumeFlag) IsBoolFlag() bool { return true }
func (r *resumeFlag) Set(v string) error {
	r.set = v != "false"
	if v != "true" && v != "false" {
		r.dir = v
	}
	return nil
}

// runOptions are the flags of runner run.
type runOptions struct {
	file, out, only, platform string
	resume                    resumeFlag
	dryRun, allowOvercommit   bool
	ignoreSLO, initSwarm      bool
	distributeImage           bool
	interval                  time.Duration
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	fs := newFlags("run", runUsage, stdout)
	var o runOptions
	fs.StringVar(&o.out, "out", "runs", "write run directories under `DIR`")
	fs.StringVar(&o.only, "only", "", "run only scenarios whose ID matches `PATTERN` (a glob, or a substring)")
	fs.StringVar(&o.platform, "platform", "", "override the file's platform: auto, compose, swarm, local or external")
	fs.BoolVar(&o.initSwarm, "init-swarm", false, "with platform swarm, make a Docker daemon outside any swarm a single-node swarm for the run, and leave it afterwards")
	fs.BoolVar(&o.distributeImage, "distribute-image", false, "with platform swarm, copy the service image to every swarm.nodes node that lacks it (docker save | docker load)")
	fs.Var(&o.resume, "resume", "skip the finished scenarios of an interrupted run: the latest of this file under --out, or --resume=`RUN_DIR`")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be done, and start nothing")
	fs.BoolVar(&o.allowOvercommit, "allow-overcommit", false, "run scenarios whose memory limits exceed this host's available memory (warn instead of refusing)")
	fs.BoolVar(&o.ignoreSLO, "ignore-slo", false, "exit 0 even when a scenario fails or misses the SLO")
	fs.DurationVar(&o.interval, "interval", time.Second, "container telemetry sampling `interval`")
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	file, ok := oneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	o.file = file
	return runFile(ctx, o, stdout, stderr)
}

func runFile(ctx context.Context, o runOptions, stdout, stderr io.Writer) int {
	f, code := loadFile(o.file, stderr)
	if code != exitOK {
		return code
	}
	name := f.Platform
	if o.platform != "" {
		name = o.platform
	}
	if name == "external" && f.Platform != "external" {
		fmt.Fprintf(stderr, "runner run: --platform external needs a file with targets (platform: external); %s starts its own service\n", o.file)
		return exitUsage
	}
	if name != "external" && f.Platform == "external" {
		fmt.Fprintf(stderr, "runner run: %s lists external targets; it cannot run on platform %s\n", o.file, name)
		return exitUsage
	}
	scenarios, err := selectScenarios(f.Scenarios(), o.only)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitUsage
	}
	if name == "swarm" {
		for _, s := range scenarios {
			if s.CPUSet != "" {
				fmt.Fprintf(stderr, "runner run: scenario %s pins CPUs (cpuset %s), which a swarm cannot do; remove cpuset or run it on compose\n", s.ID, s.CPUSet)
				return exitUsage
			}
		}
	}
	plan := make([]result.Scenario, len(scenarios))
	for i, s := range scenarios {
		plan[i] = s.Result()
	}

	// Preflight: refuse a grid that does not fit before anything starts.
	host, err := preflight.ReadHost()
	if err != nil {
		fmt.Fprintf(stderr, "runner run: warning: %v; memory fit not checked\n", err)
	}
	problems := preflight.Check(host, plan, preflight.Options{AllowOvercommit: o.allowOvercommit})
	for _, p := range problems.Warnings() {
		fmt.Fprintf(stderr, "runner run: %s\n", p)
	}
	if err := problems.Err(); err != nil {
		fmt.Fprintf(stderr, "runner run: %v\nNothing was started. Use --allow-overcommit to run anyway, or --only to pick the scenarios that fit.\n", err)
		return exitUsage
	}

	if o.dryRun {
		return dryRun(f, scenarios, name, o, stdout)
	}
	if code := prepareRun(ctx, f, name, o, stderr); code != exitOK {
		return code
	}

	dir, err := runDir(f, o)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitUsage
	}
	meta := result.Run{
		ID: filepath.Base(dir), Name: f.Name, File: o.file, GitCommit: gitCommit(f.Dir),
		RunnerVersion: versionString(), Started: time.Now(), SLO: f.SLO.Result(),
		Host: result.Host{OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: host.CPUs, MemoryBytes: host.MemTotalBytes},
	}
	meta.Host.Hostname, _ = os.Hostname()
	meta.Host.Kernel = kernel()

	p, sw, code := openPlatform(ctx, f, name, o, &meta, stderr)
	if code != exitOK {
		return code
	}
	if p != nil {
		defer p.Close()
	}
	name = meta.Platform

	jobs, err := run.Jobs(f, scenarios, meta.ID, name, sw)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitUsage
	}
	build, err := buildOf(f, scenarios, meta.ID)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "run %s: %d scenarios on %s, results in %s\n", meta.ID, len(jobs), name, dir)
	tty := false
	if fd, ok := stdout.(interface{ Fd() uintptr }); ok {
		tty = isatty.IsTerminal(fd.Fd())
	}
	release, code := holdLease(meta, dir, stderr)
	if code != exitOK {
		return code
	}
	defer release()
	ran, runErr := run.Execute(ctx, meta, jobs, run.Options{
		Dir: dir, Resume: o.resume.set, Platform: p, Build: build, SLO: meta.SLO,
		Interval: o.interval, Observers: []run.Observer{run.NewProgress(stdout, tty)},
	})

	// The report is written whatever happened, from what is on disk.
	if probs, err := report.Write(dir); err != nil {
		fmt.Fprintf(stderr, "runner run: cannot write the report: %v\n", err)
	} else {
		for _, pr := range probs {
			fmt.Fprintf(stderr, "runner run: report: %s\n", pr)
		}
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.md"))
	}
	return exitStatus(ctx, ran, runErr, o, stdout, stderr)
}

// buildOf says what Prepare builds once per run: the service image, and the
// load balancer's when a scenario puts the runner's proxy in front of the replicas.
func buildOf(f *spec.File, scenarios []spec.Scenario, runID string) (platform.Build, error) {
	if f.Service == nil {
		return platform.Build{}, nil
	}
	build := platform.Build{Dir: f.Service.Build, Image: scenarios[0].Image, RunID: runID}
	if px := proxyOf(scenarios); px != nil {
		dir, err := proxySource(f.Dir)
		if err != nil {
			return build, err
		}
		build.ProxyDir, build.ProxyImage = dir, px.Image
	}
	return build, nil
}

// openPlatform opens the platform called name (none for external) and records
// what it says of itself in meta; on a swarm, sw is how stacks are rendered.
func openPlatform(ctx context.Context, f *spec.File, name string, o runOptions, meta *result.Run, stderr io.Writer) (p platform.Platform, sw *render.Swarm, code int) {
	meta.Platform = name
	if name == "external" {
		return nil, nil, exitOK
	}
	opts := platforms.Options{Swarm: swarm.Options{Init: o.initSwarm, DistributeImage: o.distributeImage}}
	if f.Swarm != nil {
		opts.Swarm.Publish = f.Swarm.Publish
		for _, n := range f.Swarm.Nodes {
			opts.Swarm.Nodes = append(opts.Swarm.Nodes, swarm.Node{Name: n.Name, DockerHost: n.DockerHost, Address: n.Address})
		}
	}
	p, note, err := platforms.Open(ctx, name, opts)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return nil, nil, exitUsage
	}
	if note != "" {
		fmt.Fprintf(stderr, "runner run: %s\n", note)
		meta.PlatformNotes = append(meta.PlatformNotes, note)
	}
	info := p.Info(ctx)
	meta.Host.DockerVersion, meta.Host.ComposeVersion = info.DockerVersion, info.ComposeVersion
	meta.PlatformNotes = append(meta.PlatformNotes, info.Notes...)
	meta.Platform = p.Name()
	if sp, ok := p.(*swarm.Platform); ok {
		if sp.Publish() == "" { // it could not connect: Info says why
			fmt.Fprintf(stderr, "runner run: %s\n", strings.Join(info.Notes, "; "))
			p.Close()
			return nil, nil, exitPlatform
		}
		sw = &render.Swarm{Publish: sp.Publish()}
		if f.Swarm != nil {
			sw.Constraints = f.Swarm.Constraints
		}
	}
	return p, sw, exitOK
}

// exitStatus prints the end of the run and maps it to the exit code.
func exitStatus(ctx context.Context, ran result.Run, runErr error, o runOptions, stdout, stderr io.Writer) int {
	var failed, missed int
	var lost *run.LostError
	for _, sc := range ran.Scenarios {
		switch {
		case sc.Status == result.StatusFailed:
			failed++
		case sc.SLOPass != nil && !*sc.SLOPass:
			missed++
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "runner run: interrupted; the stack was torn down and finished scenarios are kept: resume with\n  runner run %s --resume=%s\n", o.file, filepath.Join(o.out, ran.ID))
		return exitInterrupted
	case errors.As(runErr, &lost):
		fmt.Fprintf(stderr, "runner run: %v\n", runErr)
		dir := filepath.Join(o.out, ran.ID)
		what := "the platform " + ran.Platform
		if ran.Platform == "compose" || ran.Platform == "swarm" {
			what = "the Docker daemon"
		}
		fmt.Fprintf(stderr, "The run stopped at scenario %d of %d because %s stopped answering; no later scenario was started. The scenarios finished before, the results so far and the report are kept in %s.\n", lost.K, lost.N, what, dir)
		if lost.StackLeft {
			fmt.Fprintf(stderr, "The stack of %s may still be running. Once %s answers again, remove it with\n  runner clean --run %s\n", lost.Scenario, what, ran.ID)
		} else {
			fmt.Fprintf(stderr, "The stack of %s was removed.\n", lost.Scenario)
		}
		fmt.Fprintf(stderr, "Then finish the run with\n  runner run %s --resume=%s\n", o.file, dir)
		return exitPlatform
	case runErr != nil:
		fmt.Fprintf(stderr, "runner run: %v\n", runErr)
		if errors.Is(runErr, platform.ErrUnavailable) {
			fmt.Fprintln(stderr, "Is the Docker daemon running? `--platform local` runs without Docker.")
		}
		return exitPlatform
	}
	fmt.Fprintln(stdout, verdict(ran, o.ignoreSLO))
	if failed+missed > 0 && !o.ignoreSLO {
		return exitSLO
	}
	return exitOK
}

// selectScenarios keeps the scenarios whose ID matches pattern: a glob when it has
// glob characters, else a substring.
func selectScenarios(all []spec.Scenario, pattern string) ([]spec.Scenario, error) {
	if pattern == "" {
		return all, nil
	}
	glob := strings.ContainsAny(pattern, "*?[")
	var out []spec.Scenario
	for _, s := range all {
		match := strings.Contains(s.ID, pattern)
		if glob {
			var err error
			if match, err = path.Match(pattern, s.ID); err != nil {
				return nil, fmt.Errorf("--only %q: %v", pattern, err)
			}
		}
		if match {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--only %q matches none of the %d scenarios; `runner plan FILE` lists their IDs", pattern, len(all))
	}
	return out, nil
}

// runDir is the run directory: a new one under --out, or the one to resume.
func runDir(f *spec.File, o runOptions) (string, error) {
	if !o.resume.set {
		dir := filepath.Join(o.out, run.ID(f.Name, time.Now()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("cannot create the run directory: %w", err)
		}
		return dir, nil
	}
	if o.resume.dir != "" {
		if _, err := os.Stat(filepath.Join(o.resume.dir, "plan.json")); err != nil {
			return "", fmt.Errorf("--resume=%s is not a run directory (no plan.json)", o.resume.dir)
		}
		return o.resume.dir, nil
	}
	matches, _ := filepath.Glob(filepath.Join(o.out, f.Name+"-*T*Z"))
	if len(matches) == 0 {
		return "", fmt.Errorf("--resume: no run of %s under %s", f.Name, o.out)
	}
	return matches[len(matches)-1], nil // IDs sort by time
}

// dryRun prints what a run would do.
func dryRun(f *spec.File, scenarios []spec.Scenario, platformName string, o runOptions, stdout io.Writer) int {
	fmt.Fprintf(stdout, "dry run of %s: %d scenarios on platform %s; results would go to %s\n", o.file, len(scenarios), platformName, filepath.Join(o.out, f.Name+"-YYYYMMDDTHHMMSSZ"))
	if f.Service != nil {
		if f.Service.Build != "" {
			fmt.Fprintf(stdout, "build %s from %s once\n", scenarios[0].Image, f.Service.Build)
		} else {
			fmt.Fprintf(stdout, "use image %s\n", scenarios[0].Image)
		}
		if px := proxyOf(scenarios); px != nil {
			src, err := proxySource(f.Dir)
			if err != nil {
				src = "(not found: " + err.Error() + ")"
			}
			fmt.Fprintf(stdout, "build the load balancer %s from %s once\n", px.Image, src)
		}
	}
	var total time.Duration
	for i, s := range scenarios {
		total += s.Estimate()
		if platformName == "external" {
			fmt.Fprintf(stdout, "%d. %s: load %s against %s\n", i+1, s.ID, s.Load, strings.Join(s.Targets, ", "))
			continue
		}
		fmt.Fprintf(stdout, "%d. %s: up %d replica(s) (cpus %s, memory %s, balancer %s), wait for %s, load %s, down\n",
			i+1, s.ID, s.Replicas, orUnlimited(s.CPUs > 0, fmt.Sprint(s.CPUs)), orUnlimited(s.MemoryBytes > 0, render.Bytes(s.MemoryBytes)), s.BalancerLabel(), s.Service.Health, s.Load)
	}
	fmt.Fprintf(stdout, "estimated time: %s; nothing was started\n", total.Round(time.Second))
	return exitOK
}

func orUnlimited(set bool, v string) string {
	if !set {
		return "unlimited"
	}
	return v
}

// gitCommit is the commit of the repository holding dir, if any.
func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
