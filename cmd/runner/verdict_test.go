package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunMissedSLOLastLine runs a study whose only scenario misses its SLO on
// purpose: exit status 1, and the last line says the study ran.
func TestRunMissedSLOLastLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "slow.yaml")
	yaml := fmt.Sprintf(`name: slow
platform: external
targets: [%s]
defaults: {duration: 1s, warmup: 0s}
slo: {p50: 1ms}
grid:
  - name: open
    load: [{rate: 20/s}]
`, srv.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{file, "--out", filepath.Join(dir, "runs")}, &stdout, &stderr); code != exitSLO {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitSLO, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "the study ran: all 1 scenarios finished; 1 missed the SLO (open-") {
		t.Errorf("last line %q does not say the study ran and which scenario missed", last)
	}
}
