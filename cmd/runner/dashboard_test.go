package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/browser"
)

// lockedBuffer is an io.Writer read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDashboardInChromium opens the live dashboard of a real run (two replicas
// as local processes, a closed-model load) in headless chromium while the load
// runs: the page must draw the running scenario's charts and apply several
// updates pushed over the event stream. The screenshot is a test artefact (see
// internal/browser.Artefact). The run is then interrupted.
func TestDashboardInChromium(t *testing.T) {
	c := browser.Find(t)
	dir := t.TempDir()
	service, err := filepath.Abs("../../cmd/inference")
	if err != nil {
		t.Fatal(err)
	}
	body, err := filepath.Abs("../../scenarios/payloads/predict.json")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "live.yaml")
	yaml := fmt.Sprintf(`name: live
platform: local
service: {build: %s, port: 8000, health: /health}
request: {method: POST, path: /predict, headers: {Content-Type: application/json}, body_file: %s}
defaults: {duration: 5m, warmup: 1s, cpus: 0.5, memory: 256M}
grid:
  - name: pair
    replicas: [2]
    balancer: [client]
    load: [{users: 2, spawn_rate: 2, think: 20ms}]
`, service, body)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- cmdRun(runCtx, []string{file, "--out", filepath.Join(dir, "runs"), "--dashboard", "127.0.0.1:0", "--dashboard-exit"}, &stdout, &stderr)
	}()
	url := waitForDashboard(t, &stdout, &stderr, exit)

	page, err := c.Open(t.Context(), url, 1280, 1400)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	ctx := t.Context()
	// The charts appear, and the stream updates them: the throughput chart's
	// points grow in number while the page stays open.
	const points = `document.querySelectorAll('svg[data-chart="live-throughput"] circle').length`
	if err := page.WaitFor(ctx, points+` >= 6`, time.Minute); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := page.Eval(ctx, points, &before); err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, fmt.Sprintf(`Number(document.body.dataset.updates) >= 3 && %s > %d`, points, before), time.Minute); err != nil {
		t.Errorf("the charts did not update: %v", err)
	}
	var text string
	if err := page.Eval(ctx, `document.body.innerText`, &text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Running:", "share of requests", "Scenarios", "Failures"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	var charts []string
	if err := page.Eval(ctx, `Array.from(document.querySelectorAll('#live svg.chart')).map(s => s.getAttribute('aria-label'))`, &charts); err != nil {
		t.Fatal(err)
	}
	if want := []string{"requests and errors per second", "latency of the last second", "users and requests in flight", "CPU per container", "memory per container"}; !slices.Equal(charts, want) {
		t.Errorf("charts %q, want %q", charts, want)
	}
	// A click on a legend entry hides its series, and it stays hidden across updates.
	if err := page.Eval(ctx, `document.querySelector('svg[data-chart="live-latency"] g.legend[data-series="1"]').dispatchEvent(new MouseEvent('click', {bubbles: true})) && true`, new(bool)); err != nil {
		t.Fatal(err)
	}
	var updates int
	if err := page.Eval(ctx, `Number(document.body.dataset.updates)`, &updates); err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, fmt.Sprintf(`Number(document.body.dataset.updates) > %d`, updates), time.Minute); err != nil {
		t.Fatal(err)
	}
	var hidden bool
	if err := page.Eval(ctx, `document.querySelector('svg[data-chart="live-latency"] g.series[data-series="1"]').classList.contains('off')`, &hidden); err != nil || !hidden {
		t.Errorf("the p99 series toggled off is shown again after an update (%v)", err)
	}
	shot := browser.Artefact(t, "dashboard-live.png")
	if err := page.Screenshot(ctx, shot); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", shot)

	cancel()
	select {
	case code := <-exit:
		if code != exitInterrupted {
			t.Errorf("exit %d after Ctrl-C, want %d\nstderr:\n%s", code, exitInterrupted, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not stop after Ctrl-C")
	}
}

// waitForDashboard returns the dashboard's URL once its page shows the load
// running with a few seconds of charts.
func waitForDashboard(t *testing.T, stdout, stderr *lockedBuffer, exit chan int) string {
	t.Helper()
	re := regexp.MustCompile(`dashboard: (http://\S+)`)
	deadline := time.Now().Add(4 * time.Minute)
	url := ""
	for time.Now().Before(deadline) {
		select {
		case code := <-exit:
			t.Fatalf("the run ended (exit %d) before the test looked\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		case <-time.After(500 * time.Millisecond):
		}
		if url == "" {
			if m := re.FindStringSubmatch(stdout.String()); m != nil {
				url = m[1]
			}
			continue
		}
		res, err := http.Get(url)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Count(string(b), "<circle") >= 12 { // a few seconds of load
			return url
		}
	}
	t.Fatalf("the dashboard never showed the load\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return ""
}
