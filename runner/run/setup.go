package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/spec"
)

// modulePath is the runner's module; the load balancer is built from its cmd/proxy.
const modulePath = "github.com/infergrid/runner"

// ProxyOf returns the proxy of the first scenario that uses the runner's own
// proxy (balancer: proxy without image); HAProxy and nginx images are not built.
func ProxyOf(scenarios []spec.Scenario) *spec.Proxy {
	for _, s := range scenarios {
		if s.Proxy != nil && s.Proxy.Runner() {
			return s.Proxy
		}
	}
	return nil
}

// ProxySource finds the load balancer's Go main package: $RUNNER_PROXY_SRC, else
// cmd/proxy of the runner's module found above the scenario file's folder or
// the working directory.
func ProxySource(scenarioDir string) (string, error) {
	dir, err := source(scenarioDir, "proxy", "RUNNER_PROXY_SRC")
	if err != nil {
		return "", fmt.Errorf("balancer proxy builds its image from the runner's source (%s/cmd/proxy), found neither above %s nor above the working directory; run from a checkout of the runner or set RUNNER_PROXY_SRC to its cmd/proxy folder", modulePath, scenarioDir)
	}
	return dir, nil
}

// AgentSource finds the runner's own Go main package, which the load agents'
// image is built from: $RUNNER_AGENT_SRC, else cmd/runner of the runner's
// module found as ProxySource finds cmd/proxy.
func AgentSource(scenarioDir string) (string, error) {
	dir, err := source(scenarioDir, "runner", "RUNNER_AGENT_SRC")
	if err != nil {
		return "", fmt.Errorf("generators build the load agents' image from the runner's source (%s/cmd/runner), found neither above %s nor above the working directory; run from a checkout of the runner or set RUNNER_AGENT_SRC to its cmd/runner folder", modulePath, scenarioDir)
	}
	return dir, nil
}

// source finds cmd/NAME of the runner's module: $env, else above scenarioDir
// or the working directory.
func source(scenarioDir, name, env string) (string, error) {
	if d := os.Getenv(env); d != "" {
		return filepath.Abs(d)
	}
	wd, _ := os.Getwd()
	for _, start := range []string{scenarioDir, wd} {
		start, err := filepath.Abs(start)
		if err != nil {
			continue
		}
		for d := start; d != ""; {
			b, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module "+modulePath+"\n") {
				if st, err := os.Stat(filepath.Join(d, "cmd", name)); err == nil && st.IsDir() {
					return filepath.Join(d, "cmd", name), nil
				}
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", errors.New("not found")
}

// BuildOf says what Prepare builds once per run on the platform called
// platformName: the service image (nothing on local when the service has a
// command: the command runs), and the load balancer's when a scenario puts the
// runner's proxy in front of the replicas.
func BuildOf(f *spec.File, scenarios []spec.Scenario, runID, platformName string) (platform.Build, error) {
	if f.Service == nil {
		return platform.Build{}, nil
	}
	build := platform.Build{Dir: f.Service.Build, Image: scenarios[0].Image, RunID: runID}
	if platformName == "local" && len(f.Service.Command) > 0 {
		build.Dir, build.Image = "", ""
	}
	if px := ProxyOf(scenarios); px != nil {
		dir, err := ProxySource(f.Dir)
		if err != nil {
			return build, err
		}
		build.ProxyDir, build.ProxyImage = dir, px.Image
	}
	if spec.UsesGenerators(scenarios) {
		dir, err := AgentSource(f.Dir)
		if err != nil {
			return build, err
		}
		build.AgentDir, build.AgentImage = dir, AgentImage(f)
	}
	return build, nil
}

// Select keeps the scenarios whose ID matches pattern: a glob when it has
// glob characters, else a substring.
func Select(all []spec.Scenario, pattern string) ([]spec.Scenario, error) {
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

// Dir returns the run directory of a run of f: a new one under out, or with
// resume the one to resume: resumeDir, else the latest run of f under out.
func Dir(f *spec.File, out string, resume bool, resumeDir string) (string, error) {
	if !resume {
		dir := filepath.Join(out, ID(f.Name, time.Now()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("cannot create the run directory: %w", err)
		}
		return dir, nil
	}
	if resumeDir != "" {
		if _, err := os.Stat(filepath.Join(resumeDir, "plan.json")); err != nil {
			return "", fmt.Errorf("--resume=%s is not a run directory (no plan.json)", resumeDir)
		}
		return resumeDir, nil
	}
	matches, _ := filepath.Glob(filepath.Join(out, f.Name+"-*T*Z"))
	if len(matches) == 0 {
		return "", fmt.Errorf("--resume: no run of %s under %s", f.Name, out)
	}
	return matches[len(matches)-1], nil // IDs sort by time
}

// DryRun prints on stdout what a run of the scenarios of f (read from file) on
// platformName, writing under out, would do.
func DryRun(stdout io.Writer, f *spec.File, scenarios []spec.Scenario, platformName, file, out string) {
	if platformName == "auto" && f.Service.CommandOnly() {
		platformName = "local (auto, as the service is given only by its command)"
	}
	fmt.Fprintf(stdout, "dry run of %s: %d scenarios on platform %s; results would go to %s\n", file, len(scenarios), platformName, filepath.Join(out, f.Name+"-YYYYMMDDTHHMMSSZ"))
	if f.Service != nil {
		switch {
		case len(f.Service.Command) > 0 && (platformName == "local" || f.Service.CommandOnly()):
			fmt.Fprintf(stdout, "run %q as each replica, in %s; nothing is built\n", f.Service.Command, f.Service.Workdir)
		case f.Service.Build != "":
			fmt.Fprintf(stdout, "build %s from %s once\n", scenarios[0].Image, f.Service.Build)
		default:
			fmt.Fprintf(stdout, "use image %s\n", scenarios[0].Image)
		}
		if px := ProxyOf(scenarios); px != nil {
			src, err := ProxySource(f.Dir)
			if err != nil {
				src = "(not found: " + err.Error() + ")"
			}
			fmt.Fprintf(stdout, "build the load balancer %s from %s once\n", px.Image, src)
		}
		if spec.UsesGenerators(scenarios) {
			src, err := AgentSource(f.Dir)
			if err != nil {
				src = "(not found: " + err.Error() + ")"
			}
			fmt.Fprintf(stdout, "build the load agents' image %s from %s once\n", AgentImage(f), src)
		}
	}
	var total time.Duration
	for i, s := range scenarios {
		total += s.Estimate()
		times := ""
		if s.Repeat > 1 {
			times = fmt.Sprintf("; %d times, in rounds with the other scenarios", s.Repeat)
		}
		load := s.Load.String()
		if s.Generators > 0 {
			load += fmt.Sprintf(" from %d load agents", s.Generators)
		}
		if platformName == "external" {
			fmt.Fprintf(stdout, "%d. %s: load %s against %s%s\n", i+1, s.ID, s.Load, strings.Join(s.Targets, ", "), times)
			continue
		}
		fmt.Fprintf(stdout, "%d. %s: up %d replica(s) (cpus %s, memory %s, balancer %s), wait for %s, load %s, down%s\n",
			i+1, s.ID, s.Replicas, orUnlimited(s.CPUs > 0, fmt.Sprint(s.CPUs)), orUnlimited(s.MemoryBytes > 0, render.Bytes(s.MemoryBytes)), s.BalancerLabel(), s.Service.Health, load, times)
	}
	fmt.Fprintf(stdout, "estimated time: %s; nothing was started\n", total.Round(time.Second))
}

func orUnlimited(set bool, v string) string {
	if !set {
		return "unlimited"
	}
	return v
}

// GitCommit is the commit of the repository holding dir, if any.
func GitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Kernel is this host's kernel release, if Linux says it.
func Kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
