package spec

import (
	"strings"
	"time"

	"github.com/infergrid/runner/runner/dataset"
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
	// Requests is a weighted mix of requests instead of Request: each entry is a
	// request with a name and a weight, and each request sent picks one entry.
	Requests []Request `yaml:"requests"`
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

	pos positions
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
	// Command is the command line that starts the service on the local platform,
	// each argument a text/template expanded per replica: {{.Port}} (where it
	// must listen), {{.Addr}} (127.0.0.1:PORT), {{.Replica}} (from 1). With
	// Command, the local platform builds nothing, and Command alone (no Build, no
	// Image) is a complete service there; compose and swarm ignore it. Empty
	// means the binary built from Build (a Go main package).
	Command []string `yaml:"command"`
	// Workdir is the folder Command runs in, relative to the scenario file
	// (default: the scenario file's folder). After Load it is absolute.
	Workdir string `yaml:"workdir"`

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
	// GeneratorConstraints place the load agents of scenarios with generators
	// (and only them), as constraints place the stack: e.g.
	// "node.labels.runner.role==load" keeps them off the nodes under test.
	// Empty: anywhere in the swarm.
	GeneratorConstraints []string `yaml:"generator_constraints"`
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
	// Dataset is a JSON Lines file, relative to the scenario file: one request
	// body per line (instead of body, body_file or body_files). Blank lines are
	// skipped; the file may hold up to 2 GiB.
	Dataset string `yaml:"dataset"`
	// Order is cycle (default) or random: the order in which the bodies of
	// dataset or body_files are sent (body_order is its older name).
	Order string `yaml:"order"`
	// Seed makes a random order (and a mix's choices) repeatable; 0 draws one.
	Seed int `yaml:"seed"`
	// Stream is none (default) or sse: read the answer as Server-Sent Events and
	// measure time to first token, inter-token latency and output tokens.
	Stream string `yaml:"stream"`
	// Name names an entry of requests (a mix); reports count each name apart.
	Name string `yaml:"name"`
	// Weight is an entry's share of a mix, relative to the other entries' (default 1).
	Weight *float64 `yaml:"weight"`

	bodies [][]byte
	data   *dataset.Dataset
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
	// Repeat runs every scenario this many times (1 to 100, default 1), its stack
	// brought up afresh each time; results.csv gives the median over the repeats
	// with a confidence interval, and runner compare tests over them.
	Repeat int `yaml:"repeat"`
	// Generators sends the load from this many load agents (the runner's own
	// agent, deployed as a swarm service with one task each, placed by
	// swarm.generator_constraints) instead of the runner's process; each sends
	// its share of the rate or users from one agreed instant. Platform swarm only.
	Generators int `yaml:"generators"`
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
	// Repeat overrides the default number of runs of each of the block's scenarios.
	Repeat int `yaml:"repeat"`
	// Generators overrides the default number of load agents of the block's scenarios.
	Generators int `yaml:"generators"`
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
	// Arrival is how an open model's (or a search step's) requests arrive at a
	// constant mean rate: constant (default, evenly spaced), poisson (exponential
	// gaps) or gamma (gamma gaps of shape burstiness).
	Arrival string `yaml:"arrival"`
	// Burstiness is the gamma shape of arrival gamma: 1 is Poisson, below 1
	// burstier (gaps vary by 1/sqrt(burstiness)), above 1 more regular; default 1.
	Burstiness float64 `yaml:"burstiness"`
	// Seed makes poisson and gamma arrivals repeatable; 0 draws one per run.
	Seed int `yaml:"seed"`
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
	// On is what a step must meet: slo (default: every objective of slo) or
	// goodput (at least min_goodput of the requests met slo.goodput's limits).
	On string `yaml:"on"`
	// MinGoodput is the share of a step's requests that must meet slo.goodput
	// when on is goodput; default 95%.
	MinGoodput *Percent `yaml:"min_goodput"`
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
	// TTFTP50, TTFTP95 and TTFTP99 are the highest allowed percentiles of the
	// time to first token (streaming requests).
	TTFTP50 Duration `yaml:"ttft_p50"`
	TTFTP95 Duration `yaml:"ttft_p95"`
	TTFTP99 Duration `yaml:"ttft_p99"`
	// ITLP95 and ITLP99 are the highest allowed percentiles of the gaps between
	// tokens (streaming requests).
	ITLP95 Duration `yaml:"itl_p95"`
	ITLP99 Duration `yaml:"itl_p99"`
	// TPOTP95 and TPOTP99 are the highest allowed percentiles of the time per
	// output token after the first (streaming requests).
	TPOTP95 Duration `yaml:"tpot_p95"`
	TPOTP99 Duration `yaml:"tpot_p99"`
	// Goodput sets per-request limits; requests that meet all of them count
	// towards goodput_rps.
	Goodput *Goodput `yaml:"goodput"`
}

// Goodput is the per-request limits of goodput: a request counts when it
// succeeded and met every limit set.
type Goodput struct {
	// TTFT is the highest time to first token (streaming requests).
	TTFT Duration `yaml:"ttft"`
	// TPOT is the highest time per output token after the first (streaming requests).
	TPOT Duration `yaml:"tpot"`
	// Latency is the highest end-to-end latency.
	Latency Duration `yaml:"latency"`
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
	// Request is the request template with bodies read (the first entry of a mix).
	Request ResolvedRequest
	// Mix is the weighted mix of requests when the file gives requests:, else nil.
	Mix []ResolvedRequest
	// Service is the system under test (zero on the external platform).
	Service Service
	// Image is the image name the compose file refers to.
	Image string
	// Network is the external network the service joins, if any.
	Network string
	// Targets are the external platform's endpoints.
	Targets []string
	// Repeat is how many times the scenario runs (1 or more).
	Repeat int
	// Generators is the number of load agents that send the load; 0 sends it
	// from the runner's own process.
	Generators int
	// GeneratorConstraints place the load agents (swarm.generator_constraints).
	GeneratorConstraints []string
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
	// SearchOnGoodput makes a search step pass on goodput instead of the SLO:
	// at least SearchMinGoodput (0..1) of its requests met the goodput limits.
	SearchOnGoodput  bool
	SearchMinGoodput float64
	// Arrival is poisson or gamma (open model and search steps); empty for constant.
	Arrival string
	// Burstiness is the gamma shape of gamma arrivals; 0 means 1.
	Burstiness float64
	// Seed makes poisson and gamma arrivals repeatable; 0 draws one.
	Seed uint64
}

// ResolvedRequest is the request template with its bodies read from disk.
type ResolvedRequest struct {
	Method  string
	Path    string
	Headers map[string]string
	// Bodies holds one body per body file (or the inline body); empty for none.
	Bodies [][]byte
	// Dataset holds the bodies of a dataset file instead of Bodies; nil for none.
	Dataset *dataset.Dataset
	// Random is true when bodies are sampled at random instead of cycled.
	Random bool
	// Seed seeds the random order and a mix's choice; 0 draws one.
	Seed uint64
	// Stream is true when answers are read as Server-Sent Events.
	Stream bool
	// Name is a mix entry's name; empty outside a mix.
	Name string
	// Weight is a mix entry's relative share.
	Weight float64
}

// BodyCount is the number of bodies the request cycles through (0: no body).
func (r ResolvedRequest) BodyCount() int {
	if r.Dataset != nil {
		return r.Dataset.Len()
	}
	return len(r.Bodies)
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
