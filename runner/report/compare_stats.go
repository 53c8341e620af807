package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/stats"
)

// Thresholds decide what counts as a regression. Ratios are 0..1 (0.10 = 10%).
type Thresholds struct {
	// MaxP99Increase is the largest allowed relative increase of p99 latency
	// (and the threshold of the other latency columns, which are shown, not judged).
	MaxP99Increase float64
	// MaxThroughputDrop is the largest allowed relative drop of throughput and of
	// a capacity search's capacity (and the threshold of the other rates).
	MaxThroughputDrop float64
	// MaxErrorRate is the highest allowed error rate of NEW; where BASE already
	// exceeded it, NEW may not exceed BASE's rate by more than it.
	MaxErrorRate float64
}

// DefaultThresholds are the defaults of `runner compare`.
var DefaultThresholds = Thresholds{MaxP99Increase: 0.10, MaxThroughputDrop: 0.05, MaxErrorRate: 0.01}

// DefaultAlpha is the significance level of `runner compare`.
const DefaultAlpha = 0.05

// CompareOptions configure Compare.
type CompareOptions struct {
	Thresholds
	// Alpha is the significance level: a change is significant when its p-value
	// is below Alpha. 1 turns the tests off: the thresholds alone decide, on the
	// results.csv values, as the runner did before it had tests.
	Alpha float64
	// Bootstrap configures the test used when a side has one repeat.
	Bootstrap stats.Bootstrap
}

// DefaultCompareOptions are the defaults of `runner compare`.
var DefaultCompareOptions = CompareOptions{Thresholds: DefaultThresholds, Alpha: DefaultAlpha, Bootstrap: stats.DefaultBootstrap}

// Verdicts of a metric's test.
const (
	VerdictRegression  = "regression"
	VerdictImprovement = "improvement"
	VerdictSame        = "no difference"
	VerdictTooFew      = "not enough data"
)

// Test methods, as the report names them.
const (
	MethodRepeats   = "Mann–Whitney U over repeats"
	MethodSeconds   = "block bootstrap over per-second samples"
	MethodThreshold = "threshold only"
	MethodNone      = "none"
)

// MinSecondRequests is the fewest requests a second needs for its p99 to be a
// per-second sample (a tenth of it for p50): the p99 of fewer requests is their
// maximum, or a value of the latency histogram's coarse top buckets, whose ties
// would make the bootstrap's interval falsely narrow.
const MinSecondRequests = 100

// MinSeconds is the fewest per-second samples each side needs for the bootstrap.
const MinSeconds = 5

// metric is a results.csv column compare knows how to test.
type metric struct {
	col string
	// higher is true when a larger value is better.
	higher bool
	// judged metrics decide the exit status; the others are shown.
	judged bool
	// latency metrics take MaxP99Increase as threshold, the others MaxThroughputDrop.
	latency bool
	// second extracts one per-second sample; nil when the series has none.
	second func(s result.Second) (float64, bool)
	// stat summarises per-second samples.
	stat func([]float64) float64
}

// metrics are the columns compare tests, in report order. capacity_rps replaces
// p99_ms and throughput_rps as judged metric of a capacity search.
var metrics = []metric{
	{col: "p99_ms", judged: true, latency: true, second: func(s result.Second) (float64, bool) { return msOf(s.P99), s.Requests >= MinSecondRequests }, stat: stats.Median},
	{col: "throughput_rps", higher: true, judged: true, second: func(s result.Second) (float64, bool) { return float64(s.Requests - s.Errors), true }, stat: stats.Mean},
	{col: "capacity_rps", higher: true, judged: true},
	{col: "p50_ms", latency: true, second: func(s result.Second) (float64, bool) { return msOf(s.P50), s.Requests >= MinSecondRequests/10 }, stat: stats.Median},
	{col: "p90_ms", latency: true}, {col: "p95_ms", latency: true}, {col: "max_ms", latency: true}, {col: "mean_ms", latency: true},
	{col: "success_ratio", higher: true}, {col: "rate_rps", higher: true},
	{col: "peak_mem_bytes", latency: true}, {col: "mean_cpu_pct", latency: true}, {col: "peak_cpu_pct", latency: true},
	{col: "capacity_rps_per_cpu", higher: true}, {col: "capacity_rps_per_gb", higher: true},
	{col: "ttft_p50_ms", latency: true}, {col: "ttft_p95_ms", latency: true}, {col: "ttft_p99_ms", latency: true},
	{col: "itl_p50_ms", latency: true}, {col: "itl_p95_ms", latency: true}, {col: "itl_p99_ms", latency: true},
	{col: "tpot_p50_ms", latency: true}, {col: "tpot_p95_ms", latency: true},
	{col: "output_tokens_per_s", higher: true}, {col: "goodput_rps", higher: true},
}

func msOf(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }

// Test is one metric of one scenario compared.
type Test struct {
	// Metric is the results.csv column.
	Metric string
	// Judged is true when the metric decides the exit status.
	Judged bool
	// Base and New are the results.csv values (the medians over repeats).
	Base, New float64
	// Change is the estimated relative change from BASE to NEW; Lo and Hi bound
	// its confidence interval (NaN when there is none).
	Change, Lo, Hi float64
	// P is the two-sided p-value of "no change" (NaN without a test).
	P float64
	// Method is one of the Method* constants; Samples says how many values it saw.
	Method  string
	Samples string
	// Verdict is one of the Verdict* constants; Note explains it.
	Verdict, Note string
}

// testMetric compares one metric of one scenario.
func testMetric(m metric, b, n *scenarioData, o CompareOptions) Test {
	t := Test{Metric: m.col, Judged: m.judged, Base: b.row(m.col), New: n.row(m.col),
		Change: change(b.row(m.col), n.row(m.col)), Lo: math.NaN(), Hi: math.NaN(), P: math.NaN(), Method: MethodNone}
	bv, nv := b.repeatValues(m.col), n.repeatValues(m.col)
	switch {
	case o.Alpha >= 1:
		t.Method = MethodThreshold
	case len(bv) >= 2 && len(nv) >= 2:
		t.Method, t.Samples = MethodRepeats, fmt.Sprintf("%d+%d repeats", len(bv), len(nv))
		repeatTest(&t, bv, nv, o.Alpha)
	case m.second != nil && len(b.seconds(m)) >= MinSeconds && len(n.seconds(m)) >= MinSeconds:
		bs, ns := b.seconds(m), n.seconds(m)
		t.Method, t.Samples = MethodSeconds, fmt.Sprintf("%d+%d seconds", len(bs), len(ns))
		r := stats.BootstrapRatio(bs, ns, m.stat, o.Alpha, o.Bootstrap)
		t.Change, t.Lo, t.Hi, t.P = r.Change, r.Lo, r.Hi, r.P
		t.Note = "one repeat: the interval holds the noise within a run, not between runs"
	default:
		t.Note = tooFewNote(len(bv), len(nv), m.second != nil)
	}
	t.Verdict, t.Note = metricVerdict(t, m, o), joinNote(t.Note, "")
	return t
}

// repeatTest fills t from a Mann–Whitney test and a Hodges–Lehmann interval of
// the log ratio over the repeats (the raw values when some are not positive).
func repeatTest(t *Test, bv, nv []float64, alpha float64) {
	if p := stats.MinP(len(bv), len(nv)); p > alpha {
		t.Note = fmt.Sprintf("with %s no test can reach p < %g (the smallest p is %.3f); run more repeats", t.Samples, alpha, p)
		t.Method = MethodNone
		return
	}
	u, err := stats.MannWhitney(bv, nv)
	if err != nil {
		return
	}
	t.P = u.P
	if positive(bv) && positive(nv) {
		sh, _ := stats.HodgesLehmann(logs(bv), logs(nv), alpha)
		t.Change, t.Lo, t.Hi = math.Expm1(sh.Estimate), math.Expm1(sh.Lo), math.Expm1(sh.Hi)
		return
	}
	if mb := stats.Median(bv); mb != 0 {
		sh, _ := stats.HodgesLehmann(bv, nv, alpha)
		t.Change, t.Lo, t.Hi = sh.Estimate/math.Abs(mb), sh.Lo/math.Abs(mb), sh.Hi/math.Abs(mb)
	}
}

func tooFewNote(nb, nn int, hasSeconds bool) string {
	switch {
	case nb == 0 || nn == 0:
		return "no samples on one side (a results.csv alone holds none: pass run directories)"
	case hasSeconds:
		return fmt.Sprintf("one repeat, and fewer than %d seconds with enough requests (%d for a p99) to test over", MinSeconds, MinSecondRequests)
	}
	return "this column has no per-second samples: it needs 2 or more repeats on each side"
}

// metricVerdict applies significance and threshold to a tested metric.
func metricVerdict(t Test, m metric, o CompareOptions) string {
	if math.IsNaN(t.Change) || (t.Method == MethodNone) {
		return VerdictTooFew
	}
	th := o.MaxThroughputDrop
	if m.latency {
		th = o.MaxP99Increase
	}
	worse, better := t.Change > th, t.Change < -th
	if m.higher {
		worse, better = t.Change < -th, t.Change > th
	}
	significant := t.Method == MethodThreshold || t.P < o.Alpha
	switch {
	case significant && worse:
		return VerdictRegression
	case significant && better:
		return VerdictImprovement
	}
	return VerdictSame
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

func positive(v []float64) bool {
	for _, x := range v {
		if !(x > 0) {
			return false
		}
	}
	return true
}

func logs(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Log(x)
	}
	return out
}

// scenarioData is one side of one scenario: its results.csv row and samples.
type scenarioData struct {
	cells   map[string]string
	samples *Samples
}

func (s *scenarioData) row(col string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s.cells[col]), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// repeatValues are the column's values over the repeats that measured it.
func (s *scenarioData) repeatValues(col string) []float64 {
	if s.samples == nil {
		return nil
	}
	var v []float64
	for _, r := range s.samples.Repeats {
		if x, ok := r[col]; ok && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	return v
}

// seconds are the metric's per-second samples of every repeat, each repeat's
// last (partial) second left out.
func (s *scenarioData) seconds(m metric) []float64 {
	if s.samples == nil {
		return nil
	}
	var v []float64
	for _, series := range s.samples.Seconds {
		if len(series) > 1 {
			series = series[:len(series)-1]
		}
		for _, sec := range series {
			if x, ok := m.second(sec); ok {
				v = append(v, x)
			}
		}
	}
	return v
}

// Samples are the measurements behind one scenario's results.csv row.
type Samples struct {
	// Repeats are each repeat's numeric cells by column (one entry for a scenario
	// run once).
	Repeats []map[string]float64
	// Seconds are the per-second series of each repeat.
	Seconds [][]result.Second
}

// samplesOf builds the samples of an outcome, restricted to the columns of header.
func samplesOf(o result.Outcome, header []string) *Samples {
	reps := o.Repeats
	if len(reps) == 0 {
		reps = []result.Outcome{o}
	}
	s := &Samples{}
	for _, r := range reps {
		if r.Status != result.StatusOK || r.Load.Requests == 0 {
			continue
		}
		rec := Record(r)
		cells := map[string]float64{}
		for i, col := range Columns {
			if i >= len(rec) || !slices.Contains(header, col) {
				continue
			}
			if v, err := strconv.ParseFloat(rec[i], 64); err == nil {
				cells[col] = v
			}
		}
		s.Repeats = append(s.Repeats, cells)
		s.Seconds = append(s.Seconds, r.Load.Series)
	}
	return s
}
