package load_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
)

// Locust's "100 users, spawned at 50/s, waiting 1 to 3 seconds" against two
// replicas, with the raw results kept for vegeta.
func ExampleRun() {
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"prediction":[0.5]}`)
	}))
	defer replica.Close()
	dir, err := os.MkdirTemp("", "load-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := load.Run(context.Background(), load.Config{
		Targets:  []string{replica.URL, replica.URL},
		Balancer: load.BalanceClient,
		Method:   http.MethodPost,
		Path:     "/predict",
		Header:   http.Header{"Content-Type": {"application/json"}},
		Bodies:   [][]byte{[]byte(`{"inputs":[[1,2,3]]}`)},
		Users:    100, SpawnRate: 50, ThinkMin: time.Second, ThinkMax: 3 * time.Second,
		Warmup: time.Second, Duration: 3 * time.Second,
		ResultsPath: filepath.Join(dir, "results.gob"),
		Progress: func(p load.Progress) {
			// A terminal would redraw a line here; called about once a second.
			_ = fmt.Sprintf("%s %d users, %.0f/s, p99 %s", p.Elapsed.Round(time.Second), p.Users, p.RatePerSecond, p.P99)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.SuccessRatio)
	// Output: 1
}

// A capacity search against a replica that serves 2 requests at a time in 10ms
// each (about 200/s): the highest constant rate whose p99 stays under 100ms.
func ExampleSearch() {
	slots := make(chan struct{}, 2)
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots <- struct{}{}
		time.Sleep(10 * time.Millisecond)
		<-slots
	}))
	defer replica.Close()

	slo := result.SLO{P99: 100 * time.Millisecond}
	steps := 0
	res, err := load.Search(context.Background(), load.SearchConfig{
		Load: load.Config{Targets: []string{replica.URL}, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond},
		From: 25, To: 800, MaxSteps: 8, Precision: 0.1,
		OnStep: func(n int, s result.CapacityStep) { steps++ }, // e.g. print load.StepLine(n, s)
	}, slo.Check)
	if err != nil {
		log.Fatal(err)
	}
	c := res.Capacity
	fmt.Println(c.RPS >= 50 && c.RPS <= 400, steps == len(c.Steps) && steps <= 8)
	// Output: true true
}
