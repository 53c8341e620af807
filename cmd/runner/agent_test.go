package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
)

// TestAgentsShareAndMerge runs three agents with one agreed start, each a third
// of 150/s, then merges their files: the merged count is the sum of the agents',
// and every agent waited for the agreed instant.
func TestAgentsShareAndMerge(t *testing.T) {
	var mu sync.Mutex
	var first time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	start := time.Now().Add(1500 * time.Millisecond).UTC()
	var wg sync.WaitGroup
	files := make([]string, 3)
	codes := make([]int, 3)
	stderrs := make([]bytes.Buffer, 3)
	for i := range files {
		files[i] = filepath.Join(dir, "a"+string(rune('1'+i))+".gob")
		wg.Go(func() {
			codes[i] = Main([]string{"agent", srv.URL, "--rate", "150/s", "--duration", "1s",
				"--share", string(rune('1'+i)) + "/3", "--start", start.Format(time.RFC3339Nano), "--out", files[i]},
				&bytes.Buffer{}, &stderrs[i])
		})
	}
	wg.Wait()
	var sum uint64
	for i, f := range files {
		if codes[i] != exitOK {
			t.Fatalf("agent %d: exit %d: %s", i+1, codes[i], stderrs[i].String())
		}
		l, err := load.Merge([]string{f})
		if err != nil {
			t.Fatal(err)
		}
		sum += l.Requests
	}
	if first.Before(start) {
		t.Errorf("a request arrived at %s, before the agreed start %s", first, start)
	}
	var out, errb bytes.Buffer
	if code := Main(append([]string{"merge", "--json"}, files...), &out, &errb); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, errb.String())
	}
	var merged result.Load
	if err := json.Unmarshal(out.Bytes(), &merged); err != nil {
		t.Fatal(err)
	}
	if merged.Requests != sum || sum == 0 {
		t.Errorf("merged %d requests, the agents %d in all", merged.Requests, sum)
	}
}

func TestAgentBadUsage(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"no url", "no URL", []string{"--rate", "1/s", "--out", "x"}},
		{"no out", "--out FILE is required", []string{"http://127.0.0.1:1", "--rate", "1/s"}},
		{"bad rate", "want a positive rate", []string{"http://127.0.0.1:1", "--rate", "fast", "--out", "x"}},
		{"bad share", "want I/N", []string{"http://127.0.0.1:1", "--rate", "1/s", "--share", "4/3", "--out", "x"}},
		{"bad start", "want an RFC 3339 time", []string{"http://127.0.0.1:1", "--rate", "1/s", "--start", "soon", "--out", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errb bytes.Buffer
			if code := Main(append([]string{"agent"}, tc.args...), &bytes.Buffer{}, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q: want %d and %q", code, errb.String(), exitUsage, tc.want)
			}
		})
	}
	var errb bytes.Buffer
	if code := Main([]string{"merge", filepath.Join(t.TempDir(), "none.gob")}, &bytes.Buffer{}, &errb); code != exitUsage {
		t.Errorf("merge of a missing file: exit %d, %s", code, errb.String())
	}
}
