// Package dockertest holds what tests that need Docker share: skip (or fail, under
// RUNNER_REQUIRE_DOCKER=1) when no daemon answers, and check that nothing carrying
// a label was left behind.
package dockertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
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

// Leftovers lists the containers, networks and volumes carrying label (KEY or
// KEY=VALUE), as "kind name".
func Leftovers(t testing.TB, label string) []string {
	t.Helper()
	var left []string
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
	return left
}

// NoLeftovers fails t when anything carries label.
func NoLeftovers(t testing.TB, label string) {
	t.Helper()
	if left := Leftovers(t, label); len(left) > 0 {
		t.Errorf("left behind with label %s: %v", label, left)
	}
}
