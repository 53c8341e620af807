package docker

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBalancerStats reads each kind's counters from a stand-in server: the
// runner's proxy's JSON, HAProxy's CSV, and for nginx an error that says why there
// are none (the run keeps it as a note on the load, not a failure).
func TestBalancerStats(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/proxy/stats":
			w.Write([]byte(`{"policy":"round_robin","upstreams":[{"address":"10.0.0.2:8000","state":"up","requests":7}]}`))
		case "/proxy/stats;csv":
			w.Write([]byte("# pxname,svname,status,stot,req_tot,addr,algo\nreplicas,app1,UP,9,8,10.0.0.3:8000,\nreplicas,BACKEND,UP,9,8,,roundrobin\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, c := range []struct {
		kind, addr string
		requests   uint64
	}{{"", "10.0.0.2:8000", 7}, {"runner", "10.0.0.2:8000", 7}, {"haproxy", "10.0.0.3:8000", 8}} {
		s, err := BalancerStats(t.Context(), c.kind, srv.URL)
		if err != nil {
			t.Fatalf("kind %q: %v", c.kind, err)
		}
		if len(s.Upstreams) != 1 || s.Upstreams[0].Address != c.addr || s.Upstreams[0].Requests != c.requests || s.Policy != "round_robin" {
			t.Errorf("kind %q: %+v", c.kind, s)
		}
	}
	if _, err := BalancerStats(t.Context(), "nginx", srv.URL); err == nil || !strings.Contains(err.Error(), "nginx (open source) exposes no per-upstream counts") {
		t.Errorf("nginx: %v", err)
	}
	if _, err := BalancerStats(t.Context(), "envoy", srv.URL); err == nil {
		t.Error("an unknown kind has statistics")
	}
}
