package report

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/infergrid/runner/runner/chart"
	"github.com/infergrid/runner/runner/result"
)

// htmlCharts are the charts of report.html, keyed by the path of the PNG plot of
// report.md they stand for; plots without data have no entry.
func htmlCharts(d *Data) map[string][]chart.Chart {
	out := map[string][]chart.Chart{}
	add := func(path string, cs ...chart.Chart) {
		for _, c := range cs {
			if c.HasData() {
				c.ID = path + "#" + c.Title
				out[path] = append(out[path], c)
			}
		}
	}
	for _, bl := range blocks(d) {
		add(blockPlotPath(bl.Name), blockCharts(bl)...)
		add(blockTTFTPlotPath(bl.Name), streamBlockCharts(bl)...)
	}
	for _, sc := range d.Scenarios {
		ps := scenarioPlots(sc.Outcome.Scenario.ID)
		add(ps[0].path, LatencyChart(sc.Outcome.Load.Series))
		add(ps[1].path, ThroughputChart(sc.Outcome.Load.Series))
		add(ps[2].path, MemoryChart(sc.Samples, sc.Outcome.Scenario.MemoryBytes), CPUChart(sc.Samples, sc.Outcome.Scenario.CPUs))
		if sc.Outcome.Load.Stream != nil {
			add(ps[3].path, TTFTChart(sc.Outcome.Load.Series))
			add(ps[4].path, TokensChart(sc.Outcome.Load.Series))
		}
	}
	return out
}

// blockCharts are a block's p99 latency, successful requests per second and peak
// memory against its limit, each against the load levels, one series per
// configuration; a block of capacity searches shows every step's p99 against its rate.
func blockCharts(bl *block) []chart.Chart {
	if len(bl.Levels) > 0 && !slices.ContainsFunc(bl.Levels, func(l level) bool { return l.Model != modelSearch }) {
		return []chart.Chart{capacityChart(bl)}
	}
	names := make([]string, len(bl.Levels))
	for i, lv := range bl.Levels {
		names[i] = lv.Label
	}
	p99 := chart.Chart{Title: "p99 latency vs load, block " + bl.Name, XLabel: "load", YLabel: "ms", XNames: names}
	ok := chart.Chart{Title: "successful requests/s vs load, block " + bl.Name, XLabel: "load", YLabel: "requests/s", XNames: names}
	mem := chart.Chart{Title: "peak memory of a replica vs load, block " + bl.Name, XLabel: "load", YLabel: "% of limit", XNames: names}
	lo, hi := math.Inf(1), 0.0
	for _, c := range bl.Configs {
		name := shortConfig(c)
		sp, so, sm := chart.Series{Name: name}, chart.Series{Name: name}, chart.Series{Name: name}
		for i, lv := range bl.Levels {
			x := float64(i)
			p99, pok, pmem := chart.Point{X: x, Y: math.NaN()}, chart.Point{X: x, Y: math.NaN()}, chart.Point{X: x, Y: math.NaN()}
			for _, sc := range bl.Cells[c][lv.Label] {
				if o := sc.Outcome; measured(o) {
					p99.Y, pok.Y = msFloat(o.Load.Latency.P99), o.Load.ThroughputRPS
					if c.MemoryBytes > 0 && o.Resources.PeakMemBytes > 0 {
						pmem.Y = 100 * float64(o.Resources.PeakMemBytes) / float64(c.MemoryBytes)
					}
					if s, ok := spreadOf(o); ok { // the spread of the repeats
						p99.Lo, p99.Hi, pok.Lo, pok.Hi = s.P99Ms.Lo, s.P99Ms.Hi, s.ThroughputRPS.Lo, s.ThroughputRPS.Hi
					}
					lo, hi = min(lo, p99.Y), max(hi, p99.Y)
					break
				}
			}
			sp.Points = append(sp.Points, p99)
			so.Points = append(so.Points, pok)
			sm.Points = append(sm.Points, pmem)
		}
		p99.Series = append(p99.Series, sp)
		ok.Series = append(ok.Series, so)
		mem.Series = append(mem.Series, sm)
	}
	p99.LogY = lo > 0 && hi/lo > 50
	if mem.HasData() {
		limit := chart.Series{Name: "limit", Dashed: true, Points: []chart.Point{{X: 0, Y: 100}, {X: float64(len(names) - 1), Y: 100}}}
		mem.Series = append(mem.Series, limit)
	}
	return []chart.Chart{p99, ok, mem}
}

// capacityChart draws every capacity-search step's p99 against its requested
// rate, one series per configuration.
func capacityChart(bl *block) chart.Chart {
	ch := chart.Chart{Title: "p99 latency vs rate of every capacity-search step, block " + bl.Name, XLabel: "requested rate /s", YLabel: "ms"}
	lo, hi := math.Inf(1), 0.0
	for _, c := range bl.Configs {
		s := chart.Series{Name: shortConfig(c)}
		for _, lv := range bl.Levels {
			for _, sc := range bl.Cells[c][lv.Label] {
				if cp := sc.Outcome.Load.Capacity; cp != nil {
					for _, st := range cp.Steps {
						if st.Requests > 0 {
							y := msFloat(st.P99)
							s.Points = append(s.Points, chart.Point{X: st.RateRPS, Y: y})
							lo, hi = min(lo, y), max(hi, y)
						}
					}
				}
			}
		}
		slices.SortFunc(s.Points, func(a, b chart.Point) int { return cmp.Compare(a.X, b.X) })
		ch.Series = append(ch.Series, s)
	}
	ch.LogY = lo > 0 && hi/lo > 50
	return ch
}

// LatencyChart draws p50 and p99 latency per second of a measured window.
func LatencyChart(s []result.Second) chart.Chart {
	return percentileChart("latency", "", s, func(x result.Second) (time.Duration, time.Duration) { return x.P50, x.P99 })
}

// TTFTChart draws the time to first token, p50 and p99, per second of a
// streaming load's measured window.
func TTFTChart(s []result.Second) chart.Chart {
	return percentileChart("time to first token", "TTFT ", s, func(x result.Second) (time.Duration, time.Duration) { return x.TTFTP50, x.TTFTP99 })
}

// percentileChart draws the p50 and p99 that get reads of each second, in ms;
// prefix starts the series' names.
func percentileChart(title, prefix string, s []result.Second, get func(result.Second) (p50, p99 time.Duration)) chart.Chart {
	ch := chart.Chart{Title: title, XLabel: "seconds", YLabel: "ms"}
	p50, p99 := chart.Series{Name: prefix + "p50"}, chart.Series{Name: prefix + "p99"}
	for _, x := range s {
		a, b := get(x)
		p50.Points = append(p50.Points, chart.Point{X: float64(x.T), Y: msFloat(a)})
		p99.Points = append(p99.Points, chart.Point{X: float64(x.T), Y: msFloat(b)})
	}
	ch.Series = []chart.Series{p50, p99}
	return ch
}

// TokensChart draws the output tokens that arrived in each second.
func TokensChart(s []result.Second) chart.Chart {
	ch := chart.Chart{Title: "output tokens per second", XLabel: "seconds", YLabel: "tokens/s"}
	tok := chart.Series{Name: "tokens/s"}
	for _, x := range s {
		tok.Points = append(tok.Points, chart.Point{X: float64(x.T), Y: float64(x.Tokens)})
	}
	ch.Series = []chart.Series{tok}
	return ch
}

// ThroughputChart draws requests and errors per second, and closed-model users.
func ThroughputChart(s []result.Second) chart.Chart {
	ch := chart.Chart{Title: "throughput", XLabel: "seconds", YLabel: "per second"}
	req, errs, users := chart.Series{Name: "requests/s"}, chart.Series{Name: "errors/s"}, chart.Series{Name: "users"}
	for _, x := range s {
		t := float64(x.T)
		req.Points = append(req.Points, chart.Point{X: t, Y: float64(x.Requests)})
		errs.Points = append(errs.Points, chart.Point{X: t, Y: float64(x.Errors)})
		if x.Users > 0 {
			users.Points = append(users.Points, chart.Point{X: t, Y: float64(x.Users)})
		}
	}
	ch.Series = []chart.Series{req, errs}
	if len(users.Points) > 0 {
		ch.Series = append(ch.Series, users)
	}
	return ch
}

// perContainer groups samples by container, in name order, with X the seconds
// since the first sample.
func perContainer(samples []result.Sample, y func(result.Sample) float64) (series []chart.Series, tmax float64) {
	if len(samples) == 0 {
		return nil, 0
	}
	t0 := samples[0].Time
	for _, s := range samples {
		if s.Time.Before(t0) {
			t0 = s.Time
		}
	}
	by := map[string][]chart.Point{}
	for _, s := range samples {
		x := s.Time.Sub(t0).Seconds()
		by[s.Container] = append(by[s.Container], chart.Point{X: x, Y: y(s)})
		tmax = max(tmax, x)
	}
	for _, name := range sortedKeys(by) {
		pts := by[name]
		slices.SortStableFunc(pts, func(a, b chart.Point) int { return cmp.Compare(a.X, b.X) })
		series = append(series, chart.Series{Name: name, Points: pts})
	}
	return series, tmax
}

// MemoryChart draws each container's memory over time and the limit per replica
// (limitBytes, else the largest limit sampled; none when it is far above the use).
func MemoryChart(samples []result.Sample, limitBytes int64) chart.Chart {
	ch := chart.Chart{Title: "memory per container", XLabel: "seconds", YLabel: "MiB"}
	var limit int64
	for _, s := range samples {
		limit = max(limit, s.MemLimitBytes)
	}
	if limitBytes > 0 {
		limit = limitBytes
	}
	var top, tmax float64
	ch.Series, tmax = perContainer(samples, func(s result.Sample) float64 { top = max(top, mib(s.MemBytes)); return mib(s.MemBytes) })
	if limit > 0 && limit < math.MaxInt64/2 && mib(limit) < 4*top {
		ch.Series = append(ch.Series, chart.Series{Name: "limit " + bytesLabel(limit), Dashed: true,
			Points: []chart.Point{{X: 0, Y: mib(limit)}, {X: tmax, Y: mib(limit)}}})
	}
	return ch
}

// CPUChart draws each container's CPU over time (100% = one CPU) and the limit
// per replica, cpus (none when unlimited).
func CPUChart(samples []result.Sample, cpus float64) chart.Chart {
	ch := chart.Chart{Title: "CPU per container", XLabel: "seconds", YLabel: "% of a CPU"}
	var tmax float64
	ch.Series, tmax = perContainer(samples, func(s result.Sample) float64 { return s.CPUPct })
	if cpus > 0 && len(ch.Series) > 0 {
		ch.Series = append(ch.Series, chart.Series{Name: "limit " + fnum(cpus) + " CPU", Dashed: true,
			Points: []chart.Point{{X: 0, Y: 100 * cpus}, {X: tmax, Y: 100 * cpus}}})
	}
	return ch
}
