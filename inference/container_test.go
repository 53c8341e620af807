package inference

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/runner/label"
)

func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestContainer builds the image from the static binary and inference/Dockerfile, runs
// it with a 64 MiB memory limit and half a CPU, predicts, reads /metrics, stops it with
// SIGTERM, and removes the container and the image.
func TestContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a container")
	}
	dockertest.Require(t)
	dir := t.TempDir()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	build := exec.CommandContext(t.Context(), gobin, "build", "-trimpath", "-ldflags", "-s -w",
		"-o", filepath.Join(dir, "inference"), "../cmd/inference")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	image := "runner-inference-test:" + hex.EncodeToString(suffix)
	docker(t, append(append([]string{"build", "-q"}, dockertest.BuildLabels()...), "-t", image, dir)...)
	t.Cleanup(func() {
		exec.Command("docker", "rmi", "-f", image).Run()
	})
	size, _ := strconv.ParseInt(docker(t, "image", "inspect", "--format", "{{.Size}}", image), 10, 64)
	t.Logf("image %s: %.1f MB", image, float64(size)/1e6)

	id := docker(t, "run", "-d", "--label", label.Managed+"=true", "--label", label.Scenario+"=inference-container-test",
		"--memory", "64m", "--cpus", "0.5", "-p", "127.0.0.1::8000", image)
	t.Cleanup(func() {
		exec.Command("docker", "rm", "-f", "-v", id).Run()
	})
	hostPort := docker(t, "port", id, "8000/tcp")
	hostPort = strings.Split(hostPort, "\n")[0]
	base := "http://" + hostPort

	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after 30s (last error %v); logs:\n%s", err, docker(t, "logs", id))
		}
		time.Sleep(100 * time.Millisecond)
	}

	v := readVectors(t, "default")
	body, _ := json.Marshal(map[string]any{"instances": v.Inputs[:20]})
	res, err := http.Post(base+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Predictions []prediction }
	err = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(out.Predictions) != 20 {
		t.Fatalf("predict: %d %v %+v", res.StatusCode, err, out)
	}
	for i, p := range out.Predictions {
		want := floats(t, v.Predictions[i])
		if *p.Class != argmax(want) || !near(p.Probabilities[*p.Class], want[argmax(want)]) {
			t.Errorf("instance %d: %+v, xgboost %v", i, p, want)
		}
	}
	res, err = http.Post(base+"/predict", "text/plain", strings.NewReader("hi"))
	if err != nil || res.StatusCode != 415 {
		t.Fatalf("bad content type: %v %v", res, err)
	}
	res.Body.Close()

	// The generative model streams inside the limits: 16 concurrent streams, and every
	// one ends with [DONE].
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			res := post(t, t.Context(), base+"/v1/completions", fmt.Sprintf(
				`{"model":%q,"prompt":"The ","max_tokens":32,"ignore_eos":true,"seed":%d,"stream":true}`, DefaultLLM, i))
			if chunks, done := readStream(t, res); !done || len(chunks) == 0 {
				t.Errorf("stream %d: %d chunks, done %v", i, len(chunks), done)
			}
		})
	}
	wg.Wait()

	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// The memory limit comes from the container's cgroup: 90% of 64 MiB.
	ratio := DefaultMemoryLimitRatio
	wantLimit := fmt.Sprintf("go_gc_gomemlimit_bytes %g", float64(int64(float64(64<<20)*ratio)))
	for _, want := range []string{`inference_http_requests_total{code="200",handler="/predict"} 1`,
		`inference_http_requests_total{code="415",handler="/predict"} 1`, wantLimit, "inference_model_info{",
		// The KV cache sizes itself to half the container's memory limit.
		fmt.Sprintf("inference_llm_kv_cache_limit_bytes %g", float64(int64(float64(64<<20)*DefaultKVCacheRatio))),
		"inference_llm_generated_tokens_total 512", "inference_llm_kv_cache_used_bytes 0"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	docker(t, "stop", "-t", "10", id)
	state := docker(t, "inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}", id)
	logs := docker(t, "logs", id)
	if state != "0 false" {
		t.Errorf("exit code and OOM kill: %q, want \"0 false\"; logs:\n%s", state, logs)
	}
	for _, want := range []string{"cgroup_memory_limit_bytes=67108864", "gomemlimit_source=cgroup", "shutting down", "stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}
