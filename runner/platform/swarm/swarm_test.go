package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/platform/platformtest"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	rspec "github.com/infergrid/runner/runner/spec"
)

// testRun labels everything this test binary creates, for the leak checks.
var testRun = fmt.Sprintf("swarm-test-%d", os.Getpid())

// testImage and proxyImage are this binary's own, removed at the end (TestMain).
var testImage = fmt.Sprintf("infergrid-runner-testsvc:swarm-%d", os.Getpid())

var (
	imageOnce sync.Once
	imageErr  error
	// built lists the images this binary built, for TestMain to remove.
	built sync.Map
)

func TestMain(m *testing.M) {
	code := m.Run()
	built.Range(func(image, _ any) bool {
		if err := dockertest.RemoveImageNow(image.(string)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		return true
	})
	os.Exit(code)
}

// swarmPlatform returns a platform on a swarm for the test: the daemon's own
// swarm, or a single-node one it creates and leaves at cleanup, which also
// checks that the swarm state and the gateway bridge are as the test found them.
func swarmPlatform(t *testing.T, publish string) *Platform {
	t.Helper()
	dockertest.SwarmLock(t)
	imageOnce.Do(func() {
		dc, err := docker.New(context.Background())
		if err != nil {
			imageErr = err
			return
		}
		defer dc.Close()
		built.Store(testImage, true)
		imageErr = dc.BuildImage(context.Background(), platform.Build{Dir: "../testdata/testsvc", Image: testImage, RunID: testRun})
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	p := New(Options{Init: true, Publish: publish})
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := p.Prepare(t.Context(), platform.Build{Image: testImage, RunID: testRun}); err != nil {
		t.Fatal(err)
	}
	return p
}

type stackOpts struct {
	replicas int
	cpus     string
	memory   string
	env      map[string]string
	// constraints are placement constraints (the test bed's node labels).
	constraints []string
}

var seq struct {
	sync.Mutex
	n int
}

// stackSpec is a spec whose compose file is written by hand, as the template
// renders it for a swarm in host mode.
func stackSpec(t *testing.T, o stackOpts) platform.Spec {
	t.Helper()
	seq.Lock()
	seq.n++
	project := fmt.Sprintf("rswarm%d_%d", os.Getpid(), seq.n)
	seq.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "services:\n  svc:\n    image: %s\n", testImage)
	if len(o.env) > 0 {
		b.WriteString("    environment:\n")
		for k, v := range o.env {
			fmt.Fprintf(&b, "      %s: %q\n", k, v)
		}
	}
	b.WriteString("    ports:\n      - {target: 8000, protocol: tcp, mode: host}\n")
	fmt.Fprintf(&b, "    labels:\n      %s: \"true\"\n      %s: %q\n      %s: %q\n", label.Managed, label.Run, testRun, label.Project, project)
	fmt.Fprintf(&b, "    deploy:\n      replicas: %d\n      restart_policy: {condition: any, delay: 1s}\n", o.replicas)
	if len(o.constraints) > 0 {
		fmt.Fprintf(&b, "      placement:\n        constraints: [%s]\n", strings.Join(o.constraints, ", "))
	}
	if o.cpus != "" || o.memory != "" {
		b.WriteString("      resources:\n        limits:\n")
		if o.cpus != "" {
			fmt.Fprintf(&b, "          cpus: %q\n", o.cpus)
		}
		if o.memory != "" {
			fmt.Fprintf(&b, "          memory: %s\n", o.memory)
		}
	}
	fmt.Fprintf(&b, "      labels:\n        %s: \"true\"\n        %s: %q\n        %s: %q\n", label.Managed, label.Run, testRun, label.Project, project)
	fmt.Fprintf(&b, "networks:\n  default:\n    labels:\n      %s: \"true\"\n      %s: %q\n", label.Managed, label.Run, testRun)
	return platform.Spec{
		Project: project, RunID: testRun, ScenarioID: t.Name(), Dir: t.TempDir(),
		Compose: []byte(b.String()), Service: "svc", Port: 8000,
		Replicas: o.replicas, Health: "/health", HealthTimeout: 40 * time.Second,
	}
}

func up(t *testing.T, p *Platform, s platform.Spec) *Stack {
	t.Helper()
	st, err := p.Up(t.Context(), s)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := st.Down(ctx); err != nil {
			t.Errorf("Down in cleanup: %v", err)
		}
	})
	return st.(*Stack)
}

func assertGone(t *testing.T, s platform.Spec) {
	t.Helper()
	dockertest.NoLeftovers(t, label.Project+"="+s.Project)
	dockertest.NoLeftovers(t, docker.StackNamespace+"="+StackName(s.Project))
}

// TestDeployLimitsStatsDown deploys two replicas under limits and checks them
// where docker service inspect shows them, the host-mode endpoints, telemetry
// per task, and a teardown that leaves nothing.
func TestDeployLimitsStatsDown(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 2, cpus: "0.5", memory: "64M"})
	s.CPUs, s.MemoryBytes = 0.5, 64<<20
	st := up(t, p, s)

	out, err := exec.Command("docker", "service", "inspect", "--format", "{{json .Spec.TaskTemplate.Resources.Limits}}", st.name+"_svc").CombinedOutput()
	if err != nil {
		t.Fatalf("docker service inspect: %v: %s", err, out)
	}
	var limits struct{ NanoCPUs, MemoryBytes int64 }
	if err := json.Unmarshal(out, &limits); err != nil || limits.NanoCPUs != 500_000_000 || limits.MemoryBytes != 64<<20 {
		t.Errorf("service limits %s (%v), want 0.5 CPUs and 64MiB", out, err)
	}
	eps := st.Endpoints()
	if len(eps) != 2 || eps[0].URL == eps[1].URL || eps[0].Name != st.name+"_svc.1" || eps[1].Name != st.name+"_svc.2" {
		t.Fatalf("endpoints %+v, want one per task, on their own host ports", eps)
	}
	for _, ep := range eps {
		if !strings.HasPrefix(ep.URL, "http://127.0.0.1:") {
			t.Errorf("%s: %s, want the task's host port on 127.0.0.1", ep.Name, ep.URL)
		}
		resp, err := http.Get(ep.URL + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", ep.Name, resp, err)
		}
		resp.Body.Close()
	}
	samples, err := st.Sample(t.Context())
	if err != nil || len(samples) != 2 {
		t.Fatalf("samples %+v, %v: want one per task", samples, err)
	}
	for _, sm := range samples {
		if sm.MemLimitBytes != 64<<20 || sm.MemBytes == 0 {
			t.Errorf("sample %+v: want the task's memory under its 64MiB limit", sm)
		}
	}
	if got, err := os.ReadFile(filepath.Join(s.Dir, "compose.yml")); err != nil || string(got) != string(s.Compose) {
		t.Errorf("compose.yml not written as given: %v", err)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertGone(t, s)
	if err := st.Down(t.Context()); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

// TestTaskOOMKilledAndReplaced makes a task exceed its memory limit: the kernel
// kills it, the swarm starts another task in its slot, and the events say both,
// under the replica's name.
func TestTaskOOMKilledAndReplaced(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 1, memory: "32M"})
	s.MemoryBytes = 32 << 20
	st := up(t, p, s)
	resp, err := http.Post(st.Endpoints()[0].URL+"/alloc?mb=100", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
	replica := st.name + "_svc.1"
	deadline := time.Now().Add(30 * time.Second)
	for {
		tasks, err := p.manager().Tasks(t.Context(), st.name+"_svc")
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, tk := range tasks {
			if tk.Running() {
				running++
			}
		}
		if len(tasks) >= 2 && running == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replacement task after the OOM kill: %+v", tasks)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := monitor.Summarize(nil, st.Events(), false)
	if res.OOMKills != 1 || res.Restarts != 1 {
		t.Errorf("OOM kills %d, restarts %d, want 1 and 1; events %+v", res.OOMKills, res.Restarts, st.Events())
	}
	for _, ev := range st.Events() {
		if ev.Container != replica {
			t.Errorf("event %+v is not named by its replica %s", ev, replica)
		}
	}
	assertGone(t, s)
}

// TestTaskOOMKilledBeforeHealthy: a task that sits at its memory limit while it
// starts, then is OOM-killed before it answers. The stack is handed to
// Spec.Started once its task runs, so its readings at the limit are taken
// before Up fails, and the failure carries the OOM kill (an *UpError).
func TestTaskOOMKilledBeforeHealthy(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 1, memory: "32M", env: map[string]string{"HOLD_AT_LIMIT": "3s"}})
	s.MemoryBytes = 32 << 20
	samples := platformtest.SampleFromStart(t, &s, 200*time.Millisecond)
	_, err := p.Up(t.Context(), s)
	platformtest.OOMBeforeHealthy(t, err, "_svc.1 failed", samples, 32<<20)
	assertGone(t, s)
}

// TestFailingTaskIsNamed deploys a service that exits at start: Up fails naming
// the task, why, and its last log lines, and leaves nothing behind.
func TestFailingTaskIsNamed(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 1, env: map[string]string{"EXIT_AT_START": "3"}})
	_, err := p.Up(t.Context(), s)
	if err == nil {
		t.Fatal("Up succeeded with a service that exits at start")
	}
	for _, want := range []string{"task " + StackName(s.Project) + "_svc.1 failed", "non-zero exit (3)", "testsvc: exiting at start as asked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	assertGone(t, s)
}

// TestLimitsThatDidNotApply fails Up when the file lacks the limits the scenario
// asks for.
func TestLimitsThatDidNotApply(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 1})
	s.MemoryBytes = 64 << 20
	_, err := p.Up(t.Context(), s)
	if err == nil || !strings.Contains(err.Error(), "deploy.resources.limits.memory did not apply") {
		t.Fatalf("Up: %v, want the missing memory limit named", err)
	}
	assertGone(t, s)
}

// TestNoSwarmWithoutInit: a daemon outside a swarm is used only with Init.
func TestNoSwarmWithoutInit(t *testing.T) {
	if state, _ := dockertest.SwarmLock(t); state != "inactive" {
		t.Skipf("the daemon is in a swarm (%s); this test needs one outside any", state)
	}
	p := New(Options{})
	defer p.Close()
	err := p.Prepare(t.Context(), platform.Build{Image: testImage})
	if !errors.Is(err, platform.ErrUnavailable) || !strings.Contains(err.Error(), "--init-swarm") {
		t.Fatalf("Prepare: %v, want unavailable with a hint at --init-swarm", err)
	}
}

func TestReplicaName(t *testing.T) {
	for in, want := range map[string]string{
		"stack_app.1.yxi09tyta4rx7afaiplc90ub2": "stack_app.1",
		"stack_app.12.abc":                      "stack_app.12",
		"stack_app.1":                           "stack_app.1",
		"plain":                                 "plain",
		"a.b.c":                                 "a.b.c",
	} {
		if got := replicaName(in); got != want {
			t.Errorf("replicaName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStackName(t *testing.T) {
	short := "runner-92e5bf-pair-r2-cpu0_5-mem256m-client-u10s10"
	if got := StackName(short); got != short {
		t.Errorf("StackName(%q) = %q, want it unchanged", short, got)
	}
	long := "runner-92e5bf-memory-r1-cpu_unl-mem10g-client-u10000s500"
	long2 := "runner-92e5bf-memory-r1-cpu_unl-mem10g-client-u10000s5000"
	a, b := StackName(long), StackName(long2)
	if len(a)+1+len(render.BalancerService) > maxServiceName || a == b || !strings.HasPrefix(a, "runner-92e5bf-memory") {
		t.Errorf("StackName: %q and %q; want distinct names whose services fit in 63 characters", a, b)
	}
}

func TestDecidePublish(t *testing.T) {
	saved := ipvsPaths
	defer func() { ipvsPaths = saved }()
	dir := t.TempDir()
	ipvsPaths = []string{filepath.Join(dir, "ip_vs")}
	if got, _ := DecidePublish("auto"); got != render.PublishHost && !ipvs() {
		t.Errorf("auto without IPVS: %s, want host", got)
	}
	if err := os.WriteFile(ipvsPaths[0], nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := DecidePublish("auto"); got != render.PublishIngress {
		t.Errorf("auto with IPVS: %s, want ingress", got)
	}
	for _, m := range []string{"host", "ingress"} {
		if got, _ := DecidePublish(m); got != m {
			t.Errorf("%s: %s", m, got)
		}
	}
	if _, err := DecidePublish("mesh"); err == nil {
		t.Error("publish mode mesh accepted")
	}
	if n := publishNote("auto", render.PublishHost); !strings.Contains(n, "IPVS") {
		t.Errorf("the note for host mode chosen by auto does not say why: %s", n)
	}
}

// TestSampleEventsShape checks that Summarize reads the swarm's events as
// restarts of a replica (die of one task, start of the next).
func TestSampleEventsShape(t *testing.T) {
	now := time.Now()
	evs := []result.Event{
		{Time: now, Container: "s_app.1", Kind: result.EventStart},
		{Time: now.Add(time.Second), Container: "s_app.1", Kind: result.EventOOM},
		{Time: now.Add(time.Second), Container: "s_app.1", Kind: result.EventDie},
		{Time: now.Add(2 * time.Second), Container: "s_app.1", Kind: result.EventStart},
	}
	if r := monitor.Summarize(nil, evs, false); r.OOMKills != 1 || r.Restarts != 1 {
		t.Errorf("%+v", r)
	}
}

var proxyImage = fmt.Sprintf("infergrid-runner-proxy:swarmtest-%d", os.Getpid())

// TestBalancerProxy deploys the rendered swarm flavour of a proxy scenario: the
// proxy is the only endpoint, finds the tasks through tasks.app, spreads the
// requests over them, and its counters map to the tasks by name.
func TestBalancerProxy(t *testing.T) {
	p := swarmPlatform(t, "host")
	built.Store(proxyImage, true)
	if err := p.manager().BuildImage(t.Context(), platform.Build{Dir: "../../../cmd/proxy", Image: proxyImage, RunID: testRun}); err != nil {
		t.Fatal(err)
	}
	seq.Lock()
	seq.n++
	project := fmt.Sprintf("rswarm%d_proxy%d", os.Getpid(), seq.n)
	seq.Unlock()
	sc := rspec.Scenario{ID: "proxy-r2", Replicas: 2, CPUs: 0.5, MemoryBytes: 64 << 20, Image: testImage,
		Balancer: "proxy", Proxy: &rspec.Proxy{Policy: "round_robin", MemoryBytes: 64 << 20, Image: proxyImage},
		Service: rspec.Service{Port: 8000, Health: "/health"}}
	compose, err := render.Render(sc, render.Params{RunID: testRun, Project: project, Swarm: &render.Swarm{Publish: render.PublishHost}})
	if err != nil {
		t.Fatal(err)
	}
	s := platform.Spec{Project: project, RunID: testRun, ScenarioID: sc.ID, Dir: t.TempDir(), Compose: compose,
		Service: render.Service, Port: 8000, Replicas: 2, CPUs: 0.5, MemoryBytes: 64 << 20,
		Health: "/health", HealthTimeout: 60 * time.Second,
		Balancer: render.BalancerService, BalancerPort: render.BalancerPort, BalancerMemoryBytes: 64 << 20}
	st := up(t, p, s)
	eps := st.Endpoints()
	if len(eps) != 1 || eps[0].Name != st.BalancerName() || !strings.HasSuffix(eps[0].Name, "_balancer.1") {
		t.Fatalf("endpoints %+v, want the balancer alone", eps)
	}
	for range 40 {
		resp, err := http.Get(eps[0].URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ups, err := st.Upstreams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 || ups[0].Requests < 15 || ups[1].Requests < 15 || !strings.HasSuffix(ups[0].Name, "_app.1") || !strings.HasSuffix(ups[1].Name, "_app.2") {
		t.Errorf("upstreams %+v, want the 40 requests shared by the two tasks, named by replica", ups)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertGone(t, s)
}

// TestSideServiceSampled: a service of the template beside the one under test
// is sampled and its events carry the role side, as on compose; the replicas'
// do not.
func TestSideServiceSampled(t *testing.T) {
	p := swarmPlatform(t, "host")
	s := stackSpec(t, stackOpts{replicas: 1})
	side := fmt.Sprintf("  side:\n    image: %s\n    deploy:\n      replicas: 1\n      labels:\n        %s: %q\n", testImage, label.Project, s.Project)
	s.Compose = []byte(strings.Replace(string(s.Compose), "\nnetworks:\n", "\n"+side+"networks:\n", 1))
	st := up(t, p, s)
	replica, sideReplica := st.name+"_svc.1", st.name+"_side.1"
	roles := map[string]string{}
	for deadline := time.Now().Add(30 * time.Second); len(roles) < 2 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		samples, err := st.Sample(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range samples {
			roles[x.Container] = x.Role
		}
	}
	if roles[replica] != result.RoleReplica || roles[sideReplica] != result.RoleSide || len(roles) != 2 {
		t.Errorf("sampled %v, want %s as a replica and %s as a side service", roles, replica, sideReplica)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	evRoles := map[string]string{}
	for _, ev := range st.Events() {
		if ev.Kind == result.EventStart {
			evRoles[ev.Container] = ev.Role
		}
	}
	if r, ok := evRoles[sideReplica]; !ok || r != result.RoleSide || evRoles[replica] != "" {
		t.Errorf("start events by container and role %v, want %s's with role side and %s's without", evRoles, sideReplica, replica)
	}
	assertGone(t, s)
}

// TestSweepRemovesConfigs: runner clean (docker.Sweep) removes a stack's config
// (a balancer's generated config file) along with its services.
func TestSweepRemovesConfigs(t *testing.T) {
	p := swarmPlatform(t, "host")
	lbl := label.Run + "=" + testRun + "-sweep"
	cmd := exec.Command("docker", "config", "create", "--label", lbl, fmt.Sprintf("rswarm%d_cfg", os.Getpid()), "-")
	cmd.Stdin = strings.NewReader("global\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker config create: %v: %s", err, out)
	}
	f := docker.Filter{label.Run: testRun + "-sweep"}
	if left, err := p.manager().Leftovers(t.Context(), f); err != nil || len(left) != 1 || !strings.HasPrefix(left[0], "config ") {
		t.Fatalf("Leftovers %v, %v: want the config", left, err)
	}
	if err := p.manager().Sweep(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	dockertest.NoLeftovers(t, lbl)
}
