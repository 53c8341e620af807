// Package browser drives Debian's chromium in headless mode for the tests of the
// pages the runner writes and serves (report.html, the live dashboard): it loads
// a URL, returns the DOM after the page's scripts ran, and takes a screenshot.
//
// Chromium is found on PATH (chromium, else chromium-browser). When it is
// missing, Find skips the test, or fails it when RUNNER_REQUIRE_DOCKER=1 (CI,
// whose .ci/setup installs it).
package browser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Chromium is a headless browser for one test.
type Chromium struct {
	t    testing.TB
	path string
}

// Find returns the chromium of this machine, or skips the test.
func Find(t testing.TB) *Chromium {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return &Chromium{t: t, path: p}
		}
	}
	if os.Getenv("RUNNER_REQUIRE_DOCKER") == "1" {
		t.Fatalf("chromium is not installed and RUNNER_REQUIRE_DOCKER=1 (apt-get install chromium; .ci/setup does)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	return nil
}

// Timeout bounds one chromium run; a busy machine starts it slowly.
const Timeout = 3 * time.Minute

// Load opens url in a window of width × height pixels and returns the DOM as
// the page's scripts left it: once the page has loaded, or, when wait is not
// zero, after wait (for a page that keeps a stream open, such as the live
// dashboard). When screenshot is not empty, it also writes a PNG of the window
// there.
func (c *Chromium) Load(ctx context.Context, url string, width, height int, wait time.Duration, screenshot string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-zygote", "--no-first-run",
		"--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + c.t.TempDir(),
		"--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height),
		"--dump-dom",
	}
	if wait > 0 {
		args = append(args, "--timeout="+strconv.FormatInt(wait.Milliseconds(), 10))
	}
	if screenshot != "" {
		abs, err := filepath.Abs(screenshot)
		if err != nil {
			return "", err
		}
		args = append(args, "--screenshot="+abs)
	}
	cmd := exec.CommandContext(ctx, c.path, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("chromium %s: %w\n%s", url, err, tail(stderr.Bytes(), 2000))
	}
	return stdout.String(), nil
}

// Artefact is where a test keeps a file worth looking at after it ran: in
// $RUNNER_TEST_ARTEFACTS when set (CI can collect that folder), else in the
// test's temporary directory.
func Artefact(t testing.TB, name string) string {
	dir := os.Getenv("RUNNER_TEST_ARTEFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
