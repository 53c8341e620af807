// Package platform brings a scenario's service up under its limits, tells where its
// replicas answer, reports what its containers do, and brings it down again. The
// orchestrator depends only on the Platform and Stack interfaces declared here;
// compose, swarm and local are implementations.
package platform

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// ErrUnavailable is returned (wrapped) when the platform itself cannot be used:
// no Docker daemon answers, no compose tool is installed, and so on. The CLI maps it
// to exit code 3.
var ErrUnavailable = errors.New("platform unavailable")

// ErrPortsTaken is returned (wrapped) by Up when a host port the stack publishes is
// taken: the caller may pick other ports and try again.
var ErrPortsTaken = errors.New("host port taken")

// Build says how to obtain the service image (or binary) once per run.
type Build struct {
	// Dir is a folder with a Dockerfile, or a Go main package that is compiled
	// statically into a FROM scratch image. Empty when Image is used as is.
	Dir string
	// Image is the image name (and tag) the compose file refers to.
	Image string
	// RunID labels the built image.
	RunID string
	// ProxyDir is the Go main package of the load balancer (the runner's
	// cmd/proxy), built FROM scratch into ProxyImage when a scenario uses
	// balancer: proxy. Empty when no scenario does.
	ProxyDir string
	// ProxyImage is the balancer image's name.
	ProxyImage string
	// AgentDir is the runner's own Go main package (cmd/runner), built FROM
	// scratch into AgentImage when a scenario sends its load from agents
	// (generators; swarm only). Empty when none does.
	AgentDir string
	// AgentImage is the load agents' image name.
	AgentImage string
}

// Spec is what to bring up for one scenario.
type Spec struct {
	// Project is the unique compose project / stack name of the scenario.
	Project string
	// RunID and ScenarioID are written as labels on everything created.
	RunID      string
	ScenarioID string
	// Dir is the scenario's directory in the run directory; compose.yml is written there.
	Dir string
	// Compose is the rendered compose file (compose and swarm platforms).
	Compose []byte
	// Files are files the compose file refers to by relative path (the
	// balancer's config), by name; Up writes them next to compose.yml.
	Files map[string][]byte
	// Service is the name of the service under test in Compose.
	Service string
	// Command is the local platform's command line, each argument expanded per
	// replica with CommandVars ("{{.Port}}" is the replica's port). Empty means the
	// binary prepared by Build. Compose ignores it: the compose file says what runs.
	Command []string
	// WorkDir is the folder Command runs in (the scenario file's folder, or
	// service.workdir); empty means Dir.
	WorkDir string
	// Env is extra environment for the service (local platform; compose takes the
	// environment from the compose file).
	Env map[string]string
	// Port is the port the service listens on inside its container.
	Port int
	// Replicas is the number of replicas.
	Replicas int
	// CPUs per replica; 0 means unlimited. Compose checks that the replicas run
	// with it; local enforces it.
	CPUs float64
	// MemoryBytes per replica; 0 means unlimited. As CPUs.
	MemoryBytes int64
	// Health is the HTTP path polled until every replica answers 2xx.
	Health string
	// HealthTimeout bounds the wait for health.
	HealthTimeout time.Duration
	// Address says how the load generator reaches the replicas: AddressPublished
	// (empty: through each replica's published host port on 127.0.0.1) or
	// AddressContainer (the container's own address, past Docker's userland proxy).
	Address string
	// Balancer is the compose service name of the load balancer in front of the
	// replicas (balancer: proxy); empty when the replicas are reached directly.
	// With a balancer the replicas publish no port: the balancer is the stack's
	// only endpoint, and it must answer /proxy/health?min=Replicas.
	Balancer string
	// BalancerPort is the balancer's port inside its container.
	BalancerPort int
	// BalancerCPUs and BalancerMemoryBytes are the balancer's own limits (0:
	// unlimited), checked like the replicas'.
	BalancerCPUs        float64
	BalancerMemoryBytes int64
	// BalancerPolicy is the balancer's policy, round_robin or least_conn (local
	// platform; compose takes it from the compose file).
	BalancerPolicy string
	// BalancerKind is what the balancer runs: runner (or empty: the runner's
	// proxy), haproxy or nginx; it says how to read its per-upstream counts.
	BalancerKind string
	// Network is an external network the compose file names (the workshop's
	// my_shared_network). It is created, labelled, when missing, and removed by
	// Down only if Up created it. Empty means none.
	Network string
	// Started, when set, is called by Up as soon as the stack's replicas run
	// (their containers, tasks or processes exist), before the health wait,
	// with what samples them: the caller may sample a stack that is still coming
	// up, and keeps the stats of one that fails to. Sampling it returns nothing
	// once Up failed, or Down began.
	Started func(Sampler)
}

// Sampler reads the current CPU, memory, network and PIDs of a stack's
// containers; Stack is one.
type Sampler interface {
	Sample(ctx context.Context) ([]result.Sample, error)
}

// WriteFiles writes files (Spec.Files) into dir, each atomically: a crash leaves the
// old file or the new one.
func WriteFiles(dir string, files map[string][]byte) error {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if name != filepath.Base(name) || name == "." || name == ".." || name == "compose.yml" {
			return fmt.Errorf("cannot write %q next to compose.yml: want a plain file name", name)
		}
		if err := result.WriteFile(filepath.Join(dir, name), files[name]); err != nil {
			return fmt.Errorf("cannot write %s: %w", filepath.Join(dir, name), err)
		}
	}
	return nil
}

// Spec.Address values.
const (
	AddressPublished = "published"
	AddressContainer = "container"
)

// Endpoint is one replica's address as the load generator reaches it.
type Endpoint struct {
	// Name is the container (or process) name.
	Name string
	// URL is the base URL, e.g. http://127.0.0.1:18089.
	URL string
}

// Platform brings stacks up.
type Platform interface {
	// Name is compose, swarm, local or external.
	Name() string
	// Prepare checks that the platform answers and builds the service once per run.
	Prepare(ctx context.Context, b Build) error
	// Up brings the scenario's stack up and returns once every replica is healthy.
	// On error, whatever was started has already been removed.
	Up(ctx context.Context, s Spec) (Stack, error)
	// Info describes the platform for the run metadata (versions, notes).
	Info(ctx context.Context) Info
	// Close releases what Prepare acquired (API clients, built binaries). Stacks
	// must be brought down before.
	Close() error
}

// Info describes a platform for the report.
type Info struct {
	DockerVersion  string
	ComposeVersion string
	// Notes are facts the report states, e.g. that limits are advisory.
	Notes []string
}

// Balanced is implemented by a Stack whose only endpoint is a load balancer in
// front of the replicas (balancer: proxy).
type Balanced interface {
	// BalancerName is the balancer's container name, as in samples and events.
	BalancerName() string
	// Upstreams reads the balancer's counters per replica, cumulative since it
	// started, in the order of the replicas; Name is the replica's container name
	// where it is known.
	Upstreams(ctx context.Context) ([]result.EndpointCount, error)
}

// Stack is one scenario's running service.
type Stack interface {
	// Endpoints lists every replica, in a stable order.
	Endpoints() []Endpoint
	// Sample reads the current CPU, memory, network and PIDs of every replica.
	Sample(ctx context.Context) ([]result.Sample, error)
	// Events returns what happened to the replicas since Up (OOM kills, exits,
	// restarts), in time order.
	Events() []result.Event
	// Advisory is true when limits are not enforced, only hinted to the service.
	Advisory() bool
	// UpTimes says how long Up took to start the replicas (e.g. compose up) and
	// then to see every one healthy: the scenario's Up and Healthy phases.
	UpTimes() (start, healthy time.Duration)
	// Down removes everything Up created. It is safe to call more than once.
	Down(ctx context.Context) error
}
