package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"

	"github.com/infergrid/runner/runner/chart"
)

// HTMLFile is the self-contained HTML report of a run directory.
const HTMLFile = "report.html"

//go:embed html.tmpl
var htmlPage string

// pageTemplate wraps a rendered body into report.html and compare.html.
var pageTemplate = template.Must(template.New("page").Parse(htmlPage))

// HTML renders report.html: the Markdown report (the same findings and tables)
// turned into HTML, with each plot of report.md replaced by interactive SVG charts
// drawn from the same data. The page needs no other file and no network.
func HTML(w io.Writer, d *Data, findings []Finding) error {
	charts := htmlCharts(d)
	links := map[string]bool{}
	for p := range charts {
		links[p] = true
	}
	var md bytes.Buffer
	if err := Markdown(&md, d, findings, links); err != nil {
		return err
	}
	title := "Load-test report: " + cmp.Or(d.Run.Name, d.Run.ID)
	return page(w, title, md.Bytes(), charts)
}

// page converts the Markdown md into a complete HTML page; an image of md whose
// destination is a key of charts is replaced by those charts.
func page(w io.Writer, title string, md []byte, charts map[string][]chart.Chart) error {
	byLink := map[string][]chart.Chart{}
	for p, cs := range charts {
		byLink[link(p)] = cs
	}
	conv := goldmark.New(
		goldmark.WithExtensions(extension.Table),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(&htmlNodes{charts: byLink}, 100))),
	)
	var body bytes.Buffer
	if err := conv.Convert(md, &body); err != nil {
		return fmt.Errorf("cannot convert the report to HTML: %w", err)
	}
	return pageTemplate.Execute(w, map[string]any{
		"Title":  title,
		"Style":  template.CSS(chart.Style),
		"Script": template.JS(chart.Script),
		"Body":   template.HTML(body.String()),
	})
}

// htmlNodes renders the nodes of report.md that HTML shows differently: a plot
// becomes its SVG charts, and raw HTML is kept only for the <br> of table cells
// (anything else, such as markup quoted in an error message, is shown as text).
type htmlNodes struct {
	charts map[string][]chart.Chart
}

func (r *htmlNodes) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, r.image)
	reg.Register(ast.KindRawHTML, r.rawHTML)
}

func (r *htmlNodes) image(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	img := n.(*ast.Image)
	cs, ok := r.charts[string(img.Destination)]
	if !ok {
		// Every plot linked has charts; anything else would be an external file.
		_, err := w.WriteString(html.EscapeString(altText(n, source)))
		return ast.WalkSkipChildren, err
	}
	w.WriteString(`<span class="charts">`)
	for _, c := range cs {
		w.Write(c.SVG())
	}
	_, err := w.WriteString(`</span>`)
	return ast.WalkSkipChildren, err
}

func altText(n ast.Node, source []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			b.Write(t.Segment.Value(source))
		} else {
			b.WriteString(altText(c, source))
		}
	}
	return b.String()
}

func (r *htmlNodes) rawHTML(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	segs := n.(*ast.RawHTML).Segments
	for i := range segs.Len() {
		seg := segs.At(i)
		s := seg.Value(source)
		if string(s) == "<br>" {
			w.WriteString("<br>")
			continue
		}
		w.WriteString(html.EscapeString(string(s)))
	}
	return ast.WalkSkipChildren, nil
}

// HTML writes the comparison as a self-contained HTML page: the Markdown
// comparison's tables, and charts of p99 latency and throughput of both sides,
// scenario by scenario (numbered in table order; hover a point for its name).
func (c *Comparison) HTML(w io.Writer) error {
	var md bytes.Buffer
	if err := c.Markdown(&md); err != nil {
		return err
	}
	const plot = "compare.png"
	names := make([]string, len(c.Deltas))
	p99 := chart.Chart{ID: "p99", Title: "p99 latency per scenario", XLabel: "scenario (table order)", YLabel: "ms", XNames: names}
	thr := chart.Chart{ID: "throughput", Title: "throughput per scenario", XLabel: "scenario (table order)", YLabel: "requests/s", XNames: names}
	sides := []struct {
		name string
		get  func(Delta) Metrics
	}{{"BASE " + c.Base, func(d Delta) Metrics { return d.Base }}, {"NEW " + c.New, func(d Delta) Metrics { return d.New }}}
	for _, side := range sides {
		sp, st := chart.Series{Name: side.name}, chart.Series{Name: side.name}
		for i, d := range c.Deltas {
			names[i] = fmt.Sprint(i + 1)
			m := side.get(d)
			sp.Points = append(sp.Points, chart.Point{X: float64(i), Y: m.P99, Label: fmt.Sprintf("%s, %s: p99 %s ms", side.name, d.Scenario, chart.Num(m.P99))})
			st.Points = append(st.Points, chart.Point{X: float64(i), Y: m.ThroughputRPS, Label: fmt.Sprintf("%s, %s: %s requests/s", side.name, d.Scenario, chart.Num(m.ThroughputRPS))})
		}
		p99.Series, thr.Series = append(p99.Series, sp), append(thr.Series, st)
	}
	charts := map[string][]chart.Chart{}
	for _, ch := range []chart.Chart{p99, thr} {
		if ch.HasData() {
			charts[plot] = append(charts[plot], ch)
		}
	}
	if len(charts) > 0 {
		md.WriteString("\n## Charts\n\n![p99 latency and throughput per scenario](" + plot + ")\n")
	}
	return page(w, "Compare "+c.Base+" → "+c.New, md.Bytes(), charts)
}
