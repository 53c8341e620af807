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
