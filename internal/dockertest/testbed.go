package dockertest

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Testbed is the multi-node test bed that make testbed-up describes in its env file.
type Testbed struct {
	// Manager is the manager's DOCKER_HOST.
	Manager string
	// Nodes are runner-testbed-1 (the manager, role load), -2 and -3 (role sut), in
	// that order.
	Nodes []TestbedNode
	// Flags are the runner's flags for them (RUNNER_FLAGS: --swarm-node NAME=HOST...).
	Flags []string
}

// TestbedNode is one node of the test bed and its Docker API.
type TestbedNode struct{ Name, DockerHost string }

// DefaultTestbedEnv is the env file make testbed-up writes, read with RUNNER_TESTBED=1.
const DefaultTestbedEnv = "/tmp/runner-testbed/env"

var testbedNode = regexp.MustCompile(`- \{name: ([^,]+), docker_host: ([^}]+)\}`)

// NeedTestbed skips t unless RUNNER_TESTBED names the test bed's env file (1: the
// default one), reads it, fails t when it does not describe 3 nodes, and points
// DOCKER_HOST at the manager for the rest of t.
func NeedTestbed(t *testing.T) Testbed {
	t.Helper()
	file := os.Getenv("RUNNER_TESTBED")
	switch file {
	case "":
		t.Skip("no test bed: run make testbed-up N=3, then RUNNER_TESTBED=1")
	case "1":
		file = DefaultTestbedEnv
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("RUNNER_TESTBED: %v (is the test bed up? make testbed-up N=3)", err)
	}
	tb := ParseTestbed(string(b))
	if tb.Manager == "" || len(tb.Nodes) != 3 || len(tb.Flags) != 6 {
		t.Fatalf("%s: want a DOCKER_HOST, 3 swarm.nodes entries and RUNNER_FLAGS (make testbed-up N=3)", file)
	}
	t.Setenv("DOCKER_HOST", tb.Manager)
	return tb
}

// ParseTestbed reads the env file make testbed-up writes.
func ParseTestbed(env string) Testbed {
	var tb Testbed
	for _, line := range strings.Split(env, "\n") {
		if h, ok := strings.CutPrefix(line, "DOCKER_HOST="); ok {
			tb.Manager = h
		}
		if f, ok := strings.CutPrefix(line, "RUNNER_FLAGS="); ok {
			tb.Flags = strings.Fields(strings.Trim(f, `"`))
		}
		if m := testbedNode.FindStringSubmatch(line); m != nil {
			tb.Nodes = append(tb.Nodes, TestbedNode{Name: m[1], DockerHost: m[2]})
		}
	}
	return tb
}
