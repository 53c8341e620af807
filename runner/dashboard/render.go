package dashboard

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/infergrid/runner/runner/chart"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
)

// fragments are the parts of the page the stream replaces, by element id.
type fragments struct {
	Head     template.HTML `json:"head"`
	Grid     template.HTML `json:"grid"`
	Live     template.HTML `json:"live"`
	Failures template.HTML `json:"failures"`
}

var funcs = template.FuncMap{
	"ms":    msText,
	"rps":   func(v float64) string { return chart.Num(v) + "/s" },
	"pct":   func(v float64) string { return chart.Num(100*v) + "%" },
	"bytes": bytesText,
	"dur":   func(d time.Duration) string { return d.Round(time.Second).String() },
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"add":   func(a, b int) int { return a + b },
	"svg":   func(c chart.Chart) template.HTML { return template.HTML(c.SVG()) },
	"errRate": func(l *result.Load) float64 {
		if l.Requests == 0 {
			return 0
		}
		return 1 - l.SuccessRatio
	},
}

//go:embed fragments.tmpl
var fragmentsText string

var fragmentTemplates = template.Must(template.New("").Funcs(funcs).Parse(fragmentsText))

// render turns the state into the page's fragments; plan gives each scenario's
// limits.
func render(st *state, plan map[string]result.Scenario) (fragments, error) {
	var f fragments
	for _, p := range []struct {
		name string
		data any
		out  *template.HTML
	}{
		{"head", st, &f.Head},
		{"grid", gridRows(st), &f.Grid},
		{"live", liveView(st, plan), &f.Live},
		{"failures", st.Failures, &f.Failures},
	} {
		var b bytes.Buffer
		if err := fragmentTemplates.ExecuteTemplate(&b, p.name, p.data); err != nil {
			return f, fmt.Errorf("cannot render the dashboard's %s: %w", p.name, err)
		}
		*p.out = template.HTML(b.String())
	}
	return f, nil
}

// gridRow is a row of the grid table.
type gridRow struct {
	K       int
	ID      string
	Status  string
	Class   string // css class of the status
	Verdict string
	Load    *result.Load
	OOM     int
}

func gridRows(st *state) []gridRow {
	out := make([]gridRow, len(st.Rows))
	for i, r := range st.Rows {
		g := gridRow{K: i + 1, ID: r.ID, Status: r.Status, Class: "run"}
		switch r.Status {
		case statusPending:
			g.Class = "pending"
		case result.StatusOK:
			g.Class = "ok"
		}
		if o := r.Outcome; o != nil {
			if o.Status != result.StatusOK {
				g.Class = "bad"
			}
			if o.Load.Requests > 0 {
				g.Load = &o.Load
			}
			g.OOM = o.Resources.OOMKills
			if o.SLOPass != nil {
				g.Verdict = "✓ met"
				if !*o.SLOPass {
					g.Verdict = "✗ missed"
				}
			}
		}
		out[i] = g
	}
	return out
}

// view is the running scenario as the page shows it.
type view struct {
	*live
	Charts   []chart.Chart
	Replicas []replicaRow
}

// replicaRow is one replica's latest telemetry and share of requests.
type replicaRow struct {
	Name     string
	CPU      string
	Memory   string
	Share    string
	Requests uint64
}

func liveView(st *state, plan map[string]result.Scenario) *view {
	l := st.Live
	if l == nil {
		return nil
	}
	sc := plan[l.ID]
	v := &view{live: l}
	thr := chart.Chart{ID: "live-throughput", Title: "requests and errors per second", XLabel: "seconds", YLabel: "per second"}
	lat := chart.Chart{ID: "live-latency", Title: "latency of the last second", XLabel: "seconds", YLabel: "ms"}
	usr := chart.Chart{ID: "live-users", Title: "users and requests in flight", XLabel: "seconds", YLabel: "count"}
	rps, errs := chart.Series{Name: "requests/s"}, chart.Series{Name: "errors/s"}
	p50, p99 := chart.Series{Name: "p50"}, chart.Series{Name: "p99"}
	users, inflight := chart.Series{Name: "users"}, chart.Series{Name: "in flight"}
	for _, t := range l.Ticks {
		rps.Points = append(rps.Points, chart.Point{X: t.T, Y: t.RPS})
		errs.Points = append(errs.Points, chart.Point{X: t.T, Y: t.ErrorsPS})
		if t.P50 > 0 {
			p50.Points = append(p50.Points, chart.Point{X: t.T, Y: msFloat(t.P50)})
		}
		p99.Points = append(p99.Points, chart.Point{X: t.T, Y: msFloat(t.P99)})
		if t.Users > 0 {
			users.Points = append(users.Points, chart.Point{X: t.T, Y: float64(t.Users)})
		}
		inflight.Points = append(inflight.Points, chart.Point{X: t.T, Y: float64(t.InFlight)})
	}
	thr.Series = []chart.Series{rps, errs}
	lat.Series = []chart.Series{p50, p99}
	usr.Series = []chart.Series{users, inflight}
	cpu := report.CPUChart(l.Samples, sc.CPUs)
	cpu.ID = "live-cpu"
	mem := report.MemoryChart(l.Samples, sc.MemoryBytes)
	mem.ID = "live-memory"
	v.Charts = append([]chart.Chart{thr, lat}, streamCharts(l.Ticks)...)
	v.Charts = append(v.Charts, usr, cpu, mem)
	v.Replicas = replicaRows(l, sc)
	return v
}

// streamCharts are the live charts of a streaming load: time to first token
// and inter-token latency, and tokens per second. None when nothing streamed.
func streamCharts(ticks []tick) []chart.Chart {
	ttft50, ttft99 := chart.Series{Name: "TTFT p50"}, chart.Series{Name: "TTFT p99"}
	itl50, itl99 := chart.Series{Name: "ITL p50"}, chart.Series{Name: "ITL p99"}
	tokens := chart.Series{Name: "tokens/s"}
	for _, t := range ticks {
		st := t.Stream
		if st == nil {
			continue
		}
		ttft50.Points = append(ttft50.Points, chart.Point{X: t.T, Y: msFloat(st.TTFTP50)})
		ttft99.Points = append(ttft99.Points, chart.Point{X: t.T, Y: msFloat(st.TTFTP99)})
		itl50.Points = append(itl50.Points, chart.Point{X: t.T, Y: msFloat(st.ITLP50)})
		itl99.Points = append(itl99.Points, chart.Point{X: t.T, Y: msFloat(st.ITLP99)})
		tokens.Points = append(tokens.Points, chart.Point{X: t.T, Y: st.TokensPerSecond})
	}
	if len(tokens.Points) == 0 {
		return nil
	}
	return []chart.Chart{
		{ID: "live-ttft", Title: "time to first token and between tokens, streams of the last second", XLabel: "seconds", YLabel: "ms",
			Series: []chart.Series{ttft50, ttft99, itl50, itl99}},
		{ID: "live-tokens", Title: "tokens per second (streams finished in the second)", XLabel: "seconds", YLabel: "tokens/s",
			Series: []chart.Series{tokens}},
	}
}

// replicaRows pairs each container's latest sample with its endpoint's share.
func replicaRows(l *live, sc result.Scenario) []replicaRow {
	latest := map[string]result.Sample{}
	var names []string
	for _, s := range l.Samples {
		if _, ok := latest[s.Container]; !ok {
			names = append(names, s.Container)
		}
		latest[s.Container] = s
	}
	var total uint64
	for _, e := range l.Shares {
		total += e.Requests
	}
	var out []replicaRow
	for i, n := range names {
		s := latest[n]
		r := replicaRow{Name: n, CPU: chart.Num(s.CPUPct) + "%", Memory: bytesText(s.MemBytes)}
		if sc.CPUs > 0 {
			r.CPU += " of " + chart.Num(100*sc.CPUs) + "%"
		}
		if lim := cmpLimit(sc.MemoryBytes, s.MemLimitBytes); lim > 0 {
			r.Memory += fmt.Sprintf(" of %s (%.0f%%)", bytesText(lim), 100*float64(s.MemBytes)/float64(lim))
		}
		if i < len(l.Shares) && total > 0 {
			r.Requests = l.Shares[i].Requests
			r.Share = fmt.Sprintf("%.1f%%", 100*float64(r.Requests)/float64(total))
		}
		out = append(out, r)
	}
	return out
}

// cmpLimit is the scenario's memory limit, else the sampled one when it is not
// the host's memory (Docker reports that for no limit).
func cmpLimit(scenario, sampled int64) int64 {
	if scenario > 0 {
		return scenario
	}
	if sampled > 0 && sampled < math.MaxInt64/2 && sampled < 1<<40 {
		return sampled
	}
	return 0
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msText(d time.Duration) string { return chart.Num(msFloat(d)) + " ms" }

func bytesText(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(b), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return chart.Num(v) + units[i]
}

func limitText(b int64) string {
	if b <= 0 {
		return "unlimited"
	}
	return bytesText(b)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
