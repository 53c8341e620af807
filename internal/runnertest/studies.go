package runnertest

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/infergrid/runner/inference"
	"github.com/infergrid/runner/internal/dockertest"
)

// Root is the repository's root: the nearest folder above the working
// directory (a test's package folder) that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("runnertest: no go.mod above the working directory")
		}
		dir = up
	}
}

var imageSeq atomic.Int64

// Image is an image name of this test's own (never a user's runner-NAME:latest,
// nor another test run's on a shared daemon), removed when t ends.
func Image(t testing.TB, name string) string {
	t.Helper()
	image := fmt.Sprintf("runner-%s-test:%d-%d", name, os.Getpid(), imageSeq.Add(1))
	dockertest.RemoveImage(t, image)
	return image
}

// write writes a scenario file name.yaml into a temporary folder of t.
func write(t testing.TB, name, yaml string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// ExternalStudy writes a scenario file of platform external against an
// inference service serving in this test, with two scenarios of the given
// duration: "first" at a constant rate, "second" with two users.
func ExternalStudy(t testing.TB, duration string) (file string) {
	t.Helper()
	h, err := inference.NewHandler(inference.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := filepath.Join(Root(t), "scenarios", "payloads", "predict.json")
	return write(t, "ext", fmt.Sprintf(`name: ext
platform: external
targets: [%s]
request: {method: POST, path: /predict, headers: {Content-Type: application/json}, body_file: %q}
defaults: {duration: %s, warmup: 200ms}
grid:
  - name: first
    load: [{rate: 50/s}]
  - name: second
    load: [{users: 2, spawn_rate: 10}]
`, srv.URL, body, duration))
}

// InferenceStudy writes a compose scenario file that builds cmd/inference into
// an image of the test's own and sends /predict, with the given defaults and
// grid. Its host ports (21000-21999) are away from the default range that other
// runs on a shared daemon use: Docker publishes ports without a listening
// socket, so the free-port probe cannot see them.
func InferenceStudy(t testing.TB, name, defaults, grid string) string {
	t.Helper()
	root := Root(t)
	return write(t, name, fmt.Sprintf(`name: %s
platform: compose
service: {build: %q, image: %s, port: 8000, health: /health, host_ports: 21000-21999}
request: {method: POST, path: /predict, headers: {Content-Type: application/json}, body_file: %q}
defaults: %s
grid:
%s`, name, filepath.Join(root, "cmd", "inference"), Image(t, name),
		filepath.Join(root, "scenarios", "payloads", "predict.json"), defaults, grid))
}

// TestsvcStudy writes a compose scenario file that builds the platform tests'
// testsvc (it can be told to stay unhealthy or to allocate memory) into an image
// of the test's own; service is YAML appended inside the service mapping (start
// it with ", "), and grid the YAML under grid.
func TestsvcStudy(t testing.TB, name, service, request, defaults, grid string) string {
	t.Helper()
	svc := filepath.Join(Root(t), "runner", "platform", "testdata", "testsvc")
	return write(t, name, fmt.Sprintf("name: %s\nplatform: compose\nservice: {build: %q, image: %s, port: 8000, health: /health, host_ports: 21000-21999%s}\nrequest: %s\ndefaults: %s\ngrid:\n%s",
		name, svc, Image(t, name), service, request, defaults, grid))
}
