// Package dockertest holds what tests that need Docker share: skip (or fail, under
// RUNNER_REQUIRE_DOCKER=1) when no daemon answers, and check that nothing carrying
// a label was left behind.
package dockertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Require skips t when no Docker daemon answers, unless RUNNER_REQUIRE_DOCKER=1
// makes that a failure.
func Require(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		Unavailable(t, fmt.Errorf("docker version: %w: %s", err, strings.TrimSpace(string(out))))
	}
}

// Unavailable ends t because err says no Docker daemon answers: a skip, or a
// failure under RUNNER_REQUIRE_DOCKER=1.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("RUNNER_REQUIRE_DOCKER") == "1" {
		t.Fatalf("no Docker daemon answers and RUNNER_REQUIRE_DOCKER=1: %v", err)
	}
	t.Skipf("no Docker daemon answers (set RUNNER_REQUIRE_DOCKER=1 to fail instead): %v", err)
}

// Leftovers lists the swarm services and configs (when the daemon manages a swarm),
// containers, networks, volumes and dangling images carrying label (KEY or
// KEY=VALUE), as "kind name".
func Leftovers(t testing.TB, label string) []string {
	t.Helper()
	var left []string
	if SwarmState(t) == "active" {
		for _, kind := range []string{"service", "config"} {
			out, err := exec.Command("docker", kind, "ls", "--filter", "label="+label, "--format", "{{.Name}}").CombinedOutput()
			if err == nil { // a worker cannot list them; its containers are still listed below
				for _, name := range strings.Fields(string(out)) {
					left = append(left, kind+" "+name)
				}
			}
		}
	}
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "--filter", "label=" + label, "--format", "{{.Name}}"}
		if kind == "container" {
			args = []string{"ps", "-a", "--filter", "label=" + label, "--format", "{{.Names}}"}
		}
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
		}
		for _, name := range strings.Fields(string(out)) {
			left = append(left, kind+" "+name)
		}
	}
	out, err := exec.Command("docker", "image", "ls", "-q", "--filter", "dangling=true", "--filter", "label="+label).CombinedOutput()
	if err != nil {
		t.Fatalf("docker image ls: %v: %s", err, out)
	}
	for _, id := range strings.Fields(string(out)) {
		left = append(left, "image "+id+" (dangling)")
	}
	return left
}

// BuildLabels are the --label arguments of a test's docker build: the runner's
// label, and the one RUNNER_IMAGE_LABEL names, which make test sets to count the
// images its tests leave.
func BuildLabels() []string {
	args := []string{"--label", "dev.infergrid.runner=true"}
	if l := os.Getenv("RUNNER_IMAGE_LABEL"); strings.Contains(l, "=") {
		args = append(args, "--label", l)
	}
	return args
}

// RemoveImage removes image ref (a tag) when t ends: tests remove the images they
// build. An image still in use by a container is kept, and t fails: that is a leak.
func RemoveImage(t testing.TB, ref string) {
	t.Helper()
	t.Cleanup(func() { removeImage(t, ref) })
}

func removeImage(t testing.TB, ref string) {
	if err := RemoveImageNow(ref); err != nil {
		t.Error(err)
	}
}

// RemoveImageNow removes image ref at once (for TestMain, which has no t). A
// container that still uses it (a swarm task shutting down) gets 30 seconds to go.
func RemoveImageNow(ref string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("docker", "image", "rm", ref).CombinedOutput()
		switch {
		case err == nil || strings.Contains(string(out), "No such image"):
			return nil
		case strings.Contains(string(out), "being used") && time.Now().Before(deadline):
			time.Sleep(time.Second)
			continue
		}
		return fmt.Errorf("cannot remove test image %s: %w: %s", ref, err, out)
	}
}

// NoLeftovers fails t when anything carries label.
func NoLeftovers(t testing.TB, label string) {
	t.Helper()
	if left := Leftovers(t, label); len(left) > 0 {
		t.Errorf("left behind with label %s: %v", label, left)
	}
}

// SwarmState is the daemon's swarm state: inactive, active, pending...
func SwarmState(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").CombinedOutput()
	if err != nil {
		t.Fatalf("docker info: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// SwarmLock is where a test that creates or leaves a swarm, or deploys stacks,
// starts. It skips unless RUNNER_TEST_SWARM=1: seen here, swarms created and
// left in quick succession (as these tests do) made the published ports of other
// packages' compose stacks, starting at that moment, refuse connections, so
// `make test` runs the swarm tests alone, after the others. Then it requires a
// daemon (see Require) and serialises, across test binaries, the swarm tests (one
// leaving the swarm would remove another's stacks). It returns the swarm state
// and whether the gateway bridge exists, as found, and checks at cleanup that the
// test left both so.
func SwarmLock(t testing.TB) (state string, gateway bool) {
	t.Helper()
	if os.Getenv("RUNNER_TEST_SWARM") != "1" {
		t.Skip("creates and leaves a swarm, which can disturb other packages' Docker tests running at the same time: `make test` runs it alone afterwards (make test-swarm, RUNNER_TEST_SWARM=1)")
	}
	Require(t)
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "infergrid-runner-swarm-test.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	state, gateway = SwarmState(t), gatewayExists()
	t.Cleanup(func() {
		defer f.Close() // closing releases the lock
		if got := SwarmState(t); got != state {
			t.Errorf("the swarm state was %s before the test and is %s after", state, got)
		}
		if got := gatewayExists(); got != gateway {
			t.Errorf("docker_gwbridge existed before the test: %v; after: %v", gateway, got)
		}
	})
	return state, gateway
}

func gatewayExists() bool {
	return exec.Command("docker", "network", "inspect", "docker_gwbridge").Run() == nil
}
