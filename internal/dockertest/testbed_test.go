package dockertest

import (
	"slices"
	"testing"
)

// TestParseTestbed reads the env file in the shape scripts/testbed/up.sh writes.
func TestParseTestbed(t *testing.T) {
	env := `DOCKER_HOST=tcp://172.30.0.2:2375
swarm:
  nodes:
    - {name: runner-testbed-1, docker_host: tcp://172.30.0.2:2375}
    - {name: runner-testbed-2, docker_host: tcp://172.30.0.3:2375}
RUNNER_FLAGS="--swarm-node runner-testbed-1=tcp://172.30.0.2:2375 --swarm-node runner-testbed-2=tcp://172.30.0.3:2375"
`
	tb := ParseTestbed(env)
	want := []TestbedNode{{"runner-testbed-1", "tcp://172.30.0.2:2375"}, {"runner-testbed-2", "tcp://172.30.0.3:2375"}}
	if tb.Manager != "tcp://172.30.0.2:2375" || !slices.Equal(tb.Nodes, want) {
		t.Errorf("manager %q, nodes %v", tb.Manager, tb.Nodes)
	}
	flags := []string{"--swarm-node", "runner-testbed-1=tcp://172.30.0.2:2375", "--swarm-node", "runner-testbed-2=tcp://172.30.0.3:2375"}
	if !slices.Equal(tb.Flags, flags) {
		t.Errorf("flags %q", tb.Flags)
	}
}
