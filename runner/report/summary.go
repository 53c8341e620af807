package report

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// Summary is summary.json: the run's metadata, every scenario's numbers (the same,
// equally rounded, as in results.csv), the findings and the problems met reading the
// run directory.
type Summary struct {
	Run       SummaryRun        `json:"run"`
	Scenarios []SummaryScenario `json:"scenarios"`
	// Missing lists planned scenarios without a readable outcome.
	Missing  []string  `json:"missing,omitempty"`
	Findings []Finding `json:"findings"`
	Problems []string  `json:"problems,omitempty"`
}

// SummaryRun is the run metadata of summary.json.
type SummaryRun struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	File          string      `json:"file"`
	GitCommit     string      `json:"git_commit,omitempty"`
	Platform      string      `json:"platform"`
	PlatformNotes []string    `json:"platform_notes,omitempty"`
	Host          result.Host `json:"host"`
	RunnerVersion string      `json:"runner_version"`
	Started       time.Time   `json:"started"`
	Ended         time.Time   `json:"ended"`
	SLO           *SummarySLO `json:"slo,omitempty"`
}

// SummarySLO is the run's SLO in milliseconds and ratios.
type SummarySLO struct {
	P50Ms            float64  `json:"p50_ms,omitempty"`
	P95Ms            float64  `json:"p95_ms,omitempty"`
	P99Ms            float64  `json:"p99_ms,omitempty"`
	ErrorRate        *float64 `json:"error_rate,omitempty"`
	MinThroughputRPS float64  `json:"min_throughput_rps,omitempty"`
}

// SummaryScenario is one scenario of summary.json.
type SummaryScenario struct {
	Scenario    string           `json:"scenario"`
	Block       string           `json:"block"`
	Status      string           `json:"status"`
	Error       string           `json:"error,omitempty"`
	Config      SummaryConfig    `json:"config"`
	Load        SummaryLoad      `json:"load"`
	Resources   SummaryResources `json:"resources"`
	PhasesS     SummaryPhases    `json:"phases_s"`
	SLOPass     *bool            `json:"slo_pass,omitempty"`
	SLOFailures []string         `json:"slo_failures,omitempty"`
	Started     time.Time        `json:"started"`
	Ended       time.Time        `json:"ended"`
	// Repeats are every repeat of a scenario that ran more than once, each
	// summarised as a scenario, in the order they ran; the figures above are
	// then their medians (see result.Median).
	Repeats []SummaryScenario `json:"repeats,omitempty"`
	// Repeat is a repeat's 1-based number (in Repeats).
	Repeat int `json:"repeat,omitempty"`
	// MedianRepeat is the repeat whose series, status codes, errors, request
	// share and container figures the scenario shows.
	MedianRepeat int `json:"median_repeat,omitempty"`
	// Spread is how the p99 and throughput varied over the repeats; nil for a
	// scenario run once.
	Spread *SummarySpread `json:"spread,omitempty"`
}

// SummarySpread is the interval of a repeated scenario's median p99 and
// throughput, as in results.csv's repeat columns (see Spread).
type SummarySpread struct {
	// Repeats is the number of repeats that measured requests.
	Repeats int `json:"repeats"`
	// Method is "95% CI" (order statistics of the median) or "min–max" (fewer
	// than 6 repeats); Confidence is its coverage of the median, 0..1.
	Method     string          `json:"method"`
	Confidence float64         `json:"confidence"`
	P99Ms      SummaryInterval `json:"p99_ms"`
	Throughput SummaryInterval `json:"throughput_rps"`
}

// SummaryInterval bounds a figure.
type SummaryInterval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// SummaryConfig is what was asked for; zero CPUs or memory mean unlimited.
type SummaryConfig struct {
	Replicas    int     `json:"replicas"`
	CPUs        float64 `json:"cpus"`
	MemoryBytes int64   `json:"memory_bytes"`
	Balancer    string  `json:"balancer"`
	Users       int     `json:"users,omitempty"`
	SpawnRate   float64 `json:"spawn_rate,omitempty"`
	Think       string  `json:"think,omitempty"`
	Rate        string  `json:"rate,omitempty"`
	DurationS   float64 `json:"duration_s"`
	WarmupS     float64 `json:"warmup_s"`
	// Search is a capacity search's range; DurationS and WarmupS are then per step.
	Search string `json:"search,omitempty"`
}

// SummaryLoad is what the load engine measured.
type SummaryLoad struct {
	Requests       uint64            `json:"requests"`
	WarmupRequests uint64            `json:"warmup_requests"`
	Errors         uint64            `json:"errors"`
	ErrorRate      float64           `json:"error_rate"`
	ThroughputRPS  float64           `json:"throughput_rps"`
	RateRPS        float64           `json:"rate_rps"`
	RequestedRPS   float64           `json:"requested_rps,omitempty"`
	Shortfall      bool              `json:"shortfall"`
	SuccessRatio   float64           `json:"success_ratio"`
	LatencyMs      SummaryLatency    `json:"latency_ms"`
	StatusCodes    map[string]uint64 `json:"status_codes,omitempty"`
	ErrorMessages  map[string]uint64 `json:"error_messages,omitempty"`
	Endpoints      []SummaryEndpoint `json:"endpoints,omitempty"`
	GeneratorCPUS  float64           `json:"generator_cpu_s"`
	GeneratorRSS   int64             `json:"generator_peak_rss_bytes"`
	LatencyFrom    string            `json:"latency_from,omitempty"`
	PeakInFlight   int               `json:"peak_in_flight"`
	Notes          []string          `json:"notes,omitempty"`
	// Capacity is set for a capacity search; the other fields are then those of
	// its highest passing step.
	Capacity *SummaryCapacity `json:"capacity,omitempty"`
	// Stream is the streaming figures (request.stream: sse); nil otherwise.
	Stream *SummaryStream `json:"stream,omitempty"`
	// Goodput is the requests that met slo.goodput; nil without it.
	Goodput *SummaryGoodput `json:"goodput,omitempty"`
	// ByName is each request name's share of a mix (requests:).
	ByName []SummaryName `json:"by_name,omitempty"`
	// Generators are the load agents that sent the load (generators), each
	// with its own figures; the figures above are merged from all of theirs.
	Generators []SummaryGenerator `json:"generators,omitempty"`
}

// SummaryGenerator is one load agent's figures.
type SummaryGenerator struct {
	Name           string  `json:"name"`
	Node           string  `json:"node,omitempty"`
	Requests       uint64  `json:"requests"`
	WarmupRequests uint64  `json:"warmup_requests"`
	RateRPS        float64 `json:"rate_rps"`
	RequestedRPS   float64 `json:"requested_rps,omitempty"`
	Shortfall      bool    `json:"shortfall"`
	CPUS           float64 `json:"cpu_s"`
	CPUShare       float64 `json:"cpu_share"`
	Procs          int     `json:"procs,omitempty"`
	SendLagP99Ms   float64 `json:"send_lag_p99_ms,omitempty"`
	LateMs         float64 `json:"late_ms,omitempty"`
	Overloaded     bool    `json:"overloaded"`
	Error          string  `json:"error,omitempty"`
}

// SummaryCapacity is what a capacity search found.
type SummaryCapacity struct {
	RPS float64 `json:"rps"`
	// RPSPerCPU and RPSPerGB divide RPS by the CPU and memory (GiB) limits of all
	// replicas; nil when unlimited.
	RPSPerCPU  *float64              `json:"rps_per_cpu"`
	RPSPerGB   *float64              `json:"rps_per_gb"`
	FromRPS    float64               `json:"from_rps"`
	ToRPS      float64               `json:"to_rps"`
	Precision  float64               `json:"precision"`
	UpperRPS   float64               `json:"upper_rps,omitempty"`
	Converged  bool                  `json:"converged"`
	LowerBound bool                  `json:"lower_bound"`
	Reason     string                `json:"reason"`
	Steps      []SummaryCapacityStep `json:"steps"`
}

// SummaryCapacityStep is one step of a capacity search.
type SummaryCapacityStep struct {
	RateRPS       float64        `json:"rate_rps"`
	Pass          bool           `json:"pass"`
	AchievedRPS   float64        `json:"achieved_rps"`
	ThroughputRPS float64        `json:"throughput_rps"`
	LatencyMs     SummaryLatency `json:"latency_ms"`
	ErrorRatio    float64        `json:"error_ratio"`
	Requests      uint64         `json:"requests"`
	Shortfall     bool           `json:"shortfall"`
	Failures      []string       `json:"failures,omitempty"`
	ResultsFile   string         `json:"results_file,omitempty"`
}

func summaryCapacity(o result.Outcome) *SummaryCapacity {
	c := o.Load.Capacity
	if c == nil {
		return nil
	}
	s := &SummaryCapacity{
		RPS: round(c.RPS, 2), FromRPS: c.FromRPS, ToRPS: c.ToRPS, Precision: c.Precision, UpperRPS: round(c.UpperRPS, 2),
		Converged: c.Converged, LowerBound: c.LowerBound, Reason: c.Reason, Steps: []SummaryCapacityStep{},
	}
	if v, ok := capacityPerCPU(o); ok {
		s.RPSPerCPU = &v
		*s.RPSPerCPU = round(v, 2)
	}
	if v, ok := capacityPerGiB(o); ok {
		s.RPSPerGB = &v
		*s.RPSPerGB = round(v, 2)
	}
	for _, st := range c.Steps {
		s.Steps = append(s.Steps, SummaryCapacityStep{
			RateRPS: round(st.RateRPS, 2), Pass: st.Pass, AchievedRPS: round(st.AchievedRPS, 2), ThroughputRPS: round(st.ThroughputRPS, 2),
			LatencyMs:  SummaryLatency{P50: msf(st.P50), P95: msf(st.P95), P99: msf(st.P99)},
			ErrorRatio: round(st.ErrorRatio, 4), Requests: st.Requests, Shortfall: st.Shortfall,
			Failures: st.Failures, ResultsFile: st.ResultsFile,
		})
	}
	return s
}

// SummaryLatency holds latency percentiles in milliseconds.
type SummaryLatency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// SummaryEndpoint is one replica's share of the requests.
type SummaryEndpoint struct {
	URL      string  `json:"url"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	Share    float64 `json:"share"`
}

// SummaryResources is what the containers used.
type SummaryResources struct {
	PeakMemBytes int64                     `json:"peak_mem_bytes"`
	MeanCPUPct   float64                   `json:"mean_cpu_pct"`
	PeakCPUPct   float64                   `json:"peak_cpu_pct"`
	OOMKills     int                       `json:"oom_kills"`
	Restarts     int                       `json:"restarts"`
	Advisory     bool                      `json:"advisory"`
	Containers   []result.ContainerSummary `json:"containers,omitempty"`
	// Services are the side services' containers (result.RoleSide): a user's
	// template's services beside the one under test, in none of the figures above.
	Services []result.ServiceSummary `json:"services,omitempty"`
	Events   []result.Event          `json:"events,omitempty"`
}

// SummaryPhases are the orchestration phase wall times in seconds.
type SummaryPhases struct {
	Build   float64 `json:"build"`
	Up      float64 `json:"up"`
	Healthy float64 `json:"healthy"`
	Load    float64 `json:"load"`
	Down    float64 `json:"down"`
}

// NewSummary builds summary.json's content from a run directory's data.
func NewSummary(d *Data, findings []Finding) Summary {
	r := d.Run
	s := Summary{
		Run: SummaryRun{
			ID: r.ID, Name: r.Name, File: r.File, GitCommit: r.GitCommit, Platform: r.Platform,
			PlatformNotes: r.PlatformNotes, Host: r.Host, RunnerVersion: r.RunnerVersion,
			Started: r.Started, Ended: r.Ended,
		},
		Scenarios: []SummaryScenario{},
		Findings:  findings,
		Problems:  d.Problems,
	}
	if s.Findings == nil {
		s.Findings = []Finding{}
	}
	if r.SLO != nil {
		s.Run.SLO = &SummarySLO{
			P50Ms: msf(r.SLO.P50), P95Ms: msf(r.SLO.P95), P99Ms: msf(r.SLO.P99),
			ErrorRate: r.SLO.ErrorRate, MinThroughputRPS: r.SLO.MinThroughputRPS,
		}
	}
	for _, m := range d.Missing {
		s.Missing = append(s.Missing, m.ID)
	}
	for _, sc := range d.Scenarios {
		s.Scenarios = append(s.Scenarios, summaryRepeated(sc))
	}
	return s
}

// summaryRepeated is summaryScenario with the repeats of a repeated scenario.
func summaryRepeated(sc Scenario) SummaryScenario {
	o := sc.Outcome
	out := summaryScenario(sc)
	out.MedianRepeat = o.MedianRepeat
	for i, r := range o.Repeats {
		rs := summaryScenario(Scenario{Outcome: r})
		rs.Repeat = cmp.Or(r.Repeat, i+1)
		out.Repeats = append(out.Repeats, rs)
	}
	if sp, ok := spreadOf(o); ok {
		out.Spread = &SummarySpread{
			Repeats: sp.Repeats, Method: sp.Method(), Confidence: round(sp.P99Ms.Confidence, 4),
			P99Ms:      SummaryInterval{round(sp.P99Ms.Lo, 3), round(sp.P99Ms.Hi, 3)},
			Throughput: SummaryInterval{round(sp.ThroughputRPS.Lo, 2), round(sp.ThroughputRPS.Hi, 2)},
		}
	}
	return out
}

func summaryScenario(sc Scenario) SummaryScenario {
	o := sc.Outcome
	c, l, r, p := o.Scenario, o.Load, o.Resources, o.Phases
	out := SummaryScenario{
		Scenario: c.ID, Block: c.Block, Status: o.Status, Error: o.Error,
		Config: SummaryConfig{
			Replicas: c.Replicas, CPUs: c.CPUs, MemoryBytes: c.MemoryBytes, Balancer: c.Balancer,
			Users: c.Users, SpawnRate: c.SpawnRate, Think: c.Think, Rate: c.Rate,
			DurationS: seconds(c.Duration), WarmupS: seconds(c.Warmup), Search: c.Search,
		},
		Load: SummaryLoad{
			Requests: l.Requests, WarmupRequests: l.WarmupRequests,
			Errors: failed(l), ErrorRate: round(errorRate(l), 4),
			ThroughputRPS: round(l.ThroughputRPS, 2), RateRPS: round(l.RateRPS, 2),
			RequestedRPS: round(l.RequestedRPS, 2), Shortfall: l.Shortfall,
			SuccessRatio: round(l.SuccessRatio, 4),
			LatencyMs: SummaryLatency{
				Mean: msf(l.Latency.Mean), P50: msf(l.Latency.P50), P90: msf(l.Latency.P90),
				P95: msf(l.Latency.P95), P99: msf(l.Latency.P99), Max: msf(l.Latency.Max),
			},
			StatusCodes: l.StatusCodes, ErrorMessages: l.Errors,
			GeneratorCPUS: round(seconds(l.GeneratorCPU), 3), GeneratorRSS: l.GeneratorPeakRSSBytes,
			LatencyFrom: l.LatencyFrom, PeakInFlight: l.PeakInFlight, Notes: l.Notes,
			Capacity: summaryCapacity(o),
		},
		Resources: SummaryResources{
			PeakMemBytes: r.PeakMemBytes, MeanCPUPct: round(r.MeanCPUPct, 2), PeakCPUPct: round(r.PeakCPUPct, 2),
			OOMKills: r.OOMKills, Restarts: r.Restarts, Advisory: r.Advisory,
			Containers: slices.Clone(r.Containers), Services: slices.Clone(r.Services), Events: sc.Events,
		},
		PhasesS: SummaryPhases{
			Build: round(seconds(p.Build), 3), Up: round(seconds(p.Up), 3), Healthy: round(seconds(p.Healthy), 3),
			Load: round(seconds(p.Load), 3), Down: round(seconds(p.Down), 3),
		},
		SLOPass: o.SLOPass, SLOFailures: o.SLOFailures,
		Started: o.Started, Ended: o.Ended,
	}
	for i := range out.Resources.Containers {
		c := &out.Resources.Containers[i]
		c.MeanCPUPct, c.PeakCPUPct = round(c.MeanCPUPct, 2), round(c.PeakCPUPct, 2)
	}
	for i := range out.Resources.Services {
		c := &out.Resources.Services[i]
		c.MeanCPUPct, c.PeakCPUPct = round(c.MeanCPUPct, 2), round(c.PeakCPUPct, 2)
	}
	summaryInference(&out.Load, l)
	for _, g := range l.Generators {
		out.Load.Generators = append(out.Load.Generators, SummaryGenerator{
			Name: g.Name, Node: g.Node, Requests: g.Requests, WarmupRequests: g.WarmupRequests,
			RateRPS: round(g.RateRPS, 2), RequestedRPS: round(g.RequestedRPS, 2), Shortfall: g.Shortfall,
			CPUS: round(seconds(g.CPU), 3), CPUShare: round(g.CPUShare, 4), Procs: g.Procs,
			SendLagP99Ms: msf(g.SendLagP99), LateMs: msf(g.Late), Overloaded: g.Overloaded, Error: g.Error,
		})
	}
	for _, e := range l.Endpoints {
		out.Load.Endpoints = append(out.Load.Endpoints, SummaryEndpoint{
			URL: e.URL, Requests: e.Requests, Errors: e.Errors, Share: round(share(e.Requests, l.Endpoints), 4),
		})
	}
	return out
}

// share is one endpoint's fraction of all endpoints' requests.
func share(n uint64, eps []result.EndpointCount) float64 {
	var total uint64
	for _, e := range eps {
		total += e.Requests
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// WriteSummary writes s as indented JSON.
func WriteSummary(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
