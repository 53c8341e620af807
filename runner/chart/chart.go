package chart

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Point is one data point.
type Point struct {
	X, Y float64
	// Label replaces the hover text of the point; empty shows "series: x, y".
	Label string
	// Lo and Hi, when Hi > Lo, draw an error bar from Lo to Hi through the
	// point: the spread of a figure over repeats.
	Lo, Hi float64
}

// bar reports whether p has an error bar to draw.
func (p Point) bar() bool { return finite(p.Lo) && finite(p.Hi) && p.Hi > p.Lo }

// Series is one line of a chart.
type Series struct {
	// Name is the legend entry.
	Name string
	// Points are drawn in order; a NaN Y breaks the line.
	Points []Point
	// Dashed draws a dashed line without point markers (limits, targets).
	Dashed bool
}

// Chart is a line chart.
type Chart struct {
	// ID names the chart within its page, so that a series hidden by a click stays
	// hidden when the chart is redrawn under the same ID.
	ID string
	// Title is drawn above the plot area.
	Title string
	// XLabel and YLabel name the axes, units included.
	XLabel, YLabel string
	// XNames, when set, makes the X axis nominal: point i of a series sits at X=i
	// and the axis is labelled with XNames[i].
	XNames []string
	// LogY draws the Y axis on a log scale (used only when every Y is positive).
	LogY bool
	// Series are the lines.
	Series []Series
	// Width and Height are the SVG's size in pixels; 0 means DefaultWidth and
	// DefaultHeight (the legend adds rows below).
	Width, Height int
}

// Default size of a chart's plot, in pixels.
const (
	DefaultWidth  = 640
	DefaultHeight = 300
)

// Palette colours series in order (the Okabe-Ito colours, legible to colour-blind
// readers); dashed series are drawn in grey.
var Palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

const (
	marginLeft   = 62
	marginRight  = 16
	marginTop    = 28
	marginBottom = 44
	legendRow    = 18
	fontSize     = 11
	charWidth    = 6.2 // average advance of an 11px sans-serif glyph
)

// HasData reports whether any series has a finite point.
func (c Chart) HasData() bool {
	for _, s := range c.Series {
		for _, p := range s.Points {
			if finite(p.X) && finite(p.Y) {
				return true
			}
		}
	}
	return false
}

// SVG renders the chart as an <svg> element sized by its viewBox, so it scales to
// the width of its container.
func (c Chart) SVG() []byte {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	legend := c.legendLayout(w)
	total := h + legend.height
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="chart" data-chart="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" font-family="sans-serif" font-size="%d">`,
		esc(c.ID), w, total, esc(c.Title), fontSize)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-weight="bold">%s</text>`, marginLeft, esc(c.Title))
	if !c.HasData() {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#666">no data yet</text></svg>`, w/2-30, h/2)
		return b.Bytes()
	}
	a := c.axes(w, h)
	a.draw(&b, c)
	for i, s := range c.Series {
		c.drawSeries(&b, a, i, s)
	}
	legend.draw(&b, c, h)
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// color is the colour of series i.
func (c Chart) color(i int) string {
	if c.Series[i].Dashed {
		return "#555"
	}
	return Palette[i%len(Palette)]
}

func (c Chart) drawSeries(b *bytes.Buffer, a axes, i int, s Series) {
	col := c.color(i)
	fmt.Fprintf(b, `<g class="series" data-series="%d" aria-label="%s">`, i, esc(s.Name))
	var line []string
	flush := func() {
		if len(line) > 1 {
			dash := ""
			if s.Dashed {
				dash = ` stroke-dasharray="5 4"`
			}
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`, col, dash, strings.Join(line, " "))
		}
		line = line[:0]
	}
	for _, p := range s.Points {
		if !finite(p.X) || !finite(p.Y) || (a.log && p.Y <= 0) {
			flush()
			continue
		}
		line = append(line, a.px(p.X)+","+a.py(p.Y))
	}
	flush()
	if !s.Dashed {
		r := 3.0
		if len(s.Points) > 60 {
			r = 1.8
		}
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) || (a.log && p.Y <= 0) {
				continue
			}
			label := p.Label
			if label == "" {
				label = s.Name + ": " + c.xText(p.X) + ", " + Num(p.Y)
				if p.bar() {
					label += " (" + Num(p.Lo) + "–" + Num(p.Hi) + ")"
				}
				if c.YLabel != "" {
					label += " " + c.YLabel
				}
			}
			if p.bar() && !(a.log && p.Lo <= 0) {
				x, lo, hi := a.xf(p.X), a.py(p.Lo), a.py(p.Hi)
				fmt.Fprintf(b, `<path class="bar" stroke="%s" stroke-width="1.2" fill="none" d="M%s %sV%sM%s %sh8M%s %sh8"/>`,
					col, coord(x), lo, hi, coord(x-4), lo, coord(x-4), hi)
			}
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="%g" fill="%s"><title>%s</title></circle>`, a.px(p.X), a.py(p.Y), r, col, esc(label))
		}
	}
	b.WriteString(`</g>`)
}

// xText is the hover text of an X value.
func (c Chart) xText(x float64) string {
	if len(c.XNames) > 0 {
		if i := int(math.Round(x)); i >= 0 && i < len(c.XNames) {
			return c.XNames[i]
		}
	}
	s := Num(x)
	if c.XLabel != "" {
		s = c.XLabel + " " + s
	}
	return s
}

// Num formats v with three significant figures at most, no exponent for
// everyday magnitudes.
func Num(v float64) string {
	switch av := math.Abs(v); {
	case v == 0:
		return "0"
	case av >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case av >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case av >= 10:
		return trim(strconv.FormatFloat(v, 'f', 1, 64))
	case av >= 1:
		return trim(strconv.FormatFloat(v, 'f', 2, 64))
	case av >= 0.001:
		return trim(strconv.FormatFloat(v, 'f', 3, 64))
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return html.EscapeString(s) }
