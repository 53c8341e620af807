package chart

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// axes maps data to pixels inside the plot area.
type axes struct {
	x0, x1, y0, y1 float64 // data range
	left, right    float64 // plot area in pixels
	top, bottom    float64
	log            bool
}

func (c Chart) axes(w, h int) axes {
	a := axes{left: marginLeft, right: float64(w - marginRight), top: marginTop, bottom: float64(h - marginBottom)}
	a.x0, a.x1 = math.Inf(1), math.Inf(-1)
	a.y0, a.y1 = math.Inf(1), math.Inf(-1)
	positive := true
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) {
				continue
			}
			a.x0, a.x1 = math.Min(a.x0, p.X), math.Max(a.x1, p.X)
			a.y0, a.y1 = math.Min(a.y0, p.Y), math.Max(a.y1, p.Y)
			positive = positive && p.Y > 0
			if p.bar() {
				a.y0, a.y1 = math.Min(a.y0, p.Lo), math.Max(a.y1, p.Hi)
				positive = positive && p.Lo > 0
			}
		}
	}
	a.log = c.LogY && positive
	if len(c.XNames) > 0 {
		a.x0, a.x1 = -0.3, float64(len(c.XNames))-0.7
	} else if a.x0 == a.x1 {
		a.x0, a.x1 = a.x0-1, a.x1+1
	}
	if a.log {
		a.y0 = math.Pow(10, math.Floor(math.Log10(a.y0)))
		a.y1 = math.Pow(10, math.Ceil(math.Log10(a.y1)))
		if a.y0 == a.y1 {
			a.y1 *= 10
		}
		return a
	}
	a.y0 = math.Min(a.y0, 0)
	if a.y1 <= a.y0 {
		a.y1 = a.y0 + 1
	}
	a.y1 = niceCeil(a.y1 * 1.05)
	return a
}

func (a axes) px(x float64) string { return coord(a.xf(x)) }

// xf is the pixel column of x.
func (a axes) xf(x float64) float64 {
	return a.left + (x-a.x0)/(a.x1-a.x0)*(a.right-a.left)
}

func (a axes) py(y float64) string {
	f := (y - a.y0) / (a.y1 - a.y0)
	if a.log {
		f = math.Log10(y/a.y0) / math.Log10(a.y1/a.y0)
	}
	return coord(a.bottom - f*(a.bottom-a.top))
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// draw renders the frame, grid lines, ticks and axis labels.
func (a axes) draw(b *bytes.Buffer, c Chart) {
	b.WriteString(`<g class="axes" stroke="#ddd">`)
	for _, y := range a.yTicks() {
		py := a.py(y)
		fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s"/>`, coord(a.left), coord(a.right), py, py)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" stroke="none" fill="#333">%s</text>`, coord(a.left-4), py, Num(y))
	}
	if len(c.XNames) > 0 {
		for i, n := range c.XNames {
			px := a.px(float64(i))
			fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s"/>`, px, px, coord(a.top), coord(a.bottom))
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" stroke="none" fill="#333">%s</text>`, px, coord(a.bottom+14), esc(n))
		}
	} else {
		for _, x := range ticks(a.x0, a.x1, 8) {
			px := a.px(x)
			fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s"/>`, px, px, coord(a.top), coord(a.bottom))
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" stroke="none" fill="#333">%s</text>`, px, coord(a.bottom+14), Num(x))
		}
	}
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#888"/>`,
		coord(a.left), coord(a.top), coord(a.right-a.left), coord(a.bottom-a.top))
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, coord((a.left+a.right)/2), coord(a.bottom+32), esc(c.XLabel))
	ylabel := c.YLabel
	if a.log {
		ylabel += " (log scale)"
	}
	my := coord((a.top + a.bottom) / 2)
	fmt.Fprintf(b, `<text x="14" y="%s" text-anchor="middle" transform="rotate(-90 14 %s)">%s</text>`, my, my, esc(ylabel))
}

func (a axes) yTicks() []float64 {
	if !a.log {
		return ticks(a.y0, a.y1, 6)
	}
	var out []float64
	for v := a.y0; v <= a.y1*1.0001; v *= 10 {
		out = append(out, v)
	}
	return out
}

// ticks are about n round values (1, 2 or 5 times a power of ten apart) in [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	step := niceStep((hi - lo) / float64(n))
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

// niceCeil rounds v up to a value that ticks(0, v) ends on.
func niceCeil(v float64) float64 {
	step := niceStep(v / 6)
	return math.Ceil(v/step) * step
}

// legend is where each legend entry goes, in rows below the plot.
type legend struct {
	x, row []float64
	height int
}

func (c Chart) legendLayout(w int) legend {
	var l legend
	x, row := float64(marginLeft), 0.0
	for _, s := range c.Series {
		width := 26 + charWidth*float64(len([]rune(s.Name))) + 14
		if x+width > float64(w-marginRight) && x > marginLeft {
			x, row = marginLeft, row+1
		}
		l.x, l.row = append(l.x, x), append(l.row, row)
		x += width
	}
	if len(c.Series) > 0 {
		l.height = int(row+1)*legendRow + 4
	}
	return l
}

func (l legend) draw(b *bytes.Buffer, c Chart, h int) {
	for i, s := range c.Series {
		y := float64(h) + l.row[i]*legendRow + 6
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(b, `<g class="legend" data-series="%d" cursor="pointer"><title>show or hide %s</title><rect x="%s" y="%s" width="%s" height="%d" fill="transparent"/><line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/><text x="%s" y="%s">%s</text></g>`,
			i, esc(s.Name), coord(l.x[i]), coord(y), coord(26+charWidth*float64(len([]rune(s.Name)))), legendRow,
			coord(l.x[i]), coord(l.x[i]+20), coord(y+9), coord(y+9), c.color(i), dash,
			coord(l.x[i]+24), coord(y+13), esc(s.Name))
	}
}
