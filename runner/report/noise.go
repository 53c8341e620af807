package report

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/stats"
)

// MaxGeneratorShare is the share of the host's CPUs the load generator may use
// before the report warns that it competed with the service for them.
const MaxGeneratorShare = 0.5

// writeNoise writes the "Measurement noise" section: the host's load and steal
// from run.json, and per scenario the per-second coefficient of variation of
// throughput and p99, the load generator's CPU share and the spread over repeats.
func writeNoise(b *bytes.Buffer, d *Data) error {
	b.WriteString("## Measurement noise\n\n")
	cpus := d.Run.Host.CPUs
	if n := d.Run.Noise; n != nil {
		fmt.Fprintf(b, "Host during the run: load average %.2f at the start and %.2f at the end on %d CPUs, CPUs %.0f%% busy, %.1f%% stolen by the hypervisor.\n\n",
			n.LoadStart, n.LoadEnd, cpus, n.BusyPct, n.StealPct)
		for _, w := range n.Warnings {
			fmt.Fprintf(b, "**Warning**: %s; compare this run with care.\n\n", w)
		}
	} else {
		b.WriteString("The host's load and steal were not recorded (a run from before they were, or not Linux).\n\n")
	}
	b.WriteString("Per-second CV: the standard deviation of the per-second values over their mean, within the measured window (runs of the same code differ by more than this: see docs/compare.md). Generator CPU: the load generator's CPU time over the window, as a share of the host's CPUs.\n\n")
	var rows [][]string
	var warn []string
	for _, sc := range d.Scenarios {
		o := sc.Outcome
		if o.Status != result.StatusOK || o.Load.Requests == 0 {
			continue
		}
		share := math.NaN()
		if cpus > 0 && o.Load.Elapsed > 0 && o.Load.GeneratorCPU > 0 {
			share = o.Load.GeneratorCPU.Seconds() / o.Load.Elapsed.Seconds() / float64(cpus)
			if share > MaxGeneratorShare {
				warn = append(warn, code(o.Scenario.ID))
			}
		}
		rows = append(rows, []string{code(o.Scenario.ID), cvCell(throughputSeconds(o.Load.Series)), cvCell(p99Seconds(o.Load.Series)),
			shareCell(share), repeatSpread(o)})
	}
	if len(rows) == 0 {
		b.WriteString("No scenario measured requests.\n\n")
		return nil
	}
	if err := table(b, []string{"scenario", "per-second CV of throughput", "per-second CV of p99", "generator CPU", "p99 over repeats"}, rows); err != nil {
		return err
	}
	b.WriteString("\n")
	if len(warn) > 0 {
		fmt.Fprintf(b, "**Warning**: the load generator used more than %s of the host's CPUs in %s: it competed with the service, so latency includes the generator's own delays.\n\n",
			pctLabel(MaxGeneratorShare), strings.Join(warn, ", "))
	}
	return nil
}

func throughputSeconds(series []result.Second) []float64 {
	var v []float64
	for i, s := range series {
		if i < len(series)-1 || len(series) == 1 {
			v = append(v, float64(s.Requests-s.Errors))
		}
	}
	return v
}

func p99Seconds(series []result.Second) []float64 {
	var v []float64
	for i, s := range series {
		if (i < len(series)-1 || len(series) == 1) && s.Requests >= MinSecondRequests {
			v = append(v, float64(s.P99)/float64(time.Millisecond))
		}
	}
	return v
}

func cvCell(v []float64) string {
	cv := stats.CV(v)
	if math.IsNaN(cv) {
		return "–"
	}
	return strconv.FormatFloat(100*cv, 'f', 0, 64) + "%"
}

func shareCell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return pctLabel(v)
}

// repeatSpread is "min–max ms (n repeats)" of p99 over the repeats, "–" without.
func repeatSpread(o result.Outcome) string {
	if len(o.Repeats) < 2 {
		return "–"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range o.Repeats {
		p := float64(r.Load.Latency.P99) / float64(time.Millisecond)
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	return fmt.Sprintf("%s–%s ms (%d repeats)", strconv.FormatFloat(lo, 'f', 1, 64), strconv.FormatFloat(hi, 'f', 1, 64), len(o.Repeats))
}
