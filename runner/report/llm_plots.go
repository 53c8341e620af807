package report

import (
	"math"
	"slices"

	"gonum.org/v1/plot"

	"github.com/infergrid/runner/runner/chart"
	"github.com/infergrid/runner/runner/result"
)

// blockTTFTPlotPath is the TTFT-vs-load plot of a grid block that streams.
func blockTTFTPlotPath(name string) string {
	return PlotsDir + "/block-" + safeName(name) + "-ttft.png"
}

// streamsAtLevels reports whether a block has load levels other than capacity
// searches and a cell that streamed at one of them.
func streamsAtLevels(bl *block) bool {
	for _, c := range bl.Configs {
		for _, lv := range bl.Levels {
			if lv.Model == modelSearch {
				continue
			}
			if slices.ContainsFunc(bl.Cells[c][lv.Label], func(sc *Scenario) bool { return streamed(sc.Outcome) }) {
				return true
			}
		}
	}
	return false
}

// ttftBlockPlot draws TTFT p99 against the load levels of a block that
// streams, one line per configuration: where it bends upwards is the knee the
// findings name.
func ttftBlockPlot(bl *block) (*plot.Plot, error) {
	if !streamsAtLevels(bl) {
		return nil, errNoData
	}
	return blockLinePlot(bl, "TTFT p99 vs load, block "+bl.Name, "TTFT p99 ms", func(o result.Outcome) (float64, bool) {
		return msFloat(ttftOf(o, true)), streamed(o)
	})
}

// streamBlockCharts are report.html's charts of a block that streams: TTFT p50
// and p99, and goodput (with slo.goodput), against the load levels, one series
// per configuration.
func streamBlockCharts(bl *block) []chart.Chart {
	if !streamsAtLevels(bl) {
		return nil
	}
	names := make([]string, len(bl.Levels))
	for i, lv := range bl.Levels {
		names[i] = lv.Label
	}
	p50 := chart.Chart{Title: "TTFT p50 vs load, block " + bl.Name, XLabel: "load", YLabel: "ms", XNames: names}
	p99 := chart.Chart{Title: "TTFT p99 vs load, block " + bl.Name, XLabel: "load", YLabel: "ms", XNames: names}
	good := chart.Chart{Title: "goodput vs load, block " + bl.Name, XLabel: "load", YLabel: "requests/s", XNames: names}
	lo, hi := math.Inf(1), 0.0
	hasGoodput := false
	for _, c := range bl.Configs {
		name := shortConfig(c)
		s50, s99, sg := chart.Series{Name: name}, chart.Series{Name: name}, chart.Series{Name: name}
		for i, lv := range bl.Levels {
			y50, y99, yg := math.NaN(), math.NaN(), math.NaN()
			for _, sc := range bl.Cells[c][lv.Label] {
				if o := sc.Outcome; streamed(o) {
					y50, y99 = msFloat(ttftOf(o, false)), msFloat(ttftOf(o, true))
					if g := o.Load.Goodput; g != nil {
						yg, hasGoodput = g.RPS, true
					}
					lo, hi = min(lo, y50), max(hi, y99)
					break
				}
			}
			x := float64(i)
			s50.Points = append(s50.Points, chart.Point{X: x, Y: y50})
			s99.Points = append(s99.Points, chart.Point{X: x, Y: y99})
			sg.Points = append(sg.Points, chart.Point{X: x, Y: yg})
		}
		p50.Series, p99.Series, good.Series = append(p50.Series, s50), append(p99.Series, s99), append(good.Series, sg)
	}
	p50.LogY = lo > 0 && hi/lo > 50
	p99.LogY = p50.LogY
	if !hasGoodput {
		return []chart.Chart{p50, p99}
	}
	return []chart.Chart{p50, p99, good}
}
