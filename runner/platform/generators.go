package platform

import (
	"context"
	"io"
	"time"
)

// Generating is implemented by a Stack that can send its load from load
// agents it deploys beside the replicas (swarm): the runner's own `runner
// agent`, one task per agent, each sending its share from one agreed instant.
type Generating interface {
	// AgentEndpoints are the endpoints as the agents reach them (the replicas',
	// or the balancer's, addresses on the stack's network), in the order of
	// Endpoints.
	AgentEndpoints(ctx context.Context) ([]Endpoint, error)
	// Generate deploys g.N agents, hands each one's results stream to g.Read as
	// it arrives, and returns once every agent ended, with what became of each.
	// Its error names every agent that did not finish (a non-zero exit, a task
	// that disappeared); the streams read so far are kept by g.Read. Cancelling
	// ctx stops every agent. The agents are removed before it returns.
	Generate(ctx context.Context, g Generation) ([]Generator, error)
}

// DefaultGeneratorLead is how long after the agents are deployed they start
// sending, together: the time a swarm takes to schedule and start a task from
// an image its node has, with room for a loaded host.
const DefaultGeneratorLead = 10 * time.Second

// Generation is a load sent by agents.
type Generation struct {
	// N is the number of agents; agent I (1..N) sends share I/N.
	N int
	// Image is the agent's image: the runner binary, whose entrypoint takes
	// `agent` and its flags.
	Image string
	// Constraints place the agents' tasks.
	Constraints []string
	// Config is the whole load in its wire form (load.Config.MarshalAgent),
	// with the agents' endpoints as targets.
	Config []byte
	// Lead is how long after the deployment the agents start; 0 means
	// DefaultGeneratorLead.
	Lead time.Duration
	// Read is called once per agent, on a goroutine of its own, with its
	// results stream (its stdout), and reads it to its end.
	Read func(i int, name string, stdout io.Reader) error
	// Start, if set, is called with the agreed instant once the agents are deployed.
	Start func(time.Time)
}

// Generator is what became of one agent.
type Generator struct {
	// Name is the agent's task, SERVICE.SLOT.
	Name string
	// Node is the hostname of the node it ran on.
	Node string
	// State is its task's last state: complete, failed, shutdown...
	State string
	// ExitCode is its container's exit code.
	ExitCode int
	// Err says why it did not finish; empty when it did.
	Err string
	// Logs are its last lines on stderr.
	Logs string
}
