package swarm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/result"
)

// The tests on the multi-node test bed (make testbed-up N=3) run when
// RUNNER_TESTBED names the file testbed-up wrote (/tmp/runner-testbed/env), or
// is 1 for that default. They never make the host's daemon join a swarm.

// testbed is the test bed, its nodes as the platform's.
type testbed struct {
	manager string
	nodes   []Node // runner-testbed-1 (manager, load), -2 and -3 (sut)
}

func needTestbed(t *testing.T) testbed {
	t.Helper()
	bed := dockertest.NeedTestbed(t)
	tb := testbed{manager: bed.Manager}
	for _, n := range bed.Nodes {
		tb.nodes = append(tb.nodes, Node{Name: n.Name, DockerHost: n.DockerHost})
	}
	return tb
}

// testbedPlatform builds the test service on the manager and opens the platform
// with every node's API and --distribute-image, after removing the image from
// the other nodes, so that Prepare must copy it.
func testbedPlatform(t *testing.T, tb testbed) *Platform {
	t.Helper()
	dc, err := docker.New(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if err := dc.BuildImage(t.Context(), platform.Build{Dir: "../testdata/testsvc", Image: testImage, RunID: testRun}); err != nil {
		t.Fatal(err)
	}
	for _, n := range tb.nodes[1:] {
		exec.Command("docker", "-H", n.DockerHost, "rmi", "-f", testImage).Run()
	}
	p := New(Options{Nodes: tb.nodes, DistributeImage: true, Publish: "host"})
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := p.Prepare(t.Context(), platform.Build{Image: testImage, RunID: testRun}); err != nil {
		t.Fatal(err)
	}
	for _, n := range tb.nodes {
		if out, err := exec.Command("docker", "-H", n.DockerHost, "image", "inspect", testImage).CombinedOutput(); err != nil {
			t.Fatalf("node %s has no %s after --distribute-image: %v: %s", n.Name, testImage, err, out)
		}
	}
	return p
}

// nodeLeftovers checks every reachable node for anything of s.
func nodeLeftovers(t *testing.T, tb testbed, s platform.Spec, skip string) {
	t.Helper()
	for _, n := range tb.nodes {
		if n.Name == skip {
			continue
		}
		dc, err := docker.NewAt(t.Context(), n.DockerHost)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []docker.Filter{{label.Project: s.Project}, {docker.StackNamespace: StackName(s.Project)}} {
			if left, err := dc.Leftovers(t.Context(), f); err != nil || len(left) > 0 {
				t.Errorf("node %s: left after Down: %v %v", n.Name, left, err)
			}
		}
		dc.Close()
	}
}

// TestTestbedSpreadOnSUTNodes deploys 2 replicas constrained to the sut nodes:
// one task on each, reached at its node's address, limits in each node's stats,
// an OOM kill on one node seen through that node's API, nothing left on any node.
func TestTestbedSpreadOnSUTNodes(t *testing.T) {
	tb := needTestbed(t)
	p := testbedPlatform(t, tb)
	s := stackSpec(t, stackOpts{replicas: 2, cpus: "0.5", memory: "48M", constraints: []string{"node.labels.runner.role==sut"}})
	s.CPUs, s.MemoryBytes = 0.5, 48<<20
	st := up(t, p, s)

	hosts := map[string]bool{}
	for _, ep := range st.Endpoints() {
		u, _ := url.Parse(ep.URL)
		hosts[u.Hostname()] = true
		resp, err := http.Get(ep.URL + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s at %s: %v %v", ep.Name, ep.URL, resp, err)
		}
		resp.Body.Close()
	}
	var want []string
	for _, n := range tb.nodes[1:] {
		u, _ := url.Parse(n.DockerHost)
		want = append(want, u.Hostname())
	}
	for _, h := range want {
		if !hosts[h] {
			t.Errorf("endpoints %+v: none on sut node %s", st.Endpoints(), h)
		}
	}
	var samples []result.Sample
	for deadline := time.Now().Add(10 * time.Second); len(samples) < 2 && time.Now().Before(deadline); {
		var err error
		if samples, err = st.Sample(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if len(samples) != 2 {
		t.Fatalf("samples %+v: want one per task, one from each sut node's API", samples)
	}
	for _, sm := range samples {
		if sm.MemLimitBytes != 48<<20 {
			t.Errorf("sample %+v: want the 48MiB limit as the node's kernel enforces it", sm)
		}
	}
	resp, err := http.Post(st.Endpoints()[0].URL+"/alloc?mb=100", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
	replica := st.Endpoints()[0].Name
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if slices.ContainsFunc(st.Events(), func(ev result.Event) bool { return ev.Kind == result.EventOOM }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OOM event from %s's node; events %+v", replica, st.Events())
		}
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := monitor.Summarize(nil, st.Events(), false)
	if res.OOMKills != 1 {
		t.Errorf("OOM kills %d, want 1; events %+v", res.OOMKills, st.Events())
	}
	for _, ev := range st.Events() {
		if ev.Kind == result.EventOOM && ev.Container != replica {
			t.Errorf("OOM event %+v, want it named %s", ev, replica)
		}
	}
	nodeLeftovers(t, tb, s, "")
}

// TestTestbedNodeStopped stops a sut node mid-run: sampling fails naming the
// node and its task, the task's fate is an event, teardown finishes without the
// node, and once the node is back (testbed-up) nothing of the stack is left on it.
func TestTestbedNodeStopped(t *testing.T) {
	tb := needTestbed(t)
	p := testbedPlatform(t, tb)
	s := stackSpec(t, stackOpts{replicas: 2, constraints: []string{"node.labels.runner.role==sut"}})
	st := up(t, p, s)
	victim := tb.nodes[2]
	t.Cleanup(func() {
		cmd := exec.Command("bash", "../../../scripts/testbed/up.sh", "3")
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///var/run/docker.sock")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("testbed-up after the test: %v: %s", err, out)
		}
	})
	if out, err := exec.Command("docker", "-H", "unix:///var/run/docker.sock", "stop", "--time", "1", victim.Name).CombinedOutput(); err != nil {
		t.Fatalf("docker stop %s: %v: %s", victim.Name, err, out)
	}
	var err error
	for deadline := time.Now().Add(40 * time.Second); err == nil && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		_, err = st.Sample(t.Context())
	}
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "swarm node "+victim.Name) {
		t.Fatalf("Sample after stopping %s: %v, want it named", victim.Name, err)
	}
	t.Logf("Sample after %s stopped: %v", victim.Name, err)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if err := st.Down(ctx); err != nil {
		t.Fatalf("Down without %s: %v", victim.Name, err)
	}
	if !slices.ContainsFunc(st.Events(), func(ev result.Event) bool {
		return ev.Kind == result.EventPlatform && strings.Contains(ev.Message, "swarm node "+victim.Name+" stopped answering")
	}) {
		t.Errorf("no event records the fate of the task on %s: %+v", victim.Name, st.Events())
	}
	for _, ev := range st.Events() {
		t.Logf("event %s %s %s", ev.Kind, ev.Container, ev.Message)
	}
	nodeLeftovers(t, tb, s, victim.Name)
}
