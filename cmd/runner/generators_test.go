package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/internal/runnertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
)

// generatorsStudy writes a swarm study of the test service, one block of two
// replicas whose load (load) three agents send, and removes the agent image
// the run builds when t ends.
func generatorsStudy(t *testing.T, load string) string {
	t.Helper()
	name := fmt.Sprintf("gen%d", os.Getpid())
	dockertest.RemoveImage(t, "runner-"+name+"-agent:latest")
	svc := filepath.Join(runnertest.Root(t), "runner", "platform", "testdata", "testsvc")
	file := filepath.Join(t.TempDir(), name+".yaml")
	src := fmt.Sprintf(`name: %s
platform: swarm
service: {build: %q, image: %s, port: 8000, health: /health, host_ports: 21000-21999}
request: {method: GET, path: /health}
defaults: {warmup: 0s, replicas: 2, balancer: client, memory: 64M}
grid:
  - name: spread
    generators: 3
    load: [%s]
`, name, svc, runnertest.Image(t, name), load)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRunGenerators sends a scenario's load from three agents on a
// single-node swarm, end to end: each agent's raw results come back, the
// merged request count is the sum of the agents', the merged p99 is the exact
// p99 over their concatenated raw results, summary.json has each agent's
// figures, and nothing is left, the swarm as found.
func TestRunGenerators(t *testing.T) {
	dockertest.SwarmLock(t)
	file := generatorsStudy(t, "{rate: 90/s, duration: 4s}")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main([]string{file, "--platform", "swarm", "--init-swarm", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	outcomes := checkRunDir(t, dir, true, true)
	o := outcomes[0]
	l := o.Load
	if len(l.Generators) != 3 {
		t.Fatalf("generators %+v, want 3", l.Generators)
	}
	var sum uint64
	var files []string
	for i, g := range l.Generators {
		sum += g.Requests
		if g.Error != "" || g.Requests == 0 || g.Procs == 0 || !strings.HasSuffix(g.Name, fmt.Sprintf("_agent.%d", i+1)) {
			t.Errorf("agent %d: %+v: want a finished agent with requests, in slot order", i+1, g)
		}
		files = append(files, filepath.Join(dir, "scenarios", o.Scenario.ID, "generators", fmt.Sprintf("agent-%d.gob", i+1)))
	}
	if sum != l.Requests || l.Requests == 0 {
		t.Errorf("merged requests %d, the agents' sum %d", l.Requests, sum)
	}
	lat := measuredLatencies(t, files...)
	if uint64(len(lat)) != l.Requests {
		t.Errorf("%d measured results in the agents' files, merged count %d", len(lat), l.Requests)
	}
	if exact := nearestRank(lat, 0.99); math.Abs(float64(l.Latency.P99-exact)) > 0.01*float64(exact) {
		t.Errorf("merged p99 %s, exact p99 over the agents' raw results %s", l.Latency.P99, exact)
	}
	if all := measuredLatencies(t, filepath.Join(dir, "scenarios", o.Scenario.ID, "results.gob")); len(all) != len(lat) {
		t.Errorf("results.gob holds %d measured results, the agents' files %d", len(all), len(lat))
	}
	var sum2 report.Summary
	if err := result.ReadJSON(filepath.Join(dir, "summary.json"), &sum2); err != nil {
		t.Fatal(err)
	}
	if g := sum2.Scenarios[0].Load.Generators; len(g) != 3 || g[0].Requests == 0 {
		t.Errorf("summary.json generators %+v", g)
	}
}

// TestRunGeneratorKilled kills one of three agents mid-run: the scenario fails
// naming it, what it sent before is kept (its raw file, its count), and
// nothing is left.
func TestRunGeneratorKilled(t *testing.T) {
	dockertest.SwarmLock(t)
	file := generatorsStudy(t, "{rate: 30/s, duration: 30s}")
	out := t.TempDir()
	p := runnertest.Start(t, nil, file, "--platform", "swarm", "--init-swarm", "--out", out)
	p.WaitFor(5*time.Minute, "the load phase", runnertest.PhaseLine(1, "load"))
	id := agentContainer(t, 2)
	time.Sleep(12 * time.Second) // the agents start 10s after their deployment: let agent 2 send a while
	if out, err := exec.Command("docker", "kill", id).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, out)
	}
	if code := p.Wait(3 * time.Minute); code != exitSLO {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitSLO, p.Out(), p.Stderr())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	var o result.Outcome
	matches, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*", "outcome.json"))
	if len(matches) != 1 {
		t.Fatalf("outcomes %v", matches)
	}
	if err := result.ReadJSON(matches[0], &o); err != nil {
		t.Fatal(err)
	}
	if o.Status != result.StatusFailed || !strings.Contains(o.Error, "_agent.2 on node") || !strings.Contains(o.Error, "exit code 137") {
		t.Errorf("outcome %s: %s; want failed, naming agent 2 and its exit", o.Status, o.Error)
	}
	if len(o.Load.Generators) != 3 || o.Load.Generators[1].Requests == 0 || o.Load.Generators[1].Error == "" {
		t.Fatalf("generators %+v: want agent 2's results kept, with its error", o.Load.Generators)
	}
	killed := measuredLatencies(t, filepath.Join(filepath.Dir(matches[0]), "generators", "agent-2.gob"))
	if uint64(len(killed)) != o.Load.Generators[1].Requests {
		t.Errorf("agent-2.gob holds %d results, its figures say %d", len(killed), o.Load.Generators[1].Requests)
	}
}

// TestRunGeneratorsInterrupt sends SIGINT to the runner while three agents
// send the load: every agent stops (its service and containers are gone), the
// results so far are kept, and nothing is left.
func TestRunGeneratorsInterrupt(t *testing.T) {
	dockertest.SwarmLock(t)
	file := generatorsStudy(t, "{rate: 30/s, duration: 60s}")
	out := t.TempDir()
	p := runnertest.Start(t, nil, file, "--platform", "swarm", "--init-swarm", "--out", out)
	p.WaitFor(5*time.Minute, "the load phase", runnertest.PhaseLine(1, "load"))
	agentContainer(t, 3)
	time.Sleep(12 * time.Second) // past the agreed start: the agents send
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(3 * time.Minute); code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, p.Out(), p.Stderr())
	}
	dir := onlyRun(t, out)
	dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	files, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*", "generators", "agent-*.gob"))
	if len(files) != 3 || len(measuredLatencies(t, files...)) == 0 {
		t.Errorf("the agents' results so far: %v", files)
	}
}

// agentContainer waits for the container of load agent slot and returns its ID.
func agentContainer(t *testing.T, slot int) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := exec.Command("docker", "ps", "--filter", "label=com.docker.swarm.task.name", "--format",
			`{{.ID}} {{.Label "com.docker.swarm.task.name"}}`).Output()
		if err == nil {
			for line := range strings.Lines(string(out)) {
				id, task, _ := strings.Cut(strings.TrimSpace(line), " ")
				if strings.Contains(task, fmt.Sprintf("_agent.%d.", slot)) {
					return id
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no container of load agent %d", slot)
	return ""
}

// measuredLatencies decodes raw results files with vegeta's own decoder and
// returns the latencies of their measured results, sorted.
func measuredLatencies(t *testing.T, files ...string) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := vegeta.NewDecoder(f)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%s: %v", file, err)
				}
				break
			}
			if r.Attack != "warmup" {
				out = append(out, r.Latency)
			}
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// nearestRank is the q-quantile of sorted by the nearest-rank rule.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[max(int(math.Ceil(q*float64(len(sorted))))-1, 0)]
}
