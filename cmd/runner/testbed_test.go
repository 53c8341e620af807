package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/internal/runnertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
)

// The tests of load agents (generators) on the multi-node test bed (make
// testbed-up N=3) run the runner as a user runs it there, with DOCKER_HOST and
// the --swarm-node flags of the file testbed-up wrote, when RUNNER_TESTBED
// names that file (or is 1 for /tmp/runner-testbed/env). They never make the
// host's daemon join a swarm. Run them under flock /tmp/runner-swarm.lock.

// testbed is what testbed-up wrote.
type testbed struct{ dockertest.Testbed }

// hostDocker is the host's own daemon, which runs the test bed's nodes.
const hostDocker = "unix:///var/run/docker.sock"

func needTestbed(t *testing.T) testbed { return testbed{dockertest.NeedTestbed(t)} }

// node is the DOCKER_HOST of runner-testbed-i.
func (tb testbed) node(i int) string { return tb.Nodes[i-1].DockerHost }

// testbedStudy writes a swarm study of the test service: one scenario of
// replicas under constraint, whose load (load) agents under genConstraint
// send. The images the run builds are removed from every node when t ends.
func testbedStudy(t *testing.T, tb testbed, replicas, agents int, constraint, genConstraint, load string) string {
	t.Helper()
	name := fmt.Sprintf("tb%d", os.Getpid())
	image := runnertest.Image(t, name)
	t.Cleanup(func() {
		for _, n := range tb.Nodes {
			exec.Command("docker", "-H", n.DockerHost, "image", "rm", "-f", image, "runner-"+name+"-agent:latest").Run()
		}
	})
	svc := filepath.Join(runnertest.Root(t), "runner", "platform", "testdata", "testsvc")
	file := filepath.Join(t.TempDir(), name+".yaml")
	src := fmt.Sprintf(`name: %s
platform: swarm
swarm:
  publish: host
  constraints: [%q]
  generator_constraints: [%q]
service: {build: %q, image: %s, port: 8000, health: /health, host_ports: 21000-21999}
request: {method: GET, path: /health}
defaults: {warmup: 0s, replicas: %d, balancer: client, memory: 64M}
grid:
  - name: agents
    generators: %d
    load: [%s]
`, name, constraint, genConstraint, svc, image, replicas, agents, load)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// placements polls every node for the containers of swarm services until
// stop is closed, and returns on which nodes each service (without its stack
// prefix) had a container.
func placements(tb testbed, stop <-chan struct{}) func() map[string][]string {
	var mu sync.Mutex
	seen := map[string][]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, n := range tb.Nodes {
				out, _ := exec.Command("docker", "-H", n.DockerHost, "ps", "-a", "--filter", "label=com.docker.swarm.service.name",
					"--format", `{{.Label "com.docker.swarm.service.name"}}`).Output()
				mu.Lock()
				for _, svc := range strings.Fields(string(out)) {
					svc = svc[strings.LastIndexByte(svc, '_')+1:]
					if !slices.Contains(seen[svc], n.Name) {
						seen[svc] = append(seen[svc], n.Name)
						slices.Sort(seen[svc])
					}
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return func() map[string][]string {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// testbedLeftovers checks the given nodes for anything of run dir.
func testbedLeftovers(t *testing.T, tb testbed, dir string, nodes ...int) {
	t.Helper()
	for _, i := range nodes {
		t.Setenv("DOCKER_HOST", tb.node(i))
		dockertest.NoLeftovers(t, label.Run+"="+filepath.Base(dir))
	}
	t.Setenv("DOCKER_HOST", tb.Manager)
}

// TestTestbedGenerators runs a scenario whose load two agents send, placed on
// the load node (runner-testbed-1) while the replicas run on the sut nodes,
// through the runner with --distribute-image and the test bed's --swarm-node
// flags: the agents ran on node 1 and the replicas on nodes 2 and 3, the merged
// count is the sum of the agents' in summary.json, the percentiles are those of
// the agents' raw results together, and nothing is left on any node.
func TestTestbedGenerators(t *testing.T) {
	tb := needTestbed(t)
	file := testbedStudy(t, tb, 2, 2, "node.labels.runner.role==sut", "node.labels.runner.role==load", "{rate: 80/s, duration: 6s}")
	out := t.TempDir()
	stop := make(chan struct{})
	seen := placements(tb, stop)
	began := time.Now()
	p := runnertest.Start(t, nil, append([]string{file, "--distribute-image", "--out", out}, tb.Flags...)...)
	code := p.Wait(8 * time.Minute)
	close(stop)
	t.Logf("runner exited %d after %s", code, time.Since(began).Round(time.Second))
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, p.Out(), p.Stderr())
	}
	where := seen()
	t.Logf("tasks' nodes by service: %v", where)
	if got := where["agent"]; !slices.Equal(got, []string{"runner-testbed-1"}) {
		t.Errorf("agents ran on %v, want runner-testbed-1 only (runner.role==load)", got)
	}
	if got := where["app"]; !slices.Equal(got, []string{"runner-testbed-2", "runner-testbed-3"}) {
		t.Errorf("replicas ran on %v, want one on each sut node", got)
	}
	dir := onlyRun(t, out)
	testbedLeftovers(t, tb, dir, 1, 2, 3)
	outcomes := checkRunDir(t, dir, true, true)
	l := outcomes[0].Load
	var sum report.Summary
	if err := result.ReadJSON(filepath.Join(dir, "summary.json"), &sum); err != nil {
		t.Fatal(err)
	}
	sl := sum.Scenarios[0].Load
	if len(sl.Generators) != 2 {
		t.Fatalf("summary.json generators %+v, want 2", sl.Generators)
	}
	var total uint64
	var files []string
	for i, g := range sl.Generators {
		total += g.Requests
		if g.Node != "runner-testbed-1" || g.Error != "" || g.Requests == 0 {
			t.Errorf("agent %d: %+v: want a finished agent with requests on runner-testbed-1", i+1, g)
		}
		files = append(files, filepath.Join(dir, "scenarios", outcomes[0].Scenario.ID, "generators", fmt.Sprintf("agent-%d.gob", i+1)))
	}
	if total != sl.Requests || sl.Requests == 0 || sl.Requests != l.Requests {
		t.Errorf("merged requests %d (outcome.json %d), the agents' sum in summary.json %d", sl.Requests, l.Requests, total)
	}
	lat := measuredLatencies(t, files...)
	if uint64(len(lat)) != l.Requests {
		t.Errorf("%d measured results in the agents' files, merged count %d", len(lat), l.Requests)
	}
	for _, q := range []struct {
		q   float64
		got time.Duration
	}{{0.5, l.Latency.P50}, {0.99, l.Latency.P99}} {
		if exact := nearestRank(lat, q.q); math.Abs(float64(q.got-exact)) > 0.01*float64(exact) {
			t.Errorf("merged p%g %s, exact over the agents' raw results together %s", q.q*100, q.got, exact)
		}
	}
	if !strings.Contains(l.LatencyFrom, "merged from the raw results of 2 load agents") {
		t.Errorf("latency_from %q, want it merged from the agents' results", l.LatencyFrom)
	}
	t.Logf("merged %d requests (%d + %d), p50 %s, p99 %s", l.Requests, sl.Generators[0].Requests, sl.Generators[1].Requests, l.Latency.P50, l.Latency.P99)
}

// TestTestbedGeneratorNodeLost stops the node that runs the load agents
// (runner-testbed-3, under node.hostname while the replica runs on -2) while
// they send: the scenario fails naming each lost agent and the node, what the
// agents sent before is kept (their raw files, merged), teardown finishes
// without the node, and once it is back (testbed-up) nothing of the stack is
// left on any node.
func TestTestbedGeneratorNodeLost(t *testing.T) {
	testbedAgentNodeLost(t, "stop", func(t *testing.T, _ string) { testbedUp(t) })
}

// TestTestbedGeneratorNodeSilent freezes that node instead (docker pause): its
// daemon and agents stop answering but close no connection, as a machine that
// hangs or drops off the network does. The pings that time out must find it,
// with the same outcome; the node is then thawed.
func TestTestbedGeneratorNodeSilent(t *testing.T) {
	testbedAgentNodeLost(t, "pause", func(t *testing.T, node string) {
		if out, err := exec.Command("docker", "-H", hostDocker, "unpause", node).CombinedOutput(); err != nil {
			t.Errorf("docker unpause: %v: %s", err, out)
		}
	})
}

// testbedAgentNodeLost runs the agents on runner-testbed-3, takes that node away
// mid-run with docker stop or pause (how), checks the outcome, brings the node
// back (restore) and checks that nothing is left on any node.
func testbedAgentNodeLost(t *testing.T, how string, restore func(t *testing.T, node string)) {
	tb := needTestbed(t)
	const victim = "runner-testbed-3"
	file := testbedStudy(t, tb, 1, 2, "node.hostname==runner-testbed-2", "node.hostname=="+victim, "{rate: 30/s, duration: 60s}")
	out := t.TempDir()
	back := false
	t.Cleanup(func() {
		if !back {
			restore(t, victim)
		}
	})
	began := time.Now()
	p := runnertest.Start(t, nil, append([]string{file, "--distribute-image", "--out", out}, tb.Flags...)...)
	p.WaitFor(6*time.Minute, "the load phase", runnertest.PhaseLine(1, "load"))
	waitAgents(t, tb.node(3), 2)
	time.Sleep(14 * time.Second) // the agents start 10s after their deployment: let them send a while
	args := []string{"-H", hostDocker, how}
	if how == "stop" {
		args = append(args, "--time", "1")
	}
	if out, err := exec.Command("docker", append(args, victim)...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s %s: %v: %s", how, victim, err, out)
	}
	stopped := time.Now()
	code := p.Wait(4 * time.Minute)
	t.Logf("runner exited %d, %s after docker %s %s (%s in all)", code, time.Since(stopped).Round(time.Second), how, victim, time.Since(began).Round(time.Second))
	t.Logf("runner stdout:\n%s\nstderr:\n%s", p.Out(), p.Stderr())
	if code != exitSLO {
		t.Fatalf("exit %d, want %d", code, exitSLO)
	}
	dir := onlyRun(t, out)
	testbedLeftovers(t, tb, dir, 1, 2)
	matches, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*", "outcome.json"))
	if len(matches) != 1 {
		t.Fatalf("outcomes %v", matches)
	}
	var o result.Outcome
	if err := result.ReadJSON(matches[0], &o); err != nil {
		t.Fatal(err)
	}
	t.Logf("outcome %s: %s", o.Status, o.Error)
	if o.Status != result.StatusFailed {
		t.Errorf("outcome %s, want failed", o.Status)
	}
	lost := " on node " + victim + ": swarm node " + victim + " (" + tb.node(3) + ") stopped answering mid-run"
	for _, agent := range []string{"_agent.1" + lost, "_agent.2" + lost} {
		if !strings.Contains(o.Error, agent) {
			t.Errorf("outcome error %q does not name %q", o.Error, agent)
		}
	}
	l := o.Load
	if len(l.Generators) != 2 {
		t.Fatalf("generators %+v, want both agents' results kept", l.Generators)
	}
	var total uint64
	for i, g := range l.Generators {
		total += g.Requests
		kept := measuredLatencies(t, filepath.Join(filepath.Dir(matches[0]), "generators", fmt.Sprintf("agent-%d.gob", i+1)))
		if g.Requests == 0 || g.Error == "" || g.Node != victim || uint64(len(kept)) != g.Requests {
			t.Errorf("agent %d: %+v, %d results in its file: want what it sent kept, its node and its error", i+1, g, len(kept))
		}
	}
	if total != l.Requests || l.Requests == 0 {
		t.Errorf("merged requests %d, the agents' sum %d", l.Requests, total)
	}
	t.Logf("kept %d requests (%d + %d) sent before docker %s %s", l.Requests, l.Generators[0].Requests, l.Generators[1].Requests, how, victim)
	restore(t, victim)
	back = true
	deadline := time.Now().Add(time.Minute)
	for len(testbedLeft(t, tb, dir, 3)) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	testbedLeftovers(t, tb, dir, 1, 2, 3)
}

// testbedUp starts again the test bed's nodes that stopped (testbed-up is
// idempotent), through the host's daemon.
func testbedUp(t *testing.T) {
	t.Helper()
	began := time.Now()
	cmd := exec.Command("bash", filepath.Join(runnertest.Root(t), "scripts", "testbed", "up.sh"), "3")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+hostDocker)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("testbed-up: %v: %s", err, out)
	}
	t.Logf("testbed-up took %s", time.Since(began).Round(time.Second))
}

// testbedLeft is what is left of run dir on node i.
func testbedLeft(t *testing.T, tb testbed, dir string, i int) []string {
	t.Helper()
	t.Setenv("DOCKER_HOST", tb.node(i))
	defer os.Setenv("DOCKER_HOST", tb.Manager)
	return dockertest.Leftovers(t, label.Run+"="+filepath.Base(dir))
}

// waitAgents waits until n load agents' containers run on the node at host.
func waitAgents(t *testing.T, host string, n int) {
	t.Helper()
	var out []byte
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		out, _ = exec.Command("docker", "-H", host, "ps", "--filter", "label=com.docker.swarm.service.name",
			"--format", `{{.Label "com.docker.swarm.service.name"}}`).Output()
		if strings.Count(string(out), "_agent\n") == n {
			return
		}
	}
	t.Fatalf("%d load agents do not run on %s: %s", n, host, out)
}
