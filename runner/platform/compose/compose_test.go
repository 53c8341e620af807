package compose

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	"github.com/infergrid/runner/runner/result"
)

// testRun labels everything this test binary creates, for the leak check.
var testRun = fmt.Sprintf("compose-test-%d", os.Getpid())

// testImage and the proxy test's images are this binary's own, removed at the end.
var testImage = fmt.Sprintf("infergrid-runner-testsvc:compose-%d", os.Getpid())

func TestMain(m *testing.M) {
	code := m.Run()
	if dockerClient != nil {
		for _, image := range []string{testImage, inferenceImage, proxyImage} {
			if err := dockertest.RemoveImageNow(image); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		left, err := dockerClient.Leftovers(ctx, docker.Filter{label.Run: testRun})
		cancel()
		if err != nil || len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leak check: left behind %v (err %v)\n", left, err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	dockerOnce   sync.Once
	dockerClient *docker.Client
	dockerErr    error
)

// needDocker skips without a daemon, unless RUNNER_REQUIRE_DOCKER=1.
func needDocker(t testing.TB) *docker.Client {
	t.Helper()
	dockerOnce.Do(func() {
		dockerClient, dockerErr = docker.New(context.Background())
	})
	if dockerErr != nil {
		dockertest.Unavailable(t, dockerErr)
	}
	return dockerClient
}

// tools lists the compose tools on this host: docker-compose v1 and/or v2 (the
// plugin, or a v2 binary named by RUNNER_TEST_COMPOSE_V2). RUNNER_TEST_COMPOSE
// (e.g. "docker-compose") restricts the tests to one tool.
func tools(t testing.TB) []Tool {
	t.Helper()
	if only := strings.Fields(os.Getenv("RUNNER_TEST_COMPOSE")); len(only) > 0 {
		tool, err := Detect(t.Context(), only)
		if err != nil {
			t.Fatalf("RUNNER_TEST_COMPOSE=%s: %v", os.Getenv("RUNNER_TEST_COMPOSE"), err)
		}
		return []Tool{tool}
	}
	var out []Tool
	for _, c := range [][]string{{"docker", "compose"}, {"docker-compose"}, {os.Getenv("RUNNER_TEST_COMPOSE_V2")}} {
		if c[0] == "" {
			continue
		}
		if tool, err := Detect(t.Context(), c); err == nil && !slices.ContainsFunc(out, func(o Tool) bool { return o.V1 == tool.V1 }) {
			out = append(out, tool)
		}
	}
	if len(out) == 0 {
		t.Fatal("a Docker daemon answers but no compose tool is installed")
	}
	return out
}

var (
	prepOnce sync.Once
	prepErr  error
)

// prepared returns a platform for tool with the test service image built.
func prepared(t testing.TB, tool Tool) *Platform {
	t.Helper()
	needDocker(t)
	p := New(Options{Command: tool.Command})
	t.Cleanup(func() { p.Close() })
	prepOnce.Do(func() {
		prepErr = p.Prepare(context.Background(), platform.Build{Dir: "../testdata/testsvc", Image: testImage, RunID: testRun})
	})
	if prepErr != nil {
		t.Fatal(prepErr)
	}
	return p
}

var reserved struct {
	sync.Mutex
	ports map[int]bool
}

// freeRange finds n consecutive free TCP ports below the ephemeral range (where
// outgoing connections keep taking ports), never the same twice in this process.
func freeRange(t testing.TB, n int) int {
	t.Helper()
	reserved.Lock()
	defer reserved.Unlock()
	if reserved.ports == nil {
		reserved.ports = map[int]bool{}
	}
	for range 200 {
		base := 20000 + rand.IntN(12000-n)
		ok := true
		for p := base; ok && p < base+n; p++ {
			if reserved.ports[p] {
				ok = false
				break
			}
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			for p := base; p < base+n; p++ {
				reserved.ports[p] = true
			}
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

type composeOpts struct {
	replicas int
	cpus     string
	memory   string
	env      map[string]string
	network  string
	base     int
}

// composeFile writes the kind of file the template renders, by hand.
func composeFile(t testing.TB, project string, o composeOpts) []byte {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: \"3.8\"\nservices:\n  svc:\n    image: %s\n", testImage)
	if len(o.env) > 0 {
		b.WriteString("    environment:\n")
		for k, v := range o.env {
			fmt.Fprintf(&b, "      %s: %q\n", k, v)
		}
	}
	fmt.Fprintf(&b, "    ports: [\"%d-%d:8000\"]\n", o.base, o.base+o.replicas-1)
	fmt.Fprintf(&b, "    labels:\n      %s: \"true\"\n      %s: %q\n      %s: %q\n", label.Managed, label.Run, testRun, label.Project, project)
	fmt.Fprintf(&b, "    deploy:\n      replicas: %d\n", o.replicas)
	if o.cpus != "" || o.memory != "" {
		b.WriteString("      resources:\n        limits:\n")
		if o.cpus != "" {
			fmt.Fprintf(&b, "          cpus: %q\n", o.cpus)
		}
		if o.memory != "" {
			fmt.Fprintf(&b, "          memory: %s\n", o.memory)
		}
	}
	if o.network != "" {
		fmt.Fprintf(&b, "    networks: [shared]\nnetworks:\n  shared:\n    external: true\n    name: %s\n", o.network)
	}
	return []byte(b.String())
}

var projectSeq struct {
	sync.Mutex
	n int
}

func spec(t testing.TB, o composeOpts) platform.Spec {
	t.Helper()
	projectSeq.Lock()
	projectSeq.n++
	project := fmt.Sprintf("rtest%d_%d", os.Getpid(), projectSeq.n)
	projectSeq.Unlock()
	if o.replicas == 0 {
		o.replicas = 1
	}
	o.base = freeRange(t, o.replicas)
	return platform.Spec{
		Project: project, RunID: testRun, ScenarioID: t.Name(), Dir: t.TempDir(),
		Compose: composeFile(t, project, o), Service: "svc", Port: 8000,
		Replicas: o.replicas, Health: "/health", HealthTimeout: 20 * time.Second, Network: o.network,
	}
}

// up brings s up with a Down registered in t.Cleanup.
func up(t testing.TB, p *Platform, s platform.Spec) *Stack {
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

func assertGone(t testing.TB, dc *docker.Client, project string) {
	t.Helper()
	for _, f := range []docker.Filter{{docker.ComposeProject: project}, {label.Project: project}} {
		left, err := dc.Leftovers(context.Background(), f)
		if err != nil || len(left) > 0 {
			t.Errorf("after Down, %v is left (err %v)", left, err)
		}
	}
}

func post(t testing.TB, url string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
}

func TestUpLimitsPortsStatsDown(t *testing.T) {
	dc := needDocker(t)
	for _, tool := range tools(t) {
		t.Run(tool.String(), func(t *testing.T) {
			t.Parallel()
			p := prepared(t, tool)
			s := spec(t, composeOpts{replicas: 2, cpus: "0.5", memory: "64M"})
			s.CPUs, s.MemoryBytes = 0.5, 64<<20
			start := time.Now()
			st := up(t, p, s)
			t.Logf("%s: up and healthy in %s", tool, time.Since(start).Round(time.Millisecond))

			if got, err := os.ReadFile(filepath.Join(s.Dir, "compose.yml")); err != nil || string(got) != string(s.Compose) {
				t.Errorf("compose.yml not written as given: %v", err)
			}
			eps := st.Endpoints()
			if len(eps) != 2 || eps[0].URL == eps[1].URL {
				t.Fatalf("endpoints %v: want 2 distinct", eps)
			}
			if start, healthy := st.UpTimes(); start <= 0 || healthy <= 0 {
				t.Errorf("UpTimes = %s, %s", start, healthy)
			}
			for _, c := range st.Containers() {
				out, err := exec.Command("docker", "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", c.ID).CombinedOutput()
				if got := strings.TrimSpace(string(out)); err != nil || got != "67108864 500000000" {
					t.Errorf("docker inspect %s: %q (err %v), want memory 67108864 and NanoCpus 500000000", c.Name, got, err)
				}
			}
			// The first Sample waits for two readings; readings after it see the burn.
			if _, err := st.Sample(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, ep := range eps {
				post(t, ep.URL+"/burn?ms=600")
			}
			// The daemon collects once a second: wait for readings taken after the burn.
			var samples []result.Sample
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				var err error
				samples, err = st.Sample(t.Context())
				if err != nil || len(samples) != 2 {
					t.Fatalf("Sample: %d samples, err %v", len(samples), err)
				}
				if samples[0].CPUPct > 0 && samples[1].CPUPct > 0 {
					break
				}
			}
			for _, x := range samples {
				if x.MemBytes <= 0 || x.MemLimitBytes != 64<<20 || x.PIDs == 0 || x.CPUPct <= 0 || x.NetRxBytes == 0 {
					t.Errorf("sample %+v: want memory, 64Mi limit, pids, CPU and rx > 0", x)
				}
			}
			dctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start = time.Now()
			if err := st.Down(dctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: down in %s", tool, time.Since(start).Round(time.Millisecond))
			if err := st.Down(dctx); err != nil {
				t.Errorf("second Down: %v", err)
			}
			assertGone(t, dc, s.Project)
			starts := 0
			for _, ev := range st.Events() {
				if ev.Kind == result.EventStart {
					starts++
				}
			}
			if starts != 2 {
				t.Errorf("events %+v: want 2 start events", st.Events())
			}
		})
	}
}

func TestOOMKillRecorded(t *testing.T) {
	t.Parallel()
	dc := needDocker(t)
	tool := tools(t)[0]
	p := prepared(t, tool)
	s := spec(t, composeOpts{replicas: 1, memory: "24M"})
	st := up(t, p, s)
	post(t, st.Endpoints()[0].URL+"/alloc?mb=200")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := dc.Inspect(t.Context(), st.Containers()[0].ID)
		if err == nil && !c.Running {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A dead replica gives no sample, and no error.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	samples, err := st.Sample(ctx)
	cancel()
	if len(samples) != 0 || err != nil {
		t.Errorf("Sample after the OOM kill: %+v, %v; want nothing", samples, err)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ooms, dies int
	for _, ev := range st.Events() {
		switch ev.Kind {
		case result.EventOOM:
			ooms++
		case result.EventDie:
			dies++
			if ev.ExitCode == nil || *ev.ExitCode != 137 {
				t.Errorf("die event %+v: want exit code 137", ev)
			}
		}
	}
	t.Logf("events: %+v", st.Events())
	if sum := monitor.Summarize(nil, st.Events(), false); sum.OOMKills != 1 || sum.Restarts != 0 {
		t.Errorf("summary %+v: want 1 OOM kill, no restart", sum)
	}
	if ooms < 1 || dies < 1 {
		t.Errorf("events %+v: want an oom and a die with 137", st.Events())
	}
	assertGone(t, dc, s.Project)
}

// TestSampledFromStartOOMBeforeHealthy: a replica that sits at its memory limit
// while it starts and is OOM-killed before it answers. Spec.Started hands over
// the stack as soon as its container exists, so its readings at the limit are
// taken before Up fails; the failure carries the OOM kill; once Up failed, the
// stack gives no more samples.
func TestSampledFromStartOOMBeforeHealthy(t *testing.T) {
	t.Parallel()
	dc := needDocker(t)
	p := prepared(t, tools(t)[0])
	s := spec(t, composeOpts{memory: "24M", env: map[string]string{"HOLD_AT_LIMIT": "3s"}})
	samples := platformtest.SampleFromStart(t, &s, 200*time.Millisecond)
	_, err := p.Up(t.Context(), s)
	platformtest.OOMBeforeHealthy(t, err, "OOM-killed (exit code 137)", samples, 24<<20)
	assertGone(t, dc, s.Project)
}

func TestUpFailures(t *testing.T) {
	t.Parallel()
	dc := needDocker(t)
	tool := tools(t)[0]
	p := prepared(t, tool)
	tests := []struct {
		name string
		opts composeOpts
		// hold takes the published port before Up.
		hold bool
		// cpus and memory are put in the Spec (not in the compose file).
		cpus   float64
		memory int64
		want   []string
	}{
		{name: "replica exits at start", opts: composeOpts{replicas: 2, env: map[string]string{"EXIT_AT_START": "3"}},
			want: []string{"exited before becoming healthy: exit code 3", "testsvc: exiting at start as asked, code 3"}},
		{name: "never healthy", opts: composeOpts{env: map[string]string{"UNHEALTHY": "1"}},
			want: []string{"did not become healthy", "status 503", "testsvc listening on :8000"}},
		{name: "port taken", opts: composeOpts{}, hold: true, want: []string{"cannot start project", "address already in use"}},
		{name: "limits missing from the file", opts: composeOpts{}, cpus: 1, memory: 64 << 20,
			want: []string{"runs with a memory limit of 0 bytes, want 67108864"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := spec(t, tt.opts)
			s.HealthTimeout = 2 * time.Second
			s.CPUs, s.MemoryBytes = tt.cpus, tt.memory
			if tt.hold {
				l, err := net.Listen("tcp", fmt.Sprintf(":%d", tt.opts.base+freeRangeBase(s)))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
			}
			st, err := p.Up(t.Context(), s)
			if err == nil {
				st.Down(context.Background())
				t.Fatal("Up succeeded")
			}
			t.Logf("Up error:\n%v", err)
			if got := errors.Is(err, platform.ErrPortsTaken); got != tt.hold {
				t.Errorf("errors.Is(err, ErrPortsTaken) = %v, want %v", got, tt.hold)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			assertGone(t, dc, s.Project)
		})
	}
}

// freeRangeBase reads back the first host port of s's compose file.
func freeRangeBase(s platform.Spec) int {
	var base, end int
	i := strings.Index(string(s.Compose), "ports: [\"")
	fmt.Sscanf(string(s.Compose[i+len("ports: [\""):]), "%d-%d", &base, &end)
	return base
}

func TestExternalNetwork(t *testing.T) {
	t.Parallel()
	dc := needDocker(t)
	tool := tools(t)[0]
	p := prepared(t, tool)
	netName := fmt.Sprintf("rtest%d_shared", os.Getpid())

	// Missing: created by Up, removed by Down.
	s := spec(t, composeOpts{network: netName})
	st := up(t, p, s)
	if left, _ := dc.Leftovers(t.Context(), docker.Filter{label.Project: s.Project}); !slices.Contains(left, "network "+netName) {
		t.Errorf("network %s not created with labels: %v", netName, left)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", "network", "inspect", netName).Run(); err == nil {
		t.Errorf("network %s still exists after Down", netName)
	}

	// Existing: kept.
	if _, err := dc.EnsureNetwork(t.Context(), netName, "bridge", map[string]string{label.Managed: "true", label.Run: testRun}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.RemoveNetwork(context.Background(), netName) })
	s = spec(t, composeOpts{network: netName})
	st = up(t, p, s)
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", "network", "inspect", netName).Run(); err != nil {
		t.Errorf("network %s that existed before was removed", netName)
	}
}

func TestUnavailable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	p := New(Options{})
	defer p.Close()
	err := p.Prepare(t.Context(), platform.Build{Image: "x:y"})
	if !errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("Prepare without daemon: %v, want ErrUnavailable", err)
	}
	if _, err := Detect(t.Context(), []string{"no-such-compose-tool"}); !errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("Detect of a missing tool: %v, want ErrUnavailable", err)
	}
}

func TestProjectName(t *testing.T) {
	tests := map[string]string{"workshop5-memory_r1": "workshop5-memory_r1", "Workshop.5 Run": "workshop5run", "-_x": "x", "ÄBC": "bc"}
	for in, want := range tests {
		if got := ProjectName(in); got != want {
			t.Errorf("ProjectName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInvalidSpec(t *testing.T) {
	_, err := New(Options{}).Up(t.Context(), platform.Spec{Project: "p"})
	if err == nil || !strings.Contains(err.Error(), "no compose file") || !strings.Contains(err.Error(), "no service port") {
		t.Fatalf("Up of an empty spec: %v", err)
	}
}

func TestPrepareMissingImage(t *testing.T) {
	t.Parallel()
	needDocker(t)
	p := New(Options{})
	defer p.Close()
	err := p.Prepare(t.Context(), platform.Build{Image: "infergrid-runner-missing:none"})
	if err == nil || !strings.Contains(err.Error(), "does not exist and no build folder") {
		t.Fatalf("Prepare of a missing image: %v", err)
	}
	err = p.Prepare(t.Context(), platform.Build{Image: "infergrid-runner-x:y", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no Dockerfile and is not a Go main package") {
		t.Fatalf("Prepare of an empty dir: %v", err)
	}
}

// TestCancelDuringUp is Ctrl-C while the stack comes up: Up returns the
// cancellation and leaves nothing behind.
func TestCancelDuringUp(t *testing.T) {
	t.Parallel()
	dc := needDocker(t)
	p := prepared(t, tools(t)[0])
	s := spec(t, composeOpts{replicas: 2, env: map[string]string{"UNHEALTHY": "1"}})
	s.HealthTimeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	st, err := p.Up(ctx, s)
	if err == nil {
		st.Down(context.Background())
		t.Fatal("Up of a never-healthy stack succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "signal: killed") {
		t.Errorf("Up error %v: want the cancellation", err)
	}
	assertGone(t, dc, s.Project)
}

// TestAddressContainer reaches the replicas at their container addresses, past
// Docker's userland proxy, which stops for good when it runs out of file
// descriptors (two per proxied connection).
func TestAddressContainer(t *testing.T) {
	t.Parallel()
	needDocker(t)
	p := prepared(t, tools(t)[0])
	s := spec(t, composeOpts{replicas: 2})
	s.Address = platform.AddressContainer
	st := up(t, p, s) // Up waits for health at those addresses
	eps := st.Endpoints()
	if len(eps) != 2 || eps[0].URL == eps[1].URL {
		t.Fatalf("endpoints %v: want 2 distinct", eps)
	}
	for _, ep := range eps {
		if strings.Contains(ep.URL, "127.0.0.1") || !strings.HasSuffix(ep.URL, ":8000") {
			t.Errorf("endpoint %s: want the container's address and port 8000", ep.URL)
		}
	}
}
