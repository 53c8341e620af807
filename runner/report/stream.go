package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// StreamColumns are the inference-workload columns of results.csv (DESIGN.md,
// "Inference workloads"), at the end of the header. They are empty where the
// scenario does not stream; goodput_rps is filled whenever slo.goodput is set.
var StreamColumns = []string{
	"ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p95_ms", "itl_p99_ms",
	"tpot_p50_ms", "tpot_p95_ms", "output_tokens", "output_tokens_per_s", "goodput_rps",
}

// streamRecord is the StreamColumns cells of o.
func streamRecord(o result.Outcome) []string {
	out := make([]string, len(StreamColumns))
	if st := o.Load.Stream; st != nil {
		copy(out, []string{
			ms(st.TTFT.P50), ms(st.TTFT.P95), ms(st.TTFT.P99),
			ms(st.ITL.P50), ms(st.ITL.P95), ms(st.ITL.P99),
			ms(st.TPOT.P50), ms(st.TPOT.P95),
			strconv.FormatUint(st.OutputTokens, 10), ffix(st.OutputTokensPerS, 2),
		})
	}
	if g := o.Load.Goodput; g != nil {
		out[len(out)-1] = ffix(g.RPS, 2)
	}
	return out
}

// SummaryStream is the streaming figures of a scenario in summary.json.
type SummaryStream struct {
	TTFTMs           SummaryLatency `json:"ttft_ms"`
	ITLMs            SummaryLatency `json:"itl_ms"`
	TPOTMs           SummaryLatency `json:"tpot_ms"`
	OutputTokens     uint64         `json:"output_tokens"`
	OutputTokensPerS float64        `json:"output_tokens_per_s"`
	Streams          uint64         `json:"streams"`
	// File is the per-request streaming figures (JSON Lines) next to the raw results.
	File string `json:"file,omitempty"`
}

// SummaryGoodput is the requests that met slo.goodput.
type SummaryGoodput struct {
	RPS      float64 `json:"rps"`
	Requests uint64  `json:"requests"`
	Ratio    float64 `json:"ratio"`
}

// SummaryName is one request name's share of a mix.
type SummaryName struct {
	Name      string         `json:"name"`
	Requests  uint64         `json:"requests"`
	Errors    uint64         `json:"errors"`
	LatencyMs SummaryLatency `json:"latency_ms"`
}

func summaryPercentiles(p result.Percentiles) SummaryLatency {
	return SummaryLatency{Mean: msf(p.Mean), P50: msf(p.P50), P90: msf(p.P90), P95: msf(p.P95), P99: msf(p.P99), Max: msf(p.Max)}
}

// summaryInference fills the streaming, goodput and per-name parts of s from l.
func summaryInference(s *SummaryLoad, l result.Load) {
	if st := l.Stream; st != nil {
		s.Stream = &SummaryStream{
			TTFTMs: summaryPercentiles(st.TTFT), ITLMs: summaryPercentiles(st.ITL), TPOTMs: summaryPercentiles(st.TPOT),
			OutputTokens: st.OutputTokens, OutputTokensPerS: round(st.OutputTokensPerS, 2), Streams: st.Streams, File: st.File,
		}
	}
	if g := l.Goodput; g != nil {
		s.Goodput = &SummaryGoodput{RPS: round(g.RPS, 2), Requests: g.Requests, Ratio: round(g.Ratio, 4)}
	}
	for _, n := range l.ByName {
		lat := n.Latency
		s.ByName = append(s.ByName, SummaryName{Name: n.Name, Requests: n.Requests, Errors: n.Errors,
			LatencyMs: SummaryLatency{Mean: msf(lat.Mean), P50: msf(lat.P50), P90: msf(lat.P90), P95: msf(lat.P95), P99: msf(lat.P99), Max: msf(lat.Max)}})
	}
}

// streamCell is the streaming part of a block table cell: TTFT and ITL p50 ·
// p99 in ms, output tokens per second and goodput.
func streamCell(l result.Load) string {
	s := ""
	if st := l.Stream; st != nil {
		s += fmt.Sprintf("<br>TTFT %s · %s<br>ITL %s · %s<br>%.0f tok/s", msLabel(st.TTFT.P50), msLabel(st.TTFT.P99),
			msLabel(st.ITL.P50), msLabel(st.ITL.P99), st.OutputTokensPerS)
	}
	if g := l.Goodput; g != nil {
		s += "<br>goodput " + rpsLabel(g.RPS)
	}
	return s
}

// writeStream lists a scenario's streaming figures, goodput and per-name counts.
func writeStream(b *bytes.Buffer, l result.Load) {
	if st := l.Stream; st != nil {
		for _, f := range []struct {
			name string
			p    result.Percentiles
		}{{"Time to first token", st.TTFT}, {"Inter-token latency", st.ITL}, {"Time per output token", st.TPOT}} {
			fmt.Fprintf(b, "- %s ms: mean %s, p50 %s, p90 %s, p95 %s, p99 %s, max %s.\n", f.name, msLabel(f.p.Mean),
				msLabel(f.p.P50), msLabel(f.p.P90), msLabel(f.p.P95), msLabel(f.p.P99), msLabel(f.p.Max))
		}
		fmt.Fprintf(b, "- Output tokens: %d in %d streams, %.1f tokens/s.\n", st.OutputTokens, st.Streams, st.OutputTokensPerS)
	}
	if g := l.Goodput; g != nil {
		fmt.Fprintf(b, "- Goodput: %s (%d requests, %s of all met the limits).\n", rpsLabel(g.RPS), g.Requests, pctLabel(g.Ratio))
	}
	for _, n := range l.ByName {
		er := 0.0
		if n.Requests > 0 {
			er = float64(n.Errors) / float64(n.Requests)
		}
		fmt.Fprintf(b, "- Request `%s`: %d requests, %s failed, latency ms p50 %s, p95 %s, p99 %s.\n", n.Name, n.Requests,
			pctLabel(er), msLabel(n.Latency.P50), msLabel(n.Latency.P95), msLabel(n.Latency.P99))
	}
}

// goodputLabel is e.g. "TTFT ≤ 1s, TPOT ≤ 100ms".
func goodputLabel(g result.Goodput) string {
	var parts []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"TTFT", g.TTFT}, {"TPOT", g.TPOT}, {"latency", g.Latency}} {
		if p.d > 0 {
			parts = append(parts, p.name+" ≤ "+p.d.String())
		}
	}
	return strings.Join(parts, ", ")
}

// ttftPlot draws the time to first token p50 and p99 of each second (streaming).
func ttftPlot(o result.Outcome) (*plot.Plot, error) {
	s := o.Load.Series
	if len(s) == 0 || o.Load.Stream == nil {
		return nil, errNoData
	}
	p50, p99 := make(plotter.XYs, len(s)), make(plotter.XYs, len(s))
	for i, x := range s {
		p50[i] = plotter.XY{X: float64(x.T), Y: msFloat(x.TTFTP50)}
		p99[i] = plotter.XY{X: float64(x.T), Y: msFloat(x.TTFTP99)}
	}
	p := newPlot("Time to first token: "+o.Scenario.ID, "seconds", "ms")
	p.Y.Min = 0
	if err := addLine(p, "TTFT p99", 1, p99, false); err != nil {
		return nil, err
	}
	if err := addLine(p, "TTFT p50", 0, p50, false); err != nil {
		return nil, err
	}
	headroom(p, 2)
	return p, nil
}

// tokensPlot draws the output tokens that arrived in each second (streaming).
func tokensPlot(o result.Outcome) (*plot.Plot, error) {
	s := o.Load.Series
	if len(s) == 0 || o.Load.Stream == nil {
		return nil, errNoData
	}
	tok := make(plotter.XYs, len(s))
	for i, x := range s {
		tok[i] = plotter.XY{X: float64(x.T), Y: float64(x.Tokens)}
	}
	p := newPlot("Output tokens: "+o.Scenario.ID, "seconds", "tokens per second")
	p.Y.Min = 0
	if err := addLine(p, "tokens/s", 0, tok, false); err != nil {
		return nil, err
	}
	headroom(p, 1)
	return p, nil
}
