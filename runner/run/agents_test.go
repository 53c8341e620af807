package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/platform"
)

// fakeAgents is a platform.Generating whose agents are load.Run calls in this
// process, each streaming its share as `runner agent --out -` does; agent dead
// stops its stream half-way, without its report, as a killed agent would.
type fakeAgents struct {
	url  string
	dead int
}

func (f *fakeAgents) AgentEndpoints(context.Context) ([]platform.Endpoint, error) {
	return []platform.Endpoint{{Name: "s_app.1", URL: f.url}}, nil
}

func (f *fakeAgents) Generate(ctx context.Context, g platform.Generation) ([]platform.Generator, error) {
	c, err := load.UnmarshalAgent(g.Config)
	if err != nil {
		return nil, err
	}
	g.Start(time.Now())
	gens := make([]platform.Generator, g.N)
	var wg sync.WaitGroup
	for i := 1; i <= g.N; i++ {
		gens[i-1] = platform.Generator{Name: fmt.Sprintf("s_agent.%d", i), Node: "n1", State: "complete"}
		pr, pw := io.Pipe()
		wg.Go(func() { _ = g.Read(i, gens[i-1].Name, pr) })
		wg.Go(func() {
			share, _ := c.Share(i, g.N)
			var w io.Writer = pw
			if i == f.dead {
				w = &cutWriter{w: pw, left: 5 << 10}
			}
			share.ResultsWriter = w
			l, err := load.Run(ctx, share)
			if i == f.dead {
				gens[i-1].State, gens[i-1].ExitCode, gens[i-1].Err = "failed", 137, "task failed with exit code 137"
				pw.Close()
				return
			}
			_ = load.WriteAgentReport(pw, load.AgentReport{Load: l, Procs: 1})
			pw.CloseWithError(err)
		})
	}
	wg.Wait()
	if f.dead > 0 {
		return gens, errors.New("load agent s_agent.2 on node n1: task failed with exit code 137")
	}
	return gens, nil
}

// cutWriter passes on whole lines until left bytes were written, then nothing.
type cutWriter struct {
	w    io.Writer
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return len(p), nil
	}
	n := len(p)
	if n > c.left {
		p = p[:strings.LastIndexByte(string(p[:c.left]), '\n')+1]
	}
	c.left -= n
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// TestRunAgents sends a load from three agents: the merged figures count every
// agent's results, each agent has its own, results.gob holds them all, and
// a dead agent fails the load, named, with what it sent kept.
func TestRunAgents(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	a := &Agents{N: 3, Image: "img", Config: func(eps []platform.Endpoint) load.Config {
		return load.Config{Targets: []string{eps[0].URL}, Rate: 300, Duration: time.Second}
	}}
	for _, dead := range []int{0, 2} {
		t.Run(fmt.Sprintf("dead=%d", dead), func(t *testing.T) {
			dir := t.TempDir()
			var events []Event
			var mu sync.Mutex
			emit := func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			l, err := runAgents(t.Context(), &fakeAgents{url: srv.URL, dead: dead}, a, dir, filepath.Join(dir, "results.gob"), emit)
			if dead == 0 && err != nil || dead > 0 && (err == nil || !strings.Contains(err.Error(), "s_agent.2") || !strings.Contains(err.Error(), "generators/agent-N.gob")) {
				t.Fatalf("err = %v", err)
			}
			if len(l.Generators) != 3 {
				t.Fatalf("generators %+v", l.Generators)
			}
			var sum uint64
			for i, g := range l.Generators {
				sum += g.Requests
				if g.Requests == 0 || g.RequestedRPS != 100 || (g.Error != "") != (i+1 == dead) {
					t.Errorf("agent %d: %+v", i+1, g)
				}
				if _, err := os.Stat(filepath.Join(dir, GeneratorsDir, fmt.Sprintf("agent-%d.gob", i+1))); err != nil {
					t.Error(err)
				}
			}
			if sum != l.Requests || l.RequestedRPS != 300 || !strings.Contains(l.LatencyFrom, "3 load agents") {
				t.Errorf("merged %d requests (agents %d), requested %g, %q", l.Requests, sum, l.RequestedRPS, l.LatencyFrom)
			}
			if all, err := load.Merge([]string{filepath.Join(dir, "results.gob")}); err != nil || all.Requests != l.Requests {
				t.Errorf("results.gob: %d requests, %v; want %d", all.Requests, err, l.Requests)
			}
			if dead == 2 && l.Generators[1].Requests >= l.Generators[0].Requests/2 {
				t.Errorf("the dead agent's stream was cut, yet it delivered %d results (agent 1: %d)", l.Generators[1].Requests, l.Generators[0].Requests)
			}
		})
	}
}
