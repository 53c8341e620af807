package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/spec"
)

// These tests run the configs BalancerConfig generates with Debian's haproxy (2.6)
// and nginx (1.22) binaries as processes: no HAProxy or nginx image exists on the
// machines the runner is developed on, so a stack cannot run them. CI installs
// the packages (.ci/setup).

// lookBinary returns the path of name, or skips (fails with RUNNER_REQUIRE_DOCKER=1,
// which CI sets and where .ci/setup installs the packages).
func lookBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("RUNNER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("%s is not installed and RUNNER_REQUIRE_DOCKER=1 (apt-get install %s; .ci/setup does)", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s): the generated %s config is not checked", name, pkg, name)
	}
	return p
}

func testBalancerData(policy string, swarm bool) BalancerData {
	d := BalancerData{Service: BalancerService, Image: "haproxy:2.6", Port: BalancerPort, Policy: policy,
		Upstream: Service + ":8000", Health: "/health"}
	if swarm {
		d.Upstream = "tasks." + d.Upstream
	}
	return d
}

// TestBalancerConfigsCheck runs the binaries' own config checks on every flavour
// the runner generates (both policies, compose and swarm).
func TestBalancerConfigsCheck(t *testing.T) {
	for _, kind := range []string{spec.ProxyHAProxy, spec.ProxyNginx} {
		for _, policy := range spec.ProxyPolicies {
			for _, swarm := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/swarm=%v", kind, policy, swarm), func(t *testing.T) {
					d := testBalancerData(policy, swarm)
					cfg, err := BalancerConfig(kind, d, 3, swarm)
					if err != nil {
						t.Fatal(err)
					}
					dir := t.TempDir()
					file := filepath.Join(dir, "balancer.cfg")
					if err := os.WriteFile(file, cfg, 0o644); err != nil {
						t.Fatal(err)
					}
					if kind == spec.ProxyHAProxy {
						check(t, exec.Command(lookBinary(t, "haproxy", "haproxy"), "-c", "-f", file))
						return
					}
					nginx := lookBinary(t, "nginx", "nginx-light")
					// nginx resolves the upstream's name while it checks the file;
					// outside a container app and tasks.app resolve only in a mount
					// namespace with its own /etc/hosts (root, unshare). Else the
					// config is checked with the upstream at a fixed address.
					unshare, err := exec.LookPath("unshare")
					if os.Geteuid() != 0 || err != nil {
						t.Logf("not root or no unshare: checking the config with a fixed upstream address instead of %s", d.Upstream)
						cfg, err := balancerConfig(kind, d, 3, swarm, configEnv{Static: []string{"127.0.0.1:8000"}, RunDir: dir})
						if err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(file, cfg, 0o644); err != nil {
							t.Fatal(err)
						}
						check(t, exec.Command(nginx, "-t", "-q", "-e", "stderr", "-c", file))
						return
					}
					hosts := filepath.Join(dir, "hosts")
					if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost app tasks.app\n"), 0o644); err != nil {
						t.Fatal(err)
					}
					check(t, exec.Command(unshare, "--mount", "sh", "-c", `mount --bind "$1" /etc/hosts && exec "$2" -t -q -e stderr -c "$3"`,
						"sh", hosts, nginx, file))
				})
			}
		}
	}
}

// check runs a config check with a bounded time and fails with its output.
func check(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	if bytes.Contains(out, []byte("[WARNING]")) {
		t.Errorf("%s warns:\n%s", strings.Join(cmd.Args, " "), out)
	}
}

// backend is a replica stand-in that counts the requests it serves, its health
// checks aside.
type backend struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		b.hits.Add(1)
		io.WriteString(w, "hello")
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBalancer runs a config of kind in the foreground on loopback port with
// backends as static upstreams, and returns its base URL once /proxy/health
// answers 200 with every backend counted (HAProxy's ?min). It is killed at the
// test's end.
func startBalancer(t *testing.T, kind, policy string, backends []*backend) string {
	t.Helper()
	var static []string
	for _, b := range backends {
		static = append(static, b.srv.Listener.Addr().String())
	}
	dir := t.TempDir()
	port := freePort(t)
	d := testBalancerData(policy, false)
	d.Port = port
	cfg, err := balancerConfig(kind, d, len(backends), false, configEnv{Static: static, RunDir: dir, Listen: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "balancer.cfg")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch kind {
	case spec.ProxyHAProxy:
		cmd = exec.Command(lookBinary(t, "haproxy", "haproxy"), "-db", "-f", file)
	case spec.ProxyNginx:
		cmd = exec.Command(lookBinary(t, "nginx", "nginx-light"), "-e", "stderr", "-g", "daemon off;", "-c", file)
	}
	exited := runBalancer(t, cmd)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	health := fmt.Sprintf("%s/proxy/health?min=%d", base, len(backends))
	waitStatus(t, health, http.StatusOK, exited)
	return base
}

func processGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// stopGroup stops a balancer started in its own process group: SIGTERM stops
// HAProxy and nginx at once, nginx's master taking its workers along (they would
// outlive a killed master); SIGKILL to the group if not. It shows the output of a
// failed test.
func stopGroup(t *testing.T, cmd *exec.Cmd, exited <-chan error, out *syncBuffer) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Errorf("%s (pid %d) did not exit on SIGTERM within 10s; killed its process group", cmd.Args[0], cmd.Process.Pid)
		<-exited
	}
	if t.Failed() {
		t.Logf("%s output:\n%s", filepath.Base(cmd.Args[0]), out.String())
	}
}

// TestBalancerProcesses runs HAProxy and nginx with generated configs in front of
// two backends: requests go to both (evenly for round_robin), /proxy/health
// answers, and HAProxy's stats CSV counts what each backend served.
func TestBalancerProcesses(t *testing.T) {
	const n = 40
	for _, kind := range []string{spec.ProxyHAProxy, spec.ProxyNginx} {
		for _, policy := range spec.ProxyPolicies {
			t.Run(kind+"/"+policy, func(t *testing.T) {
				backends := []*backend{newBackend(t), newBackend(t)}
				base := startBalancer(t, kind, policy, backends)
				client := &http.Client{Timeout: 10 * time.Second}
				for i := range n {
					resp, err := client.Get(base + "/predict")
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || string(body) != "hello" {
						t.Fatalf("request %d: %s %q", i, resp.Status, body)
					}
				}
				a, b := backends[0].hits.Load(), backends[1].hits.Load()
				t.Logf("%s %s: the backends served %d and %d requests", kind, policy, a, b)
				if a+b != n || a == 0 || b == 0 {
					t.Errorf("backends served %d and %d of %d requests; want both some", a, b, n)
				}
				// One keep-alive connection, one request at a time: round-robin
				// alternates (nginx's workers each keep their own turn, and one
				// connection stays with one worker).
				if policy == "round_robin" && (a-b > n/10 || b-a > n/10) {
					t.Errorf("round_robin: backends served %d and %d of %d requests; want within 10%% of even", a, b, n)
				}
				resp, err := client.Get(base + "/proxy/health")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("/proxy/health: %s", resp.Status)
				}
				if t.Failed() {
					return
				}
				defer func() {
					// A backend that goes away mid-run: the balancer retries what
					// it refuses on the other one (HAProxy's retries and
					// redispatch, nginx's proxy_next_upstream).
					backends[1].srv.Close()
					before := backends[0].hits.Load()
					for i := range n / 2 {
						resp, err := client.Get(base + "/predict")
						if err != nil {
							t.Fatalf("after a backend stopped, request %d: %v", i, err)
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							t.Errorf("after a backend stopped, request %d: %s", i, resp.Status)
						}
					}
					if got := backends[0].hits.Load() - before; got != n/2 {
						t.Errorf("after a backend stopped, the other served %d of %d requests", got, n/2)
					}
				}()
				if kind == spec.ProxyNginx {
					resp, err := client.Get(base + "/proxy/stats")
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("nginx /proxy/stats: %s, want 404 (no per-upstream counts)", resp.Status)
					}
					return
				}
				resp, err = client.Get(base + "/proxy/health?min=3")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("/proxy/health?min=3 with 2 backends: %s, want 503", resp.Status)
				}
				stats, err := proxy.FetchHAProxyStats(t.Context(), base)
				if err != nil {
					t.Fatal(err)
				}
				if stats.Policy != policy {
					t.Errorf("stats policy %q, want %q", stats.Policy, policy)
				}
				got := map[string]uint64{}
				for _, u := range stats.Upstreams {
					got[u.Address] = u.Requests
					if u.State != proxy.StateUp {
						t.Errorf("upstream %s is %s, want up", u.Address, u.State)
					}
				}
				want := map[string]uint64{}
				for _, b := range backends {
					want[b.srv.Listener.Addr().String()] = uint64(b.hits.Load())
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("HAProxy counts per upstream %v, the backends counted %v", got, want)
				}
			})
		}
	}
}

// TestBalancerConfigErrors covers what BalancerConfig refuses.
func TestBalancerConfigErrors(t *testing.T) {
	d := testBalancerData("round_robin", false)
	for _, c := range []struct {
		name, kind string
		edit       func(*BalancerData)
		replicas   int
		want       string
	}{
		{"kind", "envoy", func(*BalancerData) {}, 1, `not "envoy"`},
		{"policy", spec.ProxyHAProxy, func(d *BalancerData) { d.Policy = "random" }, 1, `policy "random"`},
		{"health", spec.ProxyHAProxy, func(d *BalancerData) { d.Health = "/health check" }, 1, `health path "/health check"`},
		{"upstream", spec.ProxyNginx, func(d *BalancerData) { d.Upstream = "app" }, 1, `upstream "app"`},
		{"replicas", spec.ProxyNginx, func(*BalancerData) {}, 0, "at least one replica"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := d
			c.edit(&d)
			_, err := BalancerConfig(c.kind, d, c.replicas, false)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
