package docker

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// fakeDaemon serves the stats endpoint: "run" streams readings with growing CPU
// use, "gone" is a stopped container (one zero reading, end), anything else fails.
func fakeDaemon(t *testing.T) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/stats") || r.URL.Query().Get("stream") != "true" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
			return
		}
		id := strings.Split(r.URL.Path, "/")[3]
		enc := json.NewEncoder(w)
		switch id {
		case "run":
			for i := 1; ; i++ {
				st := container.StatsResponse{
					Read: time.Now(),
					CPUStats: container.CPUStats{
						CPUUsage:    container.CPUUsage{TotalUsage: uint64(i) * 250_000_000},
						SystemUsage: uint64(i) * 2_000_000_000, OnlineCPUs: 2,
					},
					MemoryStats: container.MemoryStats{Usage: 10 << 20, Limit: 64 << 20},
					PidsStats:   container.PidsStats{Current: 3},
				}
				if err := enc.Encode(st); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		case "gone":
			enc.Encode(container.StatsResponse{})
		default:
			http.Error(w, `{"message":"no such container: `+id+`"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	api, err := client.New(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithAPIVersion("1.41"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return &Client{api: api}
}

func TestSampler(t *testing.T) {
	c := fakeDaemon(t)
	s := c.NewSampler([]Target{{ID: "run", Name: "r1"}, {ID: "gone", Name: "r2"}, {ID: "missing", Name: "r3"}})
	defer s.Close()
	samples, err := s.Sample(t.Context())
	if len(samples) != 1 || samples[0].Container != "r1" {
		t.Fatalf("samples %+v: want r1 only (r2 stopped, r3 failing)", samples)
	}
	// 0.25 s of CPU per 2 s of host CPU time on 2 CPUs: 25% of one core.
	if x := samples[0]; x.CPUPct != 25 || x.MemBytes != 10<<20 || x.MemLimitBytes != 64<<20 || x.PIDs != 3 || x.Time.IsZero() {
		t.Errorf("sample %+v", x)
	}
	if err == nil || !strings.Contains(err.Error(), "r3") || !strings.Contains(err.Error(), "no such container") {
		t.Errorf("err = %v, want r3's failure", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close does not end the streams")
	}
	// Its last readings are no longer current: a closed Sampler gives none.
	if samples, err := s.Sample(t.Context()); len(samples) != 0 || err != nil {
		t.Errorf("Sample after Close: %+v, %v; want nothing", samples, err)
	}
}
