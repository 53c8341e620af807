package report

import (
	"encoding/csv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// DesignColumns are the stable results.csv columns of DESIGN.md, in order.
var DesignColumns = []string{
	"scenario", "replicas", "cpus", "memory_bytes", "balancer", "users", "spawn_rate", "rate", "duration_s",
	"requests", "throughput_rps", "success_ratio", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms",
	"errors", "oom_kills", "restarts", "peak_mem_bytes", "mean_cpu_pct", "slo_pass",
}

// ExtraColumns follow DesignColumns in results.csv. New columns are only ever
// appended here.
var ExtraColumns = []string{
	"block", "status", "error", "think", "warmup_s", "requested_rps", "rate_rps", "shortfall",
	"mean_ms", "peak_cpu_pct", "advisory", "generator_cpu_s", "slo_failures",
	"search", "capacity_rps", "capacity_rps_per_cpu", "capacity_rps_per_gb", "capacity_steps", "capacity_lower_bound",
	"side_oom_kills", "side_restarts",
}

// Columns is the full header of results.csv.
var Columns = slices.Concat(DesignColumns, ExtraColumns, StreamColumns, RepeatColumns)

// Record is one scenario as the cells of results.csv, in Columns order; a
// scenario run more than once gives the medians over its repeats (result.Median)
// and their spread (RepeatColumns). Cells that do not apply are empty: rate for closed-model scenarios, users and spawn_rate for
// open ones, cpus and memory_bytes when unlimited, slo_pass without an SLO, and the
// latency and throughput cells when no request was measured.
func Record(o result.Outcome) []string {
	s, l, r := o.Scenario, o.Load, o.Resources
	measured := l.Requests > 0
	cell := func(ok bool, v string) string {
		if ok {
			return v
		}
		return ""
	}
	slo := ""
	if o.SLOPass != nil {
		slo = strconv.FormatBool(*o.SLOPass)
	}
	return append([]string{
		s.ID,
		strconv.Itoa(s.Replicas),
		cell(s.CPUs > 0, fnum(s.CPUs)),
		cell(s.MemoryBytes > 0, strconv.FormatInt(s.MemoryBytes, 10)),
		s.Balancer,
		cell(s.Users > 0, strconv.Itoa(s.Users)),
		cell(s.Users > 0, fnum(s.SpawnRate)),
		s.Rate,
		fnum(seconds(s.Duration)),
		strconv.FormatUint(l.Requests, 10),
		cell(measured, ffix(l.ThroughputRPS, 2)),
		cell(measured, ffix(l.SuccessRatio, 4)),
		cell(measured, ms(l.Latency.P50)),
		cell(measured, ms(l.Latency.P90)),
		cell(measured, ms(l.Latency.P95)),
		cell(measured, ms(l.Latency.P99)),
		cell(measured, ms(l.Latency.Max)),
		strconv.FormatUint(failed(l), 10),
		strconv.Itoa(r.OOMKills),
		strconv.Itoa(r.Restarts),
		cell(r.PeakMemBytes > 0, strconv.FormatInt(r.PeakMemBytes, 10)),
		cell(len(r.Containers) > 0 || r.MeanCPUPct > 0, ffix(r.MeanCPUPct, 2)),
		slo,
		// Extra columns.
		s.Block,
		o.Status,
		o.Error,
		s.Think,
		fnum(seconds(s.Warmup)),
		cell(l.RequestedRPS > 0, ffix(l.RequestedRPS, 2)),
		cell(measured, ffix(l.RateRPS, 2)),
		strconv.FormatBool(l.Shortfall),
		cell(measured, ms(l.Latency.Mean)),
		cell(len(r.Containers) > 0 || r.PeakCPUPct > 0, ffix(r.PeakCPUPct, 2)),
		strconv.FormatBool(r.Advisory),
		cell(l.GeneratorCPU > 0, ffix(seconds(l.GeneratorCPU), 3)),
		strings.Join(o.SLOFailures, "; "),
		s.Search,
	}, slices.Concat(capacityRecord(o), sideRecord(r), streamRecord(o), repeatRecord(o))...)
}

// sideRecord is the side services' columns: their OOM kills and restarts, summed;
// empty without side services.
func sideRecord(r result.Resources) []string {
	if len(r.Services) == 0 {
		return []string{"", ""}
	}
	ooms, restarts := sideCounts(r)
	return []string{strconv.Itoa(ooms), strconv.Itoa(restarts)}
}

// sideCounts sums the side services' OOM kills and restarts.
func sideCounts(r result.Resources) (ooms, restarts int) {
	for _, s := range r.Services {
		ooms += s.OOMKills
		restarts += s.Restarts
	}
	return ooms, restarts
}

// capacityRecord is the capacity columns of results.csv: empty unless o is a
// capacity search. Per GB divides by GiB (2^30 bytes), as Docker reads 1G.
func capacityRecord(o result.Outcome) []string {
	c := o.Load.Capacity
	if c == nil {
		return []string{"", "", "", "", ""}
	}
	perCPU, perGB := "", ""
	if v, ok := capacityPerCPU(o); ok {
		perCPU = ffix(v, 2)
	}
	if v, ok := capacityPerGiB(o); ok {
		perGB = ffix(v, 2)
	}
	return []string{ffix(c.RPS, 2), perCPU, perGB, strconv.Itoa(len(c.Steps)), strconv.FormatBool(c.LowerBound)}
}

// WriteResults writes results.csv: the header, then one row per scenario.
func WriteResults(w io.Writer, scenarios []Scenario) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, s := range scenarios {
		if err := cw.Write(Record(s.Outcome)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// failed is the number of measured requests that did not succeed.
func failed(l result.Load) uint64 {
	ok := uint64(math.Round(l.SuccessRatio * float64(l.Requests)))
	if ok > l.Requests {
		return 0
	}
	return l.Requests - ok
}

// errorRate is failed/all, 0 without requests.
func errorRate(l result.Load) float64 {
	if l.Requests == 0 {
		return 0
	}
	return float64(failed(l)) / float64(l.Requests)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// msf is a duration in milliseconds rounded to microseconds.
func msf(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

// ms formats a duration in milliseconds with three decimals.
func ms(d time.Duration) string { return ffix(float64(d)/float64(time.Millisecond), 3) }

// fnum formats a number in its shortest exact form.
func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ffix formats a number with a fixed number of decimals.
func ffix(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// round rounds v to prec decimals, so JSON shows the same number as the CSV.
func round(v float64, prec int) float64 {
	p := math.Pow(10, float64(prec))
	return math.Round(v*p) / p
}
