package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCompareEndToEnd runs a loopback server of known latency with runner run
// (platform external, one repeat), changes its latency between runs, and checks
// what runner compare and runner history make of the run directories: the same
// server twice is no regression (twice), 20% slower is one, and 3% slower with
// a 10% threshold is none. Latencies of 100 ms keep the scheduling jitter of a
// quiet machine (a few ms) well below the 10% threshold. It runs only with
// RUNNER_TEST_NOISE=1: timing assertions do not belong in the shared CI run.
func TestCompareEndToEnd(t *testing.T) {
	if os.Getenv("RUNNER_TEST_NOISE") != "1" {
		t.Skip("asserts on latencies measured on this machine; set RUNNER_TEST_NOISE=1 on a quiet machine (on a shared one, another job can make a run's p99 of a 100ms server 5s)")
	}
	run := knownLatency(t, "{duration: 6s, warmup: 500ms}")
	base := run("base", 100*time.Millisecond)
	same := []string{run("same1", 100*time.Millisecond), run("same2", 100*time.Millisecond)}
	slower := run("slower20", 120*time.Millisecond)
	slight := run("slower3", 103*time.Millisecond)

	for i, s := range same {
		if code, out := compareRuns(t, base, s); code != 0 || !strings.Contains(out, "No regression in 1 scenario.") {
			t.Errorf("same server, trial %d: exit %d\n%s", i+1, code, out)
		}
	}
	if code, out := compareRuns(t, base, slower); code != 1 || !strings.Contains(out, "**regression**: p99 +") || !strings.Contains(out, "**One repeat**") {
		t.Errorf("20%% slower: exit %d, want 1\n%s", code, out)
	}
	if code, out := compareRuns(t, base, slight, "--max-p99-increase", "10%"); code != 0 || strings.Contains(out, "**regression**") {
		t.Errorf("3%% slower with a 10%% threshold: exit %d, want 0\n%s", code, out)
	}

	var stdout, stderr bytes.Buffer
	if code := cmdHistory(t.Context(), []string{slower, same[1], base, same[0]}, &stdout, &stderr); code != 0 {
		t.Fatalf("history: exit %d\n%s", code, stderr.String())
	}
	h := stdout.String()
	if !strings.Contains(h, "- run 4 (") || !strings.Contains(h, "p99: regression +") || strings.Contains(h, "- run 2 (") || strings.Contains(h, "- run 3 (") {
		t.Errorf("history: want one change point, p99 at run 4 (the runs are given out of order)\n%s", h)
	}
}

// TestCompareRepeatsEndToEnd is TestCompareEndToEnd with five repeats a side:
// the same server twice is no regression, 20% slower is one, found by the
// Mann–Whitney test over the repeats. Like it, it asserts on latencies measured
// on this machine and runs only with RUNNER_TEST_NOISE=1.
func TestCompareRepeatsEndToEnd(t *testing.T) {
	if os.Getenv("RUNNER_TEST_NOISE") != "1" {
		t.Skip("asserts on latencies measured on this machine; set RUNNER_TEST_NOISE=1 on a quiet machine")
	}
	run := knownLatency(t, "{duration: 3s, warmup: 500ms, repeat: 5}")
	base, same, slower := run("base", 100*time.Millisecond), run("same", 100*time.Millisecond), run("slower20", 120*time.Millisecond)
	if code, out := compareRuns(t, base, same); code != 0 || !strings.Contains(out, "No regression in 1 scenario.") || !strings.Contains(out, "Tested over repeats") {
		t.Errorf("same server, 5 repeats a side: exit %d\n%s", code, out)
	}
	if code, out := compareRuns(t, base, slower); code != 1 || !strings.Contains(out, "**regression**: p99 +") || !strings.Contains(out, "Tested over repeats") {
		t.Errorf("20%% slower, 5 repeats a side: exit %d, want 1\n%s", code, out)
	}
}

// knownLatency starts a loopback server whose latency a test sets, and returns
// a function that runs a file of one scenario against it at 150/s with the
// given defaults, the server answering after latency, and returns the run
// directory.
func knownLatency(t *testing.T, defaults string) func(name string, latency time.Duration) string {
	t.Helper()
	var delay atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "known.yaml")
	yaml := fmt.Sprintf("name: known\nplatform: external\ntargets: [%s]\ndefaults: %s\ngrid:\n  - {name: steady, load: [{rate: 150/s}]}\n", srv.URL, defaults)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(name string, latency time.Duration) string {
		delay.Store(int64(latency))
		out := filepath.Join(dir, name)
		var stdout, stderr bytes.Buffer
		if code := Main([]string{file, "--out", out}, &stdout, &stderr); code != exitOK {
			t.Fatalf("run %s: exit %d\n%s\n%s", name, code, stdout.String(), stderr.String())
		}
		return onlyRun(t, out)
	}
}

// compareRuns is runner compare with args: its exit code and its output.
func compareRuns(t *testing.T, args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := cmdCompare(t.Context(), args, &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}
