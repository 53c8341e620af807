package load

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestMergeThreeGenerators runs three loads at once against one server, each its
// own results file, as three agents would: the merged count is the sum, and the
// merged p99 is what vegeta's own metrics give over the concatenated files
// (`vegeta report a b c`), within 1%.
func TestMergeThreeGenerators(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond) // a spread of latencies
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dir := t.TempDir()
	paths := make([]string, 3)
	loads := make([]result.Load, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range paths {
		paths[i] = filepath.Join(dir, "agent"+string(rune('1'+i))+".gob")
		wg.Go(func() {
			loads[i], errs[i] = Run(context.Background(), Config{
				Targets: []string{srv.URL}, Rate: 100, Duration: 2 * time.Second,
				Warmup: 200 * time.Millisecond, ResultsPath: paths[i],
			})
		})
	}
	wg.Wait()
	var sum uint64
	for i, err := range errs {
		if err != nil {
			t.Fatalf("generator %d: %v", i+1, err)
		}
		sum += loads[i].Requests
	}
	merged, err := Merge(paths)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Requests != sum || sum == 0 {
		t.Errorf("merged requests %d, want the sum %d ", merged.Requests, sum)
	}
	if merged.SuccessRatio != 1 || merged.Endpoints[0].Requests != sum {
		t.Errorf("merged success %g, endpoint counts %+v", merged.SuccessRatio, merged.Endpoints)
	}

	// The reference: every measured latency of every file, sorted, and its
	// nearest-rank p99. vegeta report's p99 over the same results is an estimate
	// (a t-digest) that can sit a percent or two off, so it is only logged.
	var m vegeta.Metrics
	var lat []time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := vegeta.NewDecoder(bytes.NewReader(b))
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if r.Attack != AttackWarmup {
				m.Add(&r)
				lat = append(lat, r.Latency)
			}
		}
	}
	m.Close()
	if m.Requests != sum {
		t.Errorf("vegeta counts %d measured results, the generators %d", m.Requests, sum)
	}
	slices.Sort(lat)
	exact := lat[nearestRank(0.99, uint64(len(lat)))-1]
	if d := math.Abs(float64(merged.Latency.P99-exact)) / float64(exact); d > 0.01 {
		t.Errorf("merged p99 %s, the sorted latencies' %s: %.2f%% apart, want within 1%%", merged.Latency.P99, exact, 100*d)
	}
	// For comparison only: each generator's own p99 (from the intended send
	// time, so not comparable one to one); averaging them is not a merged p99.
	lo, hi := loads[0].Latency.P99, loads[0].Latency.P99
	for _, l := range loads[1:] {
		lo, hi = min(lo, l.Latency.P99), max(hi, l.Latency.P99)
	}
	t.Logf("merged p99 %s (vegeta %s), generators' p99 from %s to %s", merged.Latency.P99, m.Latencies.P99, lo, hi)
}

func TestMergeBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.gob")
	if err := os.WriteFile(p, []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge([]string{p}); err == nil {
		t.Error("Merge of a file that is not vegeta results did not fail")
	}
	if _, err := Merge([]string{filepath.Join(t.TempDir(), "missing.gob")}); err == nil {
		t.Error("Merge of a missing file did not fail")
	}
}
