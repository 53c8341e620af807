package load

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestBodiesCycledOrRandom(t *testing.T) {
	for _, random := range []bool{false, true} {
		var mu sync.Mutex
		var seq []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			seq = append(seq, string(b))
			mu.Unlock()
		}))
		_, err := Run(t.Context(), Config{
			Targets: []string{srv.URL}, Method: http.MethodPost, Users: 1,
			Bodies: [][]byte{[]byte("a"), []byte("b"), []byte("c")}, RandomBodies: random,
			// 30 requests take 30 ms on an idle machine; a shared one can be
			// 20 times slower, and the test is about the order, not the speed.
			Duration: 2 * time.Second,
		})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(seq) < 30 {
			t.Fatalf("random %v: only %d requests", random, len(seq))
		}
		cyclic := true
		counts := map[string]int{}
		for i, b := range seq {
			counts[b]++
			if b != string("abc"[i%3]) {
				cyclic = false
			}
		}
		if cyclic == random || len(counts) != 3 {
			t.Errorf("random %v: cyclic order %v, bodies seen %v", random, cyclic, counts)
		}
	}
}
