package docker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
)

var testRun = fmt.Sprintf("docker-test-%d", os.Getpid())

func TestMain(m *testing.M) {
	code := m.Run()
	if c, err := New(context.Background()); err == nil {
		left, err := c.Leftovers(context.Background(), Filter{label.Run: testRun})
		if err != nil || len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leak check: left behind %v (err %v)\n", left, err)
			code = 1
		}
		c.Close()
	}
	os.Exit(code)
}

func needDocker(t *testing.T) *Client {
	t.Helper()
	c, err := New(t.Context())
	if err != nil {
		dockertest.Unavailable(t, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBuildImageFromDockerfile(t *testing.T) {
	c := needDocker(t)
	if c.APIVersion < "1.40" {
		t.Errorf("negotiated API %s", c.APIVersion)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /hello.txt\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hi"), 0o644)
	image := fmt.Sprintf("infergrid-runner-dockertest:%d", os.Getpid())
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	if err := c.BuildImage(t.Context(), platform.Build{Dir: dir, Image: image, RunID: testRun}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("docker", "image", "inspect", "-f", `{{index .Config.Labels "`+label.Managed+`"}} {{index .Config.Labels "`+label.Run+`"}}`, image).CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "true "+testRun {
		t.Errorf("image labels %q (err %v)", got, err)
	}
	if ok, err := c.ImageExists(t.Context(), image); !ok || err != nil {
		t.Errorf("ImageExists = %v, %v", ok, err)
	}
	// Without a folder, an existing image is used as is.
	if err := c.BuildImage(t.Context(), platform.Build{Image: image}); err != nil {
		t.Errorf("existing image: %v", err)
	}

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY missing.txt /\n"), 0o644)
	err = c.BuildImage(t.Context(), platform.Build{Dir: dir, Image: image + "-bad", RunID: testRun})
	if err == nil || !strings.Contains(err.Error(), "cannot build image "+image+"-bad") || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("failing build: %v", err)
	}
}

func TestSweepAndLeftovers(t *testing.T) {
	c := needDocker(t)
	project := fmt.Sprintf("dtest%d", os.Getpid())
	labels := map[string]string{label.Managed: "true", label.Run: testRun, label.Project: project}
	if created, err := c.EnsureNetwork(t.Context(), project+"_net", "bridge", labels); err != nil || !created {
		t.Fatalf("EnsureNetwork = %v, %v", created, err)
	}
	if created, err := c.EnsureNetwork(t.Context(), project+"_net", "bridge", labels); err != nil || created {
		t.Fatalf("second EnsureNetwork = %v, %v; want existing", created, err)
	}
	left, err := c.Leftovers(t.Context(), Filter{label.Project: project})
	if err != nil || len(left) != 1 || left[0] != "network "+project+"_net" {
		t.Fatalf("Leftovers = %v, %v", left, err)
	}
	if err := c.Sweep(t.Context(), Filter{}); err == nil {
		t.Error("Sweep with an empty filter must refuse")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.Sweep(ctx, Filter{label.Project: project}); err != nil {
		t.Fatal(err)
	}
	if left, _ := c.Leftovers(ctx, Filter{label.Run: testRun}); len(left) > 0 {
		t.Errorf("after Sweep: %v", left)
	}
}
