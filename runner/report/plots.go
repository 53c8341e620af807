package report

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/infergrid/runner/runner/result"
)

// Plot size: 7 × 3.5 inches, 672 × 336 pixels at the PNG default of 96 DPI.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 3.5 * vg.Inch
)

// errNoData is returned by a plot function that has nothing to draw.
var errNoData = errors.New("no data to plot")

type plotFile struct {
	path string // slash-separated, relative to the run directory
	alt  string
}

// scenarioPlots are the plots of one scenario.
func scenarioPlots(id string) []plotFile {
	dir := ScenariosDir + "/" + id + "/"
	return []plotFile{
		{dir + "latency.png", "latency p50 and p99 over time, " + id},
		{dir + "throughput.png", "requests and errors per second, " + id},
		{dir + "memory.png", "memory per replica over time, " + id},
		{dir + "ttft.png", "time to first token p50 and p99 over time, " + id},
		{dir + "tokens.png", "output tokens per second, " + id},
	}
}

// blockPlotPath is the p99-vs-load plot of a grid block.
func blockPlotPath(name string) string {
	return PlotsDir + "/block-" + safeName(name) + "-p99.png"
}

// safeName keeps letters, digits, dot, dash and underscore of a name.
func safeName(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// writePlots renders every plot of the run into d.Dir. It returns the plots written
// and one problem per plot that failed; plots without data are skipped silently.
func writePlots(d *Data) (written map[string]bool, problems []string) {
	type job struct {
		rel    string
		height vg.Length
		draw   func() (*plot.Plot, error)
	}
	var jobs []job
	for _, sc := range d.Scenarios {
		ps := scenarioPlots(sc.Outcome.Scenario.ID)
		jobs = append(jobs,
			job{ps[0].path, plotHeight, func() (*plot.Plot, error) { return latencyPlot(sc.Outcome) }},
			job{ps[1].path, plotHeight, func() (*plot.Plot, error) { return throughputPlot(sc.Outcome) }},
			job{ps[2].path, plotHeight, func() (*plot.Plot, error) { return memoryPlot(sc) }},
			job{ps[3].path, plotHeight, func() (*plot.Plot, error) { return ttftPlot(sc.Outcome) }},
			job{ps[4].path, plotHeight, func() (*plot.Plot, error) { return tokensPlot(sc.Outcome) }})
	}
	for _, bl := range blocks(d) {
		// Room for one legend row per configuration.
		h := plotHeight + vg.Length(len(bl.Configs))*0.15*vg.Inch
		jobs = append(jobs, job{blockPlotPath(bl.Name), h, func() (*plot.Plot, error) { return blockPlot(bl) }},
			job{blockTTFTPlotPath(bl.Name), h, func() (*plot.Plot, error) { return ttftBlockPlot(bl) }})
	}
	// Rasterising is CPU-bound: draw on every CPU, report in job order.
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for i := range next {
				j := jobs[i]
				p, err := j.draw()
				if err == nil {
					err = savePNG(p, j.height, filepath.Join(d.Dir, filepath.FromSlash(j.rel)))
				}
				errs[i] = err
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	written = map[string]bool{}
	for i, j := range jobs {
		switch err := errs[i]; {
		case errors.Is(err, errNoData):
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: cannot draw: %v", j.rel, err))
		default:
			written[j.rel] = true
		}
	}
	return written, problems
}

func savePNG(p *plot.Plot, height vg.Length, path string) error {
	wt, err := p.WriterTo(plotWidth, height, "png")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return err
	}
	return writeFile(path, buf.Bytes())
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

func addLine(p *plot.Plot, name string, i int, xys plotter.XYs, dashed bool) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// latencyPlot draws p50 and p99 per second of the measured window.
func latencyPlot(o result.Outcome) (*plot.Plot, error) {
	s := o.Load.Series
	if len(s) == 0 {
		return nil, errNoData
	}
	p50, p99 := make(plotter.XYs, len(s)), make(plotter.XYs, len(s))
	for i, x := range s {
		p50[i] = plotter.XY{X: float64(x.T), Y: msFloat(x.P50)}
		p99[i] = plotter.XY{X: float64(x.T), Y: msFloat(x.P99)}
	}
	p := newPlot("Latency: "+o.Scenario.ID, "seconds", "ms")
	p.Y.Min = 0
	if err := addLine(p, "p99", 1, p99, false); err != nil {
		return nil, err
	}
	if err := addLine(p, "p50", 0, p50, false); err != nil {
		return nil, err
	}
	headroom(p, 2)
	return p, nil
}

// throughputPlot draws requests and errors per second, and closed-model users.
func throughputPlot(o result.Outcome) (*plot.Plot, error) {
	s := o.Load.Series
	if len(s) == 0 {
		return nil, errNoData
	}
	req, errs := make(plotter.XYs, len(s)), make(plotter.XYs, len(s))
	for i, x := range s {
		req[i] = plotter.XY{X: float64(x.T), Y: float64(x.Requests)}
		errs[i] = plotter.XY{X: float64(x.T), Y: float64(x.Errors)}
	}
	p := newPlot("Throughput: "+o.Scenario.ID, "seconds", "per second")
	p.Y.Min = 0
	if err := addLine(p, "requests/s", 0, req, false); err != nil {
		return nil, err
	}
	if err := addLine(p, "errors/s", 1, errs, false); err != nil {
		return nil, err
	}
	headroom(p, 2)
	return p, nil
}

// memoryPlot draws each container's memory over time, and the limit.
func memoryPlot(sc Scenario) (*plot.Plot, error) {
	if len(sc.Samples) == 0 {
		return nil, errNoData
	}
	t0 := sc.Samples[0].Time
	byName := map[string]plotter.XYs{}
	var limit int64
	for _, s := range sc.Samples {
		if s.Time.Before(t0) {
			t0 = s.Time
		}
		limit = max(limit, s.MemLimitBytes)
	}
	for _, s := range sc.Samples {
		byName[s.Container] = append(byName[s.Container], plotter.XY{X: s.Time.Sub(t0).Seconds(), Y: mib(s.MemBytes)})
	}
	if l := sc.Outcome.Scenario.MemoryBytes; l > 0 {
		limit = l
	}
	p := newPlot("Memory per replica: "+sc.Outcome.Scenario.ID, "seconds", "MiB")
	p.Y.Min = 0
	names := sortedKeys(byName)
	tmax := 0.0
	for i, n := range names {
		xys := byName[n]
		slices.SortStableFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		tmax = max(tmax, xys[len(xys)-1].X)
		if err := addLine(p, n, i, xys, false); err != nil {
			return nil, err
		}
	}
	// A limit far above the usage (e.g. the host's memory) would flatten the lines.
	if limit > 0 && limit < math.MaxInt64/2 && mib(limit) < 4*maxY(byName) {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: mib(limit)}, {X: tmax, Y: mib(limit)}})
		if err != nil {
			return nil, err
		}
		l.Color = color.Black
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("limit "+bytesLabel(limit), l)
	}
	headroom(p, len(names)+1)
	return p, nil
}

// blockPlot draws p99 latency against the load levels of a block, one line per
// configuration; failed cells are left out.
func blockPlot(bl *block) (*plot.Plot, error) {
	if len(bl.Levels) > 0 && !slices.ContainsFunc(bl.Levels, func(l level) bool { return l.Model != modelSearch }) {
		return capacityPlot(bl)
	}
	return blockSpreadPlot(bl, "p99 latency vs load, block "+bl.Name, "p99 ms", func(o result.Outcome) (float64, bool) {
		return msFloat(o.Load.Latency.P99), measured(o)
	}, func(o result.Outcome) (lo, hi float64, ok bool) {
		sp, ok := spreadOf(o)
		return sp.P99Ms.Lo, sp.P99Ms.Hi, ok
	})
}

// blockLinePlot draws y of each measured cell (y's second result false leaves
// a cell out) against the load levels of a block, one line per configuration,
// on a log scale when the values span more than 50×.
func blockLinePlot(bl *block, title, yLabel string, y func(result.Outcome) (float64, bool)) (*plot.Plot, error) {
	return blockSpreadPlot(bl, title, yLabel, y, nil)
}

// blockSpreadPlot is blockLinePlot with error bars from lo to hi where spread
// gives them (the spread of a repeated scenario); spread may be nil.
func blockSpreadPlot(bl *block, title, yLabel string, y func(result.Outcome) (float64, bool), spread func(result.Outcome) (lo, hi float64, ok bool)) (*plot.Plot, error) {
	p := newPlot(title, "load", yLabel)
	names := make([]string, len(bl.Levels))
	for i, lv := range bl.Levels {
		names[i] = lv.Label
	}
	lo, hi := math.Inf(1), 0.0
	var lines []plotter.XYs
	var bars []errorBars
	for _, c := range bl.Configs {
		var xys plotter.XYs
		var eb errorBars
		for i, lv := range bl.Levels {
			for _, sc := range bl.Cells[c][lv.Label] {
				if v, ok := y(sc.Outcome); ok && measured(sc.Outcome) {
					xys = append(xys, plotter.XY{X: float64(i), Y: v})
					lo, hi = min(lo, v), max(hi, v)
					if l, h, ok := spreadOrNil(spread, sc.Outcome); ok {
						eb.XYs = append(eb.XYs, plotter.XY{X: float64(i), Y: v})
						eb.YErrors = append(eb.YErrors, struct{ Low, High float64 }{max(v-l, 0), max(h-v, 0)})
						lo, hi = min(lo, l), max(hi, h)
					}
					break
				}
			}
		}
		lines = append(lines, xys)
		bars = append(bars, eb)
	}
	if hi == 0 {
		return nil, errNoData
	}
	if lo > 0 && hi/lo > 50 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text = yLabel + " (log scale)"
	} else {
		p.Y.Min = 0
	}
	for i, xys := range lines {
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		s.Radius = vg.Points(3)
		p.Add(l, s)
		p.Legend.Add(shortConfig(bl.Configs[i]), l, s)
		if len(bars[i].XYs) > 0 {
			eb, err := plotter.NewYErrorBars(bars[i])
			if err != nil {
				return nil, err
			}
			eb.Color = plotutil.Color(i)
			p.Add(eb)
		}
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.3, float64(len(names))-0.7
	p.X.Padding = vg.Points(20)
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(2)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.YOffs = -vg.Points(6) // clear of the title
	headroom(p, len(bl.Configs))
	return p, nil
}

// spreadOrNil calls spread, if any.
func spreadOrNil(spread func(result.Outcome) (float64, float64, bool), o result.Outcome) (lo, hi float64, ok bool) {
	if spread == nil {
		return 0, 0, false
	}
	return spread(o)
}

// errorBars are the spreads of a configuration's repeated scenarios.
type errorBars struct {
	plotter.XYs
	plotter.YErrors
}

// shortConfig is a compact configuration label for legends.
func shortConfig(c config) string {
	return fmt.Sprintf("%d× %s CPU %s %s", c.Replicas, cpusCell(c.CPUs), memCell(c.MemoryBytes), c.Balancer)
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func maxY(m map[string]plotter.XYs) float64 {
	v := 0.0
	for _, xys := range m {
		for _, xy := range xys {
			v = max(v, xy.Y)
		}
	}
	return v
}

// headroom raises the top of the Y axis above the data so the legend (entries
// rows, at the top) does not cover it.
func headroom(p *plot.Plot, entries int) {
	f := 0.09 * float64(entries+1)
	switch {
	case p.Y.Max <= 0:
	case p.Y.Scale == (plot.LogScale{}) && p.Y.Min > 0:
		p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, f)
	default:
		p.Y.Max *= 1 + f
	}
}

// capacityPlot draws, for a block of capacity searches, every step's p99 latency
// against its requested rate, one line per configuration (steps in rate order).
func capacityPlot(bl *block) (*plot.Plot, error) {
	p := newPlot("p99 latency vs rate of every capacity-search step, block "+bl.Name, "requested rate /s", "p99 ms")
	lo, hi := math.Inf(1), 0.0
	n := 0
	for i, c := range bl.Configs {
		var xys plotter.XYs
		for _, lv := range bl.Levels {
			for _, sc := range bl.Cells[c][lv.Label] {
				if cp := sc.Outcome.Load.Capacity; cp != nil {
					for _, st := range cp.Steps {
						if st.Requests > 0 {
							y := msFloat(st.P99)
							xys = append(xys, plotter.XY{X: st.RateRPS, Y: y})
							lo, hi = min(lo, y), max(hi, y)
						}
					}
				}
			}
		}
		if len(xys) == 0 {
			continue
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		pts.Radius = vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(shortConfig(c), l, pts)
		n++
	}
	if n == 0 || hi == 0 {
		return nil, errNoData
	}
	if lo > 0 && hi/lo > 50 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text = "p99 ms (log scale)"
	} else {
		p.Y.Min = 0
	}
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(2)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.YOffs = -vg.Points(6)
	headroom(p, n)
	return p, nil
}
