package local

import (
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/infergrid/runner/runner/platform"
)

func TestBalancerInFront(t *testing.T) {
	p := newPlatform(t, Options{})
	if err := p.Prepare(t.Context(), platform.Build{Dir: "../testdata/testsvc", ProxyDir: "../../../cmd/proxy", ProxyImage: "unused"}); err != nil {
		t.Fatal(err)
	}
	s := spec(t, 3)
	s.Command = nil
	s.Balancer, s.BalancerPolicy = "balancer", "round_robin"
	st := up(t, p, s)
	eps := st.Endpoints()
	if len(eps) != 1 || eps[0].Name != st.BalancerName() || st.BalancerName() != s.Project+"-balancer" {
		t.Fatalf("endpoints %v, want the balancer alone", eps)
	}
	before, err := st.Upstreams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		resp, err := http.Get(eps[0].URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("through the balancer: %s", resp.Status)
		}
	}
	after, err := st.Upstreams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 {
		t.Fatalf("upstreams %+v, want the 3 replicas", after)
	}
	for i, e := range after {
		if n := e.Requests - before[i].Requests; n != 100 {
			t.Errorf("replica %s got %d of 300 requests, want 100 (round-robin)", e.Name, n)
		}
	}
	samples, err := st.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range samples {
		names = append(names, x.Container)
	}
	if len(samples) != 4 || !slices.Contains(names, st.BalancerName()) {
		t.Errorf("samples of %v, want 3 replicas and the balancer", names)
	}
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if left, _ := Processes(EnvProject, s.Project); len(left) > 0 {
		t.Errorf("processes %v left", left)
	}
}

func TestBalancerNotPrepared(t *testing.T) {
	p := newPlatform(t, Options{})
	s := spec(t, 1)
	s.Balancer = "balancer"
	if _, err := p.Up(t.Context(), s); err == nil {
		t.Fatal("Up ran a balanced stack without a prepared balancer")
	}
}
