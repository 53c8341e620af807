package monitor_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/monitor"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/local"
	"github.com/infergrid/runner/runner/result"
)

// TestMonitorLocalStack runs the monitor against a real (local) stack while one
// replica burns CPU, and checks what stats.csv, events.json and the summary say.
func TestMonitorLocalStack(t *testing.T) {
	p := local.New(local.Options{})
	defer p.Close()
	if err := p.Prepare(t.Context(), platform.Build{Dir: "../platform/testdata/testsvc"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := p.Up(t.Context(), platform.Spec{Project: "montest", RunID: "monitor-test", Dir: dir, Replicas: 2,
		Health: "/health", HealthTimeout: 10 * time.Second, MemoryBytes: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Down(context.Background())

	var csv bytes.Buffer
	w, _ := result.NewStatsWriter(&csv)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan monitor.Series, 1)
	go func() {
		s, err := monitor.Run(ctx, st, 100*time.Millisecond, w)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	resp, err := http.Post(st.Endpoints()[0].URL+"/burn?ms=600", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	series := <-done
	if err := st.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	events := monitor.Merge(st.Events(), series.Errors)
	if err := monitor.WriteEvents(filepath.Join(dir, "events.json"), events); err != nil {
		t.Fatal(err)
	}
	res := monitor.Summarize(series.Samples, events, st.Advisory())

	rows, err := result.ReadStats(&csv)
	if err != nil || len(rows) < 8 || len(rows) != len(series.Samples) {
		t.Fatalf("stats.csv has %d rows (err %v), series %d; want >= 8, equal", len(rows), err, len(series.Samples))
	}
	if len(res.Containers) != 2 || res.PeakMemBytes <= 0 || res.OOMKills != 0 || res.Restarts != 0 {
		t.Errorf("summary %+v", res)
	}
	// Replica 1 spun for 600ms while replica 2 idled.
	if c := res.Containers; c[0].PeakCPUPct <= c[1].PeakCPUPct || res.PeakCPUPct < c[0].PeakCPUPct {
		t.Errorf("peak CPU %.1f%%, replica 1 %.1f%%, replica 2 %.1f%%: want the burning replica highest", res.PeakCPUPct, c[0].PeakCPUPct, c[1].PeakCPUPct)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.json")); err != nil {
		t.Error(err)
	}
}
