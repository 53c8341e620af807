package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/internal/runnertest"
	"github.com/infergrid/runner/runner/label"
)

// ownSmoke writes a copy of scenarios/smoke.yaml whose service is built into an
// image of the test's own (see testImage).
func ownSmoke(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	build, _ := filepath.Abs("../../cmd/inference")
	body, _ := filepath.Abs("../../scenarios/payloads/predict.json")
	src := string(data)
	for old, new := range map[string]string{
		"  build: ../cmd/inference\n":          fmt.Sprintf("  build: %q\n  image: %s\n", build, runnertest.Image(t, "smoke")),
		"  body_file: payloads/predict.json\n": fmt.Sprintf("  body_file: %q\n", body),
	} {
		if !strings.Contains(src, old) {
			t.Fatalf("smoke.yaml no longer has %q", old)
		}
		src = strings.Replace(src, old, new, 1)
	}
	file := filepath.Join(t.TempDir(), "smoke.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestTwoRunsNoDanglingImage runs the same study twice: the second run reuses the
// image the first built (same content digest), and neither leaves a dangling image.
func TestTwoRunsNoDanglingImage(t *testing.T) {
	dockertest.Require(t)
	file := runnertest.TestsvcStudy(t, "twice", "", "{method: GET, path: /health}", "{duration: 1s, warmup: 0s, memory: 64M}",
		"  - name: a\n    load: [{rate: 10/s}]\n")
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	var ids, runs []string
	for i := range 2 {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		if code := Main([]string{file, "--out", out}, &stdout, &stderr); code != exitOK {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, code, stdout.String(), stderr.String())
		}
		run := filepath.Base(onlyRun(t, out))
		dockertest.NoLeftovers(t, label.Run+"="+run)
		runs = append(runs, run)
		img, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", imageOf(t, file)).Output()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strings.TrimSpace(string(img)))
	}
	if ids[0] != ids[1] {
		t.Errorf("the second run built image %s again (first %s); want it reused", ids[1], ids[0])
	}
	for _, run := range runs {
		out, _ := exec.Command("docker", "image", "ls", "-q", "--filter", "dangling=true", "--filter", "label="+label.Run+"="+run).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("run %s left dangling images: %s", run, out)
		}
	}
}

// imageOf is the service image a test scenario file names.
func imageOf(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "image: ")
	if !ok {
		t.Fatalf("%s names no image", file)
	}
	return strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == '}' || r == '\n' })[0]
}
