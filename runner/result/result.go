package result

import "time"

// Scenario is one expanded point of the experiment grid, flattened to what reports
// need. Zero CPUs or MemoryBytes mean unlimited.
type Scenario struct {
	// ID is stable for the same file and starts with the block name.
	ID string `json:"scenario"`
	// Block is the grid block the scenario came from.
	Block string `json:"block"`
	// Replicas is the number of service replicas.
	Replicas int `json:"replicas"`
	// CPUs is the CPU limit per replica; 0 means unlimited.
	CPUs float64 `json:"cpus"`
	// MemoryBytes is the memory limit per replica; 0 means unlimited.
	MemoryBytes int64 `json:"memory_bytes"`
	// CPUSet pins the replicas to these CPUs ("1", "0-1"); empty means no pinning.
	CPUSet string `json:"cpuset,omitempty"`
	// Balancer is none, client or proxy.
	Balancer string `json:"balancer"`
	// BalancerCPUs and BalancerMemoryBytes are the proxy's own limits (balancer:
	// proxy); 0 means unlimited, or no proxy.
	BalancerCPUs        float64 `json:"balancer_cpus,omitempty"`
	BalancerMemoryBytes int64   `json:"balancer_memory_bytes,omitempty"`
	// Users is the closed-model user count (0 for open-model scenarios).
	Users int `json:"users,omitempty"`
	// SpawnRate is the closed-model users started per second.
	SpawnRate float64 `json:"spawn_rate,omitempty"`
	// Think is the closed-model wait between one user's requests, e.g. "1s..3s".
	Think string `json:"think,omitempty"`
	// Rate is the open-model arrival rate as written, e.g. "200/s" or "10/s..2000/s".
	Rate string `json:"rate,omitempty"`
	// Duration is the measured load duration (warm-up excluded).
	Duration time.Duration `json:"duration_ns"`
	// Warmup is sent before Duration and excluded from the metrics.
	Warmup time.Duration `json:"warmup_ns"`
	// Search is a capacity search's range of arrival rates, e.g. "50/s..5000/s";
	// empty for other scenarios. Duration and Warmup are then those of each step.
	Search string `json:"search,omitempty"`
	// Repeat is how many times the scenario is planned to run; 0 (runs written
	// before repeats existed) means 1.
	Repeat int `json:"repeat,omitempty"`
	// Generators is the number of load agents that sent the load (0: the
	// runner's own process).
	Generators int `json:"generators,omitempty"`
}

// Latency summarises response times of the measured requests.
type Latency struct {
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
}

// EndpointCount is the share of the load one endpoint (replica) received.
type EndpointCount struct {
	// URL is the endpoint's base URL.
	URL string `json:"url"`
	// Requests sent to it (measured window).
	Requests uint64 `json:"requests"`
	// Errors among them.
	Errors uint64 `json:"errors"`
	// Name is the replica's container name when the counts come from a load
	// balancer in the stack (balancer: proxy), whose URL is the replica's address.
	Name string `json:"name,omitempty"`
}

// Second is one point of the per-second time series of the load.
type Second struct {
	// T is the second since the start of the measured window.
	T        int           `json:"t"`
	Requests uint64        `json:"requests"`
	Errors   uint64        `json:"errors"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	// Users is the number of closed-model users running at the end of the second.
	Users int `json:"users,omitempty"`
	// Tokens is the output tokens that arrived in the second (streaming).
	Tokens uint64 `json:"tokens,omitempty"`
	// TTFTP50 and TTFTP99 are the time-to-first-token percentiles of the
	// requests whose first token arrived in the second (streaming).
	TTFTP50 time.Duration `json:"ttft_p50_ns,omitempty"`
	TTFTP99 time.Duration `json:"ttft_p99_ns,omitempty"`
}

// Load is what the load engine measured for one scenario.
type Load struct {
	// Requests completed in the measured window (warm-up excluded).
	Requests uint64 `json:"requests"`
	// WarmupRequests were sent during warm-up and excluded.
	WarmupRequests uint64 `json:"warmup_requests"`
	// Elapsed is the wall time of the measured window.
	Elapsed time.Duration `json:"elapsed_ns"`
	// RateRPS is requests sent per second.
	RateRPS float64 `json:"rate_rps"`
	// ThroughputRPS is successful requests per second.
	ThroughputRPS float64 `json:"throughput_rps"`
	// SuccessRatio is successful / all requests, 0..1.
	SuccessRatio float64 `json:"success_ratio"`
	Latency      Latency `json:"latency"`
	// StatusCodes counts responses by HTTP status ("0" for transport errors).
	StatusCodes map[string]uint64 `json:"status_codes"`
	// Errors counts error messages.
	Errors map[string]uint64 `json:"errors"`
	// Endpoints is the per-endpoint request share.
	Endpoints []EndpointCount `json:"endpoints"`
	// Series is the per-second time series.
	Series []Second `json:"series"`
	// RequestedRPS is the mean arrival rate asked for (open model); 0 for closed.
	RequestedRPS float64 `json:"requested_rps,omitempty"`
	// Shortfall is true when the achieved rate fell more than 5% below RequestedRPS.
	Shortfall bool `json:"shortfall"`
	// GeneratorCPU is the CPU time the load generator process used during the load.
	GeneratorCPU time.Duration `json:"generator_cpu_ns"`
	// GeneratorPeakRSSBytes is the load generator's peak resident memory.
	GeneratorPeakRSSBytes int64 `json:"generator_peak_rss_bytes"`
	// LatencyFrom says how latency was measured: "intended-send-time" when
	// corrected for coordinated omission, otherwise "actual-send-time" and why.
	LatencyFrom string `json:"latency_from"`
	// PeakInFlight is the highest number of requests in flight at once.
	PeakInFlight int `json:"peak_in_flight"`
	// MaxInFlight is the open model's cap on requests in flight (and on
	// connections per endpoint); 0 for the closed model. PeakInFlight reaching
	// it means requests waited for a free connection.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// SendLagP50 and SendLagP99 are how late the open model's generator sent
	// requests behind their intended send times (included in the latency); 0
	// for the closed model.
	SendLagP50 time.Duration `json:"send_lag_p50_ns,omitempty"`
	SendLagP99 time.Duration `json:"send_lag_p99_ns,omitempty"`
	// GeneratorCPUShare is GeneratorCPU over the measured window and the
	// generator's CPUs (GOMAXPROCS), 0..1.
	GeneratorCPUShare float64 `json:"generator_cpu_share,omitempty"`
	// GeneratorBound is true when the generator, not the service, may have
	// bounded the numbers: its send lag is over a tenth of the p99, its CPU
	// was nearly all used, or the cap on requests in flight was reached while
	// the rate fell short.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// Notes are honesty remarks the report shows next to the numbers.
	Notes []string `json:"notes,omitempty"`
	// Stream holds the streaming figures (request.stream: sse); nil otherwise.
	Stream *Stream `json:"stream,omitempty"`
	// Goodput is the rate of requests that met slo.goodput; nil without it.
	Goodput *GoodputResult `json:"goodput,omitempty"`
	// ByName is the per-request-name share of a mix (requests:); nil otherwise.
	ByName []NameCount `json:"by_name,omitempty"`
	// Generators are the load agents that sent the load (generators), by slot;
	// nil when the runner's own process sent it. The figures above are then
	// merged from every agent's raw results.
	Generators []Generator `json:"generators,omitempty"`
	// Capacity is the result of a capacity search; nil for other scenarios. The
	// other fields of a search's Load are those of its highest passing step (of its
	// first step when none passed).
	Capacity *Capacity `json:"capacity,omitempty"`
}

// Generator is one load agent of a scenario sent by several (generators).
type Generator struct {
	// Name is its swarm task, STACK_agent.SLOT.
	Name string `json:"name"`
	// Node is the hostname of the node it ran on.
	Node string `json:"node,omitempty"`
	// Requests and WarmupRequests are the results it delivered, from its raw
	// results (those of an agent that died included).
	Requests       uint64 `json:"requests"`
	WarmupRequests uint64 `json:"warmup_requests"`
	// RateRPS is the rate it sent in its measured window; RequestedRPS its
	// share of the rate asked for (open model).
	RateRPS      float64 `json:"rate_rps"`
	RequestedRPS float64 `json:"requested_rps,omitempty"`
	// Shortfall is true when it sent more than 5% below its share.
	Shortfall bool `json:"shortfall"`
	// CPU is the CPU time it used in its measured window; CPUShare that over
	// the window and its CPUs (Procs, its GOMAXPROCS), 0..1.
	CPU      time.Duration `json:"cpu_ns"`
	CPUShare float64       `json:"cpu_share"`
	Procs    int           `json:"procs,omitempty"`
	// SendLagP99 is how late it sent behind its schedule (open model).
	SendLagP99 time.Duration `json:"send_lag_p99_ns,omitempty"`
	// Late is how long after the agreed instant it started.
	Late time.Duration `json:"late_ns,omitempty"`
	// Overloaded is true when it, not the service, may have bounded its share:
	// its CPU, send lag or connection cap (as Load.GeneratorBound), or a shortfall.
	Overloaded bool `json:"overloaded,omitempty"`
	// Error says why it did not finish (it died, its node went); empty when it did.
	Error string `json:"error,omitempty"`
}

// Capacity is what a capacity search found: the highest constant arrival rate at
// which the service met the SLO, with every step tried.
type Capacity struct {
	// RPS is the highest requested rate whose step met the SLO; 0 when even the
	// lowest rate of the range missed it.
	RPS float64 `json:"rps"`
	// FromRPS and ToRPS are the searched range.
	FromRPS float64 `json:"from_rps"`
	ToRPS   float64 `json:"to_rps"`
	// Precision is the relative width of the final bracket the search aimed at, 0..1.
	Precision float64 `json:"precision"`
	// UpperRPS is the lowest rate that missed the SLO (or whose generator fell
	// short); 0 when every step passed.
	UpperRPS float64 `json:"upper_rps,omitempty"`
	// Converged is true when the search ended with UpperRPS within Precision of RPS.
	Converged bool `json:"converged"`
	// LowerBound is true when the service may serve more than RPS: every step
	// passed up to ToRPS, the step budget ran out while widening, or the load
	// generator, not the service, fell short at UpperRPS.
	LowerBound bool `json:"lower_bound"`
	// Reason says how the search ended, in a sentence.
	Reason string `json:"reason"`
	// Steps are the steps in the order they ran.
	Steps []CapacityStep `json:"steps"`
}

// CapacityStep is one constant-rate step of a capacity search.
type CapacityStep struct {
	// RateRPS is the requested arrival rate.
	RateRPS float64 `json:"rate_rps"`
	// Pass is true when the step met the SLO and the generator kept up.
	Pass bool `json:"pass"`
	// AchievedRPS is the rate actually sent.
	AchievedRPS float64 `json:"achieved_rps"`
	// ThroughputRPS is successful requests per second.
	ThroughputRPS float64 `json:"throughput_rps"`
	// P50, P95 and P99 are latency percentiles of the step's measured requests.
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	// ErrorRatio is failed / all measured requests, 0..1.
	ErrorRatio float64 `json:"error_ratio"`
	// Requests is the number of measured requests.
	Requests uint64 `json:"requests"`
	// Shortfall is true when the generator sent less than 95% of RateRPS.
	Shortfall bool `json:"shortfall"`
	// Failures are the SLO objectives the step missed.
	Failures []string `json:"failures,omitempty"`
	// ResultsFile is the step's raw results file, relative to the scenario's folder.
	ResultsFile string `json:"results_file,omitempty"`
}

// Roles of the containers of a stack, in samples and events.
const (
	// RoleReplica is a replica of the service under test.
	RoleReplica = "replica"
	// RoleBalancer is the load balancer in front of the replicas (balancer: proxy).
	RoleBalancer = "balancer"
	// RoleSide is any other container of the stack: a service a user's compose
	// template runs beside the one under test (a model registry, a cache).
	RoleSide = "side"
)

// Sample is one telemetry reading of one container (or local process).
type Sample struct {
	Time          time.Time `json:"time"`
	Container     string    `json:"container"`
	CPUPct        float64   `json:"cpu_pct"`
	MemBytes      int64     `json:"mem_bytes"`
	MemLimitBytes int64     `json:"mem_limit_bytes"`
	NetRxBytes    uint64    `json:"net_rx_bytes"`
	NetTxBytes    uint64    `json:"net_tx_bytes"`
	PIDs          uint64    `json:"pids"`
	// Role is one of the Role* constants; empty (runs before roles were
	// recorded) means a replica, or the balancer by its name.
	Role string `json:"role,omitempty"`
}

// Event kinds.
const (
	EventOOM      = "oom"
	EventDie      = "die"
	EventRestart  = "restart"
	EventStart    = "start"
	EventKill     = "kill"
	EventHealth   = "health_failed"
	EventPlatform = "platform_error"
	// EventMemLimit marks the first reading of a container's life at which its
	// memory was at its limit (see monitor.LimitRatio).
	EventMemLimit = "mem_limit"
)

// Event is something that happened to a container or to the platform.
type Event struct {
	Time      time.Time `json:"time"`
	Container string    `json:"container,omitempty"`
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// ExitCode is set for die events.
	ExitCode *int   `json:"exit_code,omitempty"`
	Message  string `json:"message,omitempty"`
	// Role is RoleSide for a side service's container; empty otherwise.
	Role string `json:"role,omitempty"`
	// AtLimit is set on the oom event that ended a container's life after its
	// memory had reached its limit: the time since its mem_limit event.
	AtLimit time.Duration `json:"at_limit_ns,omitempty"`
}

// ContainerSummary is the telemetry summary of one container.
type ContainerSummary struct {
	Name          string  `json:"name"`
	PeakMemBytes  int64   `json:"peak_mem_bytes"`
	MemLimitBytes int64   `json:"mem_limit_bytes"`
	MeanCPUPct    float64 `json:"mean_cpu_pct"`
	PeakCPUPct    float64 `json:"peak_cpu_pct"`
	// AtLimitBeforeOOM is how long the container's memory had been at its limit
	// when the OOM killer ended one of its lives (the longest, over its lives);
	// 0 when no OOM kill followed a reading at the limit.
	AtLimitBeforeOOM time.Duration `json:"at_limit_before_oom_ns,omitempty"`
}

// ServiceSummary is the telemetry summary of one side service's container (see
// RoleSide), with what happened to it.
type ServiceSummary struct {
	ContainerSummary
	// OOMKills counts the container's lives that ended in an OOM kill.
	OOMKills int `json:"oom_kills"`
	// Restarts counts its restarts.
	Restarts int `json:"restarts"`
}

// Resources summarises what the service's containers used during the scenario.
type Resources struct {
	// PeakMemBytes is the highest memory of any one replica.
	PeakMemBytes int64 `json:"peak_mem_bytes"`
	// MeanCPUPct is the mean over samples of the sum of all replicas' CPU %.
	MeanCPUPct float64 `json:"mean_cpu_pct"`
	// PeakCPUPct is the highest sum of all replicas' CPU %.
	PeakCPUPct float64 `json:"peak_cpu_pct"`
	OOMKills   int     `json:"oom_kills"`
	Restarts   int     `json:"restarts"`
	// Advisory is true when limits could not be enforced (local platform without
	// cgroups) and were only applied as GOMAXPROCS/GOMEMLIMIT.
	Advisory   bool               `json:"advisory"`
	Containers []ContainerSummary `json:"containers"`
	// Balancer is the load balancer container in the stack (balancer: proxy); it is
	// not a replica, so it is in none of the figures above. Nil without one.
	Balancer *ContainerSummary `json:"balancer,omitempty"`
	// Services are the side services' containers (see RoleSide), in name order;
	// they are in none of the figures above either.
	Services []ServiceSummary `json:"services,omitempty"`
}

// Phases are the wall times of the orchestration phases of a scenario.
type Phases struct {
	Build   time.Duration `json:"build_ns"`
	Up      time.Duration `json:"up_ns"`
	Healthy time.Duration `json:"healthy_ns"`
	Load    time.Duration `json:"load_ns"`
	Down    time.Duration `json:"down_ns"`
}

// Outcome statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Outcome is everything recorded about one scenario of a run.
type Outcome struct {
	Scenario Scenario `json:"scenario"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Error says why the scenario failed.
	Error     string    `json:"error,omitempty"`
	Load      Load      `json:"load"`
	Resources Resources `json:"resources"`
	Phases    Phases    `json:"phases"`
	// SLOPass is nil when the file sets no SLO.
	SLOPass *bool `json:"slo_pass,omitempty"`
	// SLOFailures says which objectives failed, e.g. "p95 4.1s > 3s".
	SLOFailures []string  `json:"slo_failures,omitempty"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	// Repeats holds every repeat of a scenario run more than once, in the order
	// they ran; the fields above are then the median over the repeats (see
	// Median). Empty for a scenario run once.
	Repeats []Outcome `json:"repeats,omitempty"`
	// Repeat is the 1-based number of this repeat, in a repeat's own outcome;
	// 0 in a scenario's outcome.
	Repeat int `json:"repeat,omitempty"`
	// MedianRepeat is the number of the repeat whose series, status codes,
	// errors, request share, container figures and telemetry files a median
	// outcome carries (see Median); 0 for a scenario run once.
	MedianRepeat int `json:"median_repeat,omitempty"`
}

// Host describes the machine a run ran on.
type Host struct {
	Hostname       string `json:"hostname"`
	OS             string `json:"os"`
	Kernel         string `json:"kernel,omitempty"`
	CPUs           int    `json:"cpus"`
	MemoryBytes    int64  `json:"memory_bytes"`
	DockerVersion  string `json:"docker_version,omitempty"`
	ComposeVersion string `json:"compose_version,omitempty"`
}

// Run is the metadata of a run plus, when aggregated, its outcomes.
type Run struct {
	ID string `json:"id"`
	// Name is the scenario file's name field.
	Name string `json:"name"`
	// File is the scenario file path as given.
	File string `json:"file"`
	// GitCommit of the scenario file's repository, if any.
	GitCommit string `json:"git_commit,omitempty"`
	Platform  string `json:"platform"`
	// PlatformNotes are facts about the platform the report shows (e.g. advisory limits).
	PlatformNotes []string  `json:"platform_notes,omitempty"`
	Host          Host      `json:"host"`
	RunnerVersion string    `json:"runner_version"`
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended"`
	// Build is the time spent preparing the platform (building the image) once.
	Build time.Duration `json:"build_ns"`
	SLO   *SLO          `json:"slo,omitempty"`
	// Noise is the host's load and steal during the run (Linux; nil elsewhere).
	Noise     *HostNoise `json:"noise,omitempty"`
	Scenarios []Outcome  `json:"scenarios,omitempty"`
}

// SLO is the service-level objective every scenario is checked against. Zero fields
// are not checked.
type SLO struct {
	P50 time.Duration `json:"p50_ns,omitempty"`
	P95 time.Duration `json:"p95_ns,omitempty"`
	P99 time.Duration `json:"p99_ns,omitempty"`
	// ErrorRate is the highest allowed failed/all ratio, 0..1; nil means unchecked.
	ErrorRate *float64 `json:"error_rate,omitempty"`
	// MinThroughputRPS is the lowest allowed successful requests per second.
	MinThroughputRPS float64 `json:"min_throughput_rps,omitempty"`
	// TTFT*, ITL* and TPOT* are the highest allowed percentiles of the streaming
	// figures (time to first token, inter-token latency, time per output token).
	TTFTP50 time.Duration `json:"ttft_p50_ns,omitempty"`
	TTFTP95 time.Duration `json:"ttft_p95_ns,omitempty"`
	TTFTP99 time.Duration `json:"ttft_p99_ns,omitempty"`
	ITLP95  time.Duration `json:"itl_p95_ns,omitempty"`
	ITLP99  time.Duration `json:"itl_p99_ns,omitempty"`
	TPOTP95 time.Duration `json:"tpot_p95_ns,omitempty"`
	TPOTP99 time.Duration `json:"tpot_p99_ns,omitempty"`
	// Goodput is the per-request limits of goodput; nil when not set.
	Goodput *Goodput `json:"goodput,omitempty"`
}
