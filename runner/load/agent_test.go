package load

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/dataset"
)

// TestAgentConfigRoundTrip encodes a load for an agent and decodes it: the
// model, the targets and the requests come back, a dataset as its lines.
func TestAgentConfigRoundTrip(t *testing.T) {
	c := Config{
		Targets: []string{"http://10.0.0.2:8000", "http://10.0.0.3:8000"}, Balancer: BalanceClient,
		Requests: []Request{
			{Name: "predict", Weight: 3, Method: "POST", Path: "/predict", Header: http.Header{"Content-Type": {"application/json"}},
				Dataset: dataset.New([][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)}), RandomBodies: true, Seed: 7},
			{Name: "health", Weight: 1, Path: "/health"},
		},
		MixSeed: 3, Arrival: ArrivalGamma, Burstiness: 0.5, ArrivalSeed: 11,
		Rate: 90, MaxWorkers: 10, Duration: 5 * time.Second, Warmup: time.Second, Timeout: 2 * time.Second,
	}
	b, err := c.MarshalAgent()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalAgent(b)
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Requests = []Request{c.Requests[0], c.Requests[1]}
	want.Requests[0].Dataset, want.Requests[0].Bodies = nil, [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}

	single := Config{Targets: []string{"http://h:1"}, Method: "POST", Path: "/p", Bodies: [][]byte{[]byte("x")}, Users: 4, SpawnRate: 2, Duration: time.Second}
	b, err = single.MarshalAgent()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnmarshalAgent(b); err != nil || got.Method != "POST" || got.Path != "/p" || len(got.Requests) != 0 || string(got.Bodies[0]) != "x" || got.Users != 4 {
		t.Errorf("a single request comes back as Config's own fields: %+v, %v", got, err)
	}
	if _, err := UnmarshalAgent([]byte(`{"targets": []}`)); err == nil || !strings.Contains(err.Error(), "invalid agent load") {
		t.Errorf("an invalid load decodes: %v", err)
	}
}

// TestShare splits rates, ramps, caps and users over agents; the shares add up
// to the whole, and seeds differ per agent.
func TestShare(t *testing.T) {
	open := Config{Rate: 100, RampFrom: 0, MaxWorkers: 10, ArrivalSeed: 5, Duration: time.Second}
	seeds := map[uint64]bool{}
	for i := 1; i <= 3; i++ {
		s, err := open.Share(i, 3)
		if err != nil {
			t.Fatal(err)
		}
		if s.Rate != 100.0/3 || s.MaxWorkers != 4 {
			t.Errorf("share %d/3 of 100/s, 10 workers: %g/s, %d workers", i, s.Rate, s.MaxWorkers)
		}
		seeds[s.ArrivalSeed] = true
	}
	if len(seeds) != 3 {
		t.Errorf("arrival seeds of three agents %v: want three different ones", seeds)
	}
	closed := Config{Users: 10, SpawnRate: 5, Duration: time.Second}
	var users []int
	total := 0
	for i := 1; i <= 3; i++ {
		s, err := closed.Share(i, 3)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, s.Users)
		total += s.Users
		if s.SpawnRate != 5.0/3 {
			t.Errorf("spawn rate share %g", s.SpawnRate)
		}
	}
	if total != 10 || users[0] != 4 || users[2] != 3 {
		t.Errorf("10 users over 3 agents: %v, want [4 3 3]", users)
	}
	for _, c := range []struct{ i, n int }{{0, 3}, {4, 3}, {1, 0}} {
		if _, err := open.Share(c.i, c.n); err == nil {
			t.Errorf("Share(%d, %d) accepted", c.i, c.n)
		}
	}
	if _, err := (Config{Users: 2}).Share(1, 3); err == nil {
		t.Error("2 users shared by 3 agents")
	}
}

// TestGather sends a load whose results go to a stream, as an agent's stdout,
// and reads the stream back: the raw file holds every result, the report comes
// back, and a stream cut before its report keeps what it held and says so.
func TestGather(t *testing.T) {
	srv := newServer(t, time.Millisecond, http.StatusOK)
	var stream bytes.Buffer
	l, err := Run(context.Background(), Config{Targets: []string{srv.URL}, Rate: 200, Duration: 500 * time.Millisecond, ResultsWriter: &stream})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAgentReport(&stream, AgentReport{Load: l, Late: 3 * time.Millisecond, Procs: 2}); err != nil {
		t.Fatal(err)
	}
	full := stream.Bytes()
	dir := t.TempDir()
	g := NewGather(time.Now())
	path := filepath.Join(dir, "a.gob")
	rep, n, err := g.Read(bytes.NewReader(full), path)
	if err != nil {
		t.Fatal(err)
	}
	if n != l.Requests+l.WarmupRequests || n == 0 || rep.Load.Requests != l.Requests || rep.Late != 3*time.Millisecond || rep.Procs != 2 {
		t.Errorf("read %d results, report %+v; the load had %d", n, rep, l.Requests)
	}
	if got := readResults(t, path); uint64(len(got)) != n {
		t.Errorf("raw file holds %d results, want %d", len(got), n)
	}
	if p := g.Progress(time.Now()); p.Requests != n {
		t.Errorf("progress counts %d, want %d", p.Requests, n)
	}

	cut := full[:bytes.LastIndex(full, []byte(agentReportKey))]
	cut = cut[:bytes.LastIndexByte(cut[:len(cut)-1], '\n')+1] // a result short too
	rep, m, err := NewGather(time.Now()).Read(bytes.NewReader(cut), path)
	if !IsNoReport(err) || m != n-1 {
		t.Errorf("a stream cut before its report: %d results, %v; want %d and no report", m, err, n-1)
	}
	if got := readResults(t, path); uint64(len(got)) != m {
		t.Errorf("a cut stream's raw file holds %d results, want %d", len(got), m)
	}
}
