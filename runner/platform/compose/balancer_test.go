package compose

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	rspec "github.com/infergrid/runner/runner/spec"
)

var (
	inferenceImage = fmt.Sprintf("infergrid-runner-inference:proxytest-%d", os.Getpid())
	proxyImage     = fmt.Sprintf("infergrid-runner-proxy:proxytest-%d", os.Getpid())
)

var (
	proxyPrepOnce sync.Once
	proxyPrepErr  error
)

// preparedProxy returns a platform with the inference service and the proxy
// images built once per test binary (labelled with testRun).
func preparedProxy(t *testing.T, tool Tool) *Platform {
	t.Helper()
	needDocker(t)
	p := New(Options{Command: tool.Command})
	t.Cleanup(func() { p.Close() })
	proxyPrepOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		proxyPrepErr = p.Prepare(ctx, platform.Build{Dir: "../../../cmd/inference", Image: inferenceImage, RunID: testRun,
			ProxyDir: "../../../cmd/proxy", ProxyImage: proxyImage})
	})
	if proxyPrepErr != nil {
		t.Fatal(proxyPrepErr)
	}
	return p
}

// TestProxyBalancerSpreadsRequests brings up 3 replicas of cmd/inference behind
// the proxy with every compose tool, sends a bounded load through the proxy, and
// checks that round-robin gave every replica within 10% of a third, that the
// balancer is sampled apart from the replicas, and that nothing is left.
func TestProxyBalancerSpreadsRequests(t *testing.T) {
	dockertest.Require(t)
	body, err := os.ReadFile("../../../inference/testdata/predict.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools(t) {
		t.Run(tool.String(), func(t *testing.T) {
			p := preparedProxy(t, tool)
			projectSeq.Lock()
			projectSeq.n++
			project := fmt.Sprintf("rtest%d_proxy%d", os.Getpid(), projectSeq.n)
			projectSeq.Unlock()
			sc := rspec.Scenario{ID: "proxy-r3", Replicas: 3, CPUs: 0.5, MemoryBytes: 128 << 20, Image: inferenceImage,
				Balancer: "proxy", Proxy: &rspec.Proxy{Policy: proxy.RoundRobin, CPUs: 0.5, MemoryBytes: 64 << 20, Image: proxyImage},
				Service: rspec.Service{Port: 8000, Health: "/health", Env: map[string]string{"INFERENCE_LOG_LEVEL": "warn"}}}
			port := freeRange(t, 1)
			compose, err := render.Render(sc, render.Params{RunID: testRun, Project: project, Ports: rspec.PortRange{Lo: port, Hi: port}})
			if err != nil {
				t.Fatal(err)
			}
			s := platform.Spec{Project: project, RunID: testRun, ScenarioID: sc.ID, Dir: t.TempDir(), Compose: compose,
				Service: render.Service, Port: 8000, Replicas: 3, CPUs: 0.5, MemoryBytes: 128 << 20,
				Health: "/health", HealthTimeout: 60 * time.Second,
				Balancer: render.BalancerService, BalancerPort: render.BalancerPort, BalancerCPUs: 0.5, BalancerMemoryBytes: 64 << 20}
			st := up(t, p, s)

			eps := st.Endpoints()
			if len(eps) != 1 || eps[0].Name != st.BalancerName() || eps[0].URL != fmt.Sprintf("http://127.0.0.1:%d", port) {
				t.Fatalf("endpoints %v, want the balancer %s alone on port %d", eps, st.BalancerName(), port)
			}
			if len(st.Containers()) != 3 {
				t.Fatalf("%d replicas", len(st.Containers()))
			}
			before, err := st.Upstreams(t.Context())
			if err != nil {
				t.Fatal(err)
			}

			// A bounded closed loop: 8 workers, 600 requests in all, 30s at most.
			const total = 600
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var sent, failed atomic.Int64
			var wg sync.WaitGroup
			client := &http.Client{Timeout: 5 * time.Second}
			for range 8 {
				wg.Go(func() {
					for sent.Add(1) <= total && ctx.Err() == nil {
						req, _ := http.NewRequestWithContext(ctx, http.MethodPost, eps[0].URL+"/predict", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							failed.Add(1)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if n := failed.Load(); n > 0 {
				t.Errorf("%d of %d requests through the proxy failed", n, total)
			}
			after, err := st.Upstreams(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != 3 {
				t.Fatalf("upstream counts %+v, want the 3 replicas", after)
			}
			var sum uint64
			for i, e := range after {
				if e.Name != st.Containers()[i].Name {
					t.Errorf("upstream %d is %q, want replica %s", i, e.Name, st.Containers()[i].Name)
				}
				n := e.Requests - before[i].Requests
				sum += n
				if share := float64(n) / total; share < 0.9/3 || share > 1.1/3 {
					t.Errorf("replica %s got %d of %d requests (%.1f%%), not within 10%% of a third", e.Name, n, total, 100*share)
				}
			}
			if sum != total {
				t.Errorf("the replicas got %d requests, want %d", sum, total)
			}

			samples, err := st.Sample(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, smp := range samples {
				names = append(names, smp.Container)
			}
			if !slices.Contains(names, st.BalancerName()) || len(samples) != 4 {
				t.Errorf("samples of %v, want the 3 replicas and the balancer %s", names, st.BalancerName())
			}
			checkBalancerLimits(t, st)

			ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
			defer cancel2()
			if err := st.Down(ctx2); err != nil {
				t.Fatal(err)
			}
			dockertest.NoLeftovers(t, label.Project+"="+project)
		})
	}
}

// checkBalancerLimits checks the balancer container's own limits.
func checkBalancerLimits(t *testing.T, st *Stack) {
	t.Helper()
	b := st.balancer
	if b.MemoryBytes != 64<<20 || b.NanoCPUs != 500_000_000 {
		t.Errorf("balancer %s runs with %d bytes and %d NanoCPUs, want 64M and 0.5 CPU", b.Name, b.MemoryBytes, b.NanoCPUs)
	}
}

func TestUpstreamCounts(t *testing.T) {
	stats := proxy.Stats{Upstreams: []proxy.UpstreamStats{
		{Address: "172.20.0.4:8000", Requests: 7, Errors: 1},
		{Address: "172.20.0.2:8000", Requests: 5},
		{Address: "172.20.0.9:8000", Requests: 2}, // gone replica, unknown to us
	}}
	reps := []docker.Container{
		{Name: "p-app-1", IPs: map[string]string{"p_default": "172.20.0.2"}},
		{Name: "p-app-2", IPs: map[string]string{"other": "10.0.0.5", "p_default": "172.20.0.4"}},
		{Name: "p-app-3", IPs: map[string]string{"p_default": "172.20.0.3"}},
	}
	got := docker.UpstreamCounts(stats, reps, 8000)
	want := []result.EndpointCount{
		{Name: "p-app-1", URL: "http://172.20.0.2:8000", Requests: 5},
		{Name: "p-app-2", URL: "http://172.20.0.4:8000", Requests: 7, Errors: 1},
		{Name: "p-app-3", URL: "http://172.20.0.3:8000"},
		{URL: "http://172.20.0.9:8000", Requests: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
