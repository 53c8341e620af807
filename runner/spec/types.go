package spec

import (
	"strings"
	"time"
)

// File is a scenario file: the service under test, the request to send, the
// defaults, the service-level objective and the experiment grid. Its yaml tags are
// the keys of the scenario format; `runner schema` derives the JSON Schema from them.
type File struct {
	// Name names the study; run IDs, image names and compose projects derive from it.
	// Lowercase letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Platform is auto (compose when a Docker daemon answers, else local), compose,
	// swarm, local or external.
	Platform string `yaml:"platform"`
	// Service is the system under test; required unless Platform is external.
	Service *Service `yaml:"service"`
	// Targets are the base URLs of already running endpoints (external platform only).
	Targets []string `yaml:"targets"`
	// Network is an external Docker network the service joins (created by the platform
	// when missing), e.g. the workshop's my_shared_network.
	Network string `yaml:"network"`
	// Swarm configures platform swarm; the other platforms ignore it, so that one
	// file runs unchanged on compose and swarm.
	Swarm *Swarm `yaml:"swarm"`
	// Request is the HTTP request every virtual user or arrival sends.
	Request Request `yaml:"request"`
	// Defaults fill what a grid block or load entry omits.
	Defaults Defaults `yaml:"defaults"`
	// SLO is checked against every scenario's measurements.
	SLO *SLO `yaml:"slo"`
	// Grid lists the experiment blocks; each block expands to the cartesian product
	// of its axes.
	Grid []Block `yaml:"grid"`

	// Path is the file as given to Load.
	Path string `yaml:"-"`
	// Dir is the absolute folder of the file; relative paths in it resolve from here.
	Dir string `yaml:"-"`

	pos    positions
	bodies [][]byte
}

// Service is the system under test.
type Service struct {
	// Build is a folder, relative to the scenario file, holding a Dockerfile (docker
	// build) or a Go main package (static build into a FROM scratch image).
	// After Load it is absolute.
	Build string `yaml:"build"`
	// Image is the image to run as is, or the name given to the built image.
	Image string `yaml:"image"`
	// Template is a compose template (text/template) replacing the embedded default,
	// relative to the scenario file. After Load it is absolute.
	Template string `yaml:"template"`
	// Port is the port the service listens on inside its container.
	Port int `yaml:"port"`
	// Health is the HTTP path polled until every replica answers 2xx.
	Health string `yaml:"health"`
	// HealthTimeout bounds the wait for every replica to become healthy.
	HealthTimeout Duration `yaml:"health_timeout"`
	// HostPorts is the host port range ("18000-18999") from which a contiguous block
	// of one port per replica is published.
	HostPorts PortRange `yaml:"host_ports"`
	// Address says where the load generator sends requests: published (default: each
	// replica's published host port on 127.0.0.1, through Docker's userland proxy, as
	// a client on the host would) or container (each container's own address on its
	// network, past the proxy, which gives up at about as many connections as half
	// the daemon's file limit).
	Address string `yaml:"address"`
	// Env is extra environment for the service.
	Env map[string]string `yaml:"env"`
	// Command is the local platform's command line; "{{.Port}}" is replaced by the
	// replica's port. Empty means the binary built from Build.
	Command []string `yaml:"command"`

	// BuildKind is "dockerfile" or "go" after Load when Build is set.
	BuildKind string `yaml:"-"`
}

// Swarm configures platform swarm (docker stack deploy).
type Swarm struct {
	// Publish is how the replicas' port is published: auto (ingress where the
	// routing mesh works, i.e. IPVS is in the kernel, else host), host (every task
	// on its own host port of its node, one endpoint per replica) or ingress (one
	// port on every node; the routing mesh balances).
	Publish string `yaml:"publish"`
	// Constraints are placement constraints of every service of the stack, as in
	// deploy.placement.constraints: "node.labels.runner==sut", "node.role==worker".
	Constraints []string `yaml:"constraints"`
	// Nodes are the Docker APIs of the swarm's nodes the runner reads telemetry
	// from and sends load to, by node hostname. The node the runner talks to (the
	// manager of DOCKER_HOST) needs no entry.
	Nodes []Node `yaml:"nodes"`
}

// Node is one swarm node the runner can reach.
type Node struct {
	// Name is the node's hostname, as `docker node ls` shows it.
	Name string `yaml:"name"`
	// DockerHost is the node's Docker API, as DOCKER_HOST: tcp://10.0.0.2:2375,
	// unix:///var/run/docker.sock.
	DockerHost string `yaml:"docker_host"`
	// Address is where the node's published ports answer; default: the host of
	// DockerHost, or the address the swarm knows the node by.
	Address string `yaml:"address"`
}

// Request is the HTTP request template of the load.
type Request struct {
	// Method is the HTTP method.
	Method string `yaml:"method"`
	// Path is the URL path (and query) appended to each endpoint's base URL.
	Path string `yaml:"path"`
	// Headers are sent with every request.
	Headers map[string]string `yaml:"headers"`
	// Body is an inline request body.
	Body string `yaml:"body"`
	// BodyFile is a file holding the body, relative to the scenario file.
	BodyFile string `yaml:"body_file"`
	// BodyFiles are several bodies, sent in turn (BodyOrder cycle) or at random.
	BodyFiles []string `yaml:"body_files"`
	// BodyOrder is cycle (default) or random, for BodyFiles.
	BodyOrder string `yaml:"body_order"`
}

// Defaults fill what a grid block or a load entry omits.
type Defaults struct {
	// Duration is the measured load duration.
	Duration Duration `yaml:"duration"`
	// Warmup is load sent before Duration and excluded from the metrics.
	Warmup Duration `yaml:"warmup"`
	// Balancer is none (all load to the first replica), client (round-robin over
	// every replica) or proxy (a reverse proxy in the stack in front of the
	// replicas), or a proxy with options: {type: proxy, policy: least_conn, cpus: 0.5, memory: 128M}.
	Balancer BalancerSpec `yaml:"balancer"`
	// Think is the closed-model wait between one user's requests: "0s", "1s" or a
	// uniform range "1s..3s".
	Think Think `yaml:"think"`
	// SpawnRate is the closed-model users started per second.
	SpawnRate float64 `yaml:"spawn_rate"`
	// Replicas is the number of service replicas.
	Replicas int `yaml:"replicas"`
	// CPUs is the CPU limit per replica (a number or unlimited).
	CPUs CPUs `yaml:"cpus"`
	// Memory is the memory limit per replica (10G, 700M, or unlimited).
	Memory Memory `yaml:"memory"`
	// CPUSet pins the service to CPUs ("1", "0-1"), leaving the others to the load generator.
	CPUSet string `yaml:"cpuset"`
	// Timeout bounds each request.
	Timeout Duration `yaml:"timeout"`
	// MaxWorkers caps the open model's concurrent requests.
	MaxWorkers int `yaml:"max_workers"`
}

// Block is one grid block. List-valued axes multiply; a scalar is a list of one.
type Block struct {
	// Name starts the ID of every scenario of the block.
	Name string `yaml:"name"`
	// Replicas lists replica counts.
	Replicas []int `yaml:"replicas"`
	// CPUs lists CPU limits per replica.
	CPUs []CPUs `yaml:"cpus"`
	// Memory lists memory limits per replica.
	Memory []Memory `yaml:"memory"`
	// Balancer lists balancing modes: none, client, proxy or a proxy with options.
	Balancer []BalancerSpec `yaml:"balancer"`
	// CPUSet pins the block's service to CPUs.
	CPUSet string `yaml:"cpuset"`
	// Duration overrides the default load duration for the block.
	Duration Duration `yaml:"duration"`
	// Warmup overrides the default warm-up for the block.
	Warmup Duration `yaml:"warmup"`
	// Load lists load levels.
	Load []LoadEntry `yaml:"load"`
}

// LoadEntry is one load level: closed (users, spawn_rate, think), open (rate,
// constant or ramp) or a capacity search (search).
type LoadEntry struct {
	// Users is the number of closed-model users.
	Users int `yaml:"users"`
	// SpawnRate is users started per second until all run.
	SpawnRate float64 `yaml:"spawn_rate"`
	// Think is the wait between one user's requests.
	Think Think `yaml:"think"`
	// Rate is the open-model arrival rate: "200/s", or a ramp {from: 10/s, to: 2000/s}.
	Rate *RateSpec `yaml:"rate"`
	// Duration overrides the measured duration.
	Duration Duration `yaml:"duration"`
	// Warmup overrides the warm-up.
	Warmup Duration `yaml:"warmup"`
	// Timeout overrides the per-request timeout.
	Timeout Duration `yaml:"timeout"`
	// MaxWorkers overrides the open model's worker cap.
	MaxWorkers int `yaml:"max_workers"`
	// Search finds the highest constant arrival rate that meets the SLO:
	// {from: 50/s, to: 5000/s}, optionally steps, step_duration and precision.
	Search *Search `yaml:"search"`
}

// Search is a capacity search: constant-rate open-model steps that widen from
// From (doubling while the SLO is met) and then bisect, per configuration.
type Search struct {
	// From is the first (lowest) arrival rate tried, e.g. 50/s.
	From Rate `yaml:"from"`
	// To is the highest arrival rate tried, e.g. 5000/s.
	To Rate `yaml:"to"`
	// Steps is the step budget (widening and bisection together); default 10.
	Steps int `yaml:"steps"`
	// StepDuration is the measured time of each step, after its own warm-up; default 10s.
	StepDuration Duration `yaml:"step_duration"`
	// Precision is the relative bracket width at which bisection stops ("5%" or 0.05); default 5%.
	Precision *Percent `yaml:"precision"`
}

// SLO is the service-level objective as written.
type SLO struct {
	// P50 is the highest allowed median latency.
	P50 Duration `yaml:"p50"`
	// P95 is the highest allowed 95th percentile latency.
	P95 Duration `yaml:"p95"`
	// P99 is the highest allowed 99th percentile latency.
	P99 Duration `yaml:"p99"`
	// ErrorRate is the highest allowed share of failed requests ("1%" or 0.01).
	ErrorRate *Percent `yaml:"error_rate"`
	// MinThroughput is the lowest allowed rate of successful requests ("100/s").
	MinThroughput Rate `yaml:"min_throughput"`
}

// Scenario is one expanded point of the grid with everything needed to run it.
type Scenario struct {
	// ID is stable for the same file, unique, starts with Block and contains only
	// [a-z0-9_-], so it can be a directory name and a compose project suffix.
	ID string
	// Block is the grid block's name.
	Block string
	// Index is the scenario's position in the file's expansion, from 0.
	Index int
	// Platform is the file's platform.
	Platform string
	// Replicas is the number of service replicas (0 on the external platform).
	Replicas int
	// CPUs per replica; 0 means unlimited.
	CPUs float64
	// MemoryBytes per replica; 0 means unlimited.
	MemoryBytes int64
	// CPUSet pins the service to CPUs; empty means no pinning.
	CPUSet string
	// Balancer is none, client or proxy.
	Balancer string
	// Proxy is the load balancer's configuration when Balancer is proxy, else nil.
	Proxy *Proxy
	// Load is the load level.
	Load Workload
	// Request is the request template with bodies read.
	Request ResolvedRequest
	// Service is the system under test (zero on the external platform).
	Service Service
	// Image is the image name the compose file refers to.
	Image string
	// Network is the external network the service joins, if any.
	Network string
	// Targets are the external platform's endpoints.
	Targets []string
}

// Workload is a resolved load level. Exactly one of Users (closed model) or
// Rate/RateFrom/RateTo (open model) is set.
type Workload struct {
	// Users is the closed model's user count.
	Users int
	// SpawnRate is users started per second.
	SpawnRate float64
	// ThinkMin and ThinkMax bound the uniform think time; equal for a fixed wait.
	ThinkMin, ThinkMax time.Duration
	// Rate is the constant open-model arrival rate per second.
	Rate float64
	// RateFrom and RateTo are a linear ramp's start and end rates per second.
	RateFrom, RateTo float64
	// Duration is the measured window.
	Duration time.Duration
	// Warmup precedes Duration and is excluded from the metrics.
	Warmup time.Duration
	// Timeout bounds each request.
	Timeout time.Duration
	// MaxWorkers caps concurrent requests of the open model.
	MaxWorkers int
	// SearchFrom and SearchTo bound a capacity search's rates per second; both
	// zero for other loads. Duration and Warmup are then those of each step.
	SearchFrom, SearchTo float64
	// SearchSteps is the capacity search's step budget.
	SearchSteps int
	// SearchPrecision is the relative bracket width at which bisection stops, 0..1.
	SearchPrecision float64
}

// ResolvedRequest is the request template with its bodies read from disk.
type ResolvedRequest struct {
	Method  string
	Path    string
	Headers map[string]string
	// Bodies holds one body per body file (or the inline body); empty for none.
	Bodies [][]byte
	// Random is true when bodies are sampled at random instead of cycled.
	Random bool
}

// BalancerSpec is a balancing mode as written: a name (none, client, proxy), or a
// mapping for a proxy with options.
type BalancerSpec struct {
	// Type is none, client or proxy.
	Type string `yaml:"type"`
	// Policy is the proxy's balancing policy: round_robin (default) or least_conn.
	Policy string `yaml:"policy"`
	// CPUs is the proxy container's CPU limit (a number or unlimited).
	CPUs CPUs `yaml:"cpus"`
	// Memory is the proxy container's memory limit (128M, or unlimited).
	Memory Memory `yaml:"memory"`
	// Image runs HAProxy or nginx from this image (haproxy:2.6, or
	// registry.example.com/nginx:1.22) instead of the runner's own proxy; the
	// runner generates its config. The image's repository name must be haproxy or
	// nginx, and the image must be in the user's registry or on the daemon.
	Image string `yaml:"image"`
}

// Proxy is a resolved `balancer: proxy`: the reverse proxy put in front of the
// replicas (see package proxy).
type Proxy struct {
	// Policy is round_robin or least_conn.
	Policy string
	// CPUs is the proxy's CPU limit; 0 means unlimited.
	CPUs float64
	// MemoryBytes is the proxy's memory limit; 0 means unlimited.
	MemoryBytes int64
	// Image is the proxy image the compose file runs.
	Image string
	// Kind is what the image runs: ProxyRunner (the runner's own proxy, built
	// from cmd/proxy), ProxyHAProxy or ProxyNginx (a user's image, configured by
	// the runner).
	Kind string
}

// Proxy kinds.
const (
	ProxyRunner  = "runner"
	ProxyHAProxy = "haproxy"
	ProxyNginx   = "nginx"
)

// Runner reports whether the proxy is the runner's own, built from cmd/proxy (an
// empty Kind counts as runner).
func (p *Proxy) Runner() bool { return p.Kind == "" || p.Kind == ProxyRunner }

// ProxyKind returns the kind of load balancer an image runs, from its
// repository's last path element (haproxy, nginx); "" when it is neither.
func ProxyKind(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	ref, _, _ = strings.Cut(ref, ":")
	switch ref {
	case ProxyHAProxy, ProxyNginx:
		return ref
	}
	return ""
}
