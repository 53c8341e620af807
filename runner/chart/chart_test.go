package chart

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
)

// wellFormed fails the test when b is not well-formed XML.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatalf("not well-formed SVG: %v\n%s", err, b)
		}
	}
}

func TestSVG(t *testing.T) {
	tests := []struct {
		name  string
		chart Chart
		want  []string
		not   []string
	}{
		{
			name: "two series and a limit",
			chart: Chart{ID: "m", Title: "memory <MiB>", XLabel: "seconds", YLabel: "MiB", Series: []Series{
				{Name: "r1", Points: []Point{{X: 0, Y: 10}, {X: 1, Y: 20}, {X: 2, Y: math.NaN()}, {X: 3, Y: 30}}},
				{Name: "r2 & co", Points: []Point{{X: 0, Y: 5}, {X: 3, Y: 6, Label: "custom"}}},
				{Name: "limit", Dashed: true, Points: []Point{{X: 0, Y: 40}, {X: 3, Y: 40}}},
			}},
			want: []string{`data-chart="m"`, `memory &lt;MiB&gt;`, `<g class="series" data-series="0" aria-label="r1">`, `data-series="2"`,
				`<title>r1: seconds 1, 20 MiB</title>`, `<title>custom</title>`, `r2 &amp; co`, `stroke-dasharray`, `class="legend"`},
		},
		{
			name:  "nominal axis",
			chart: Chart{Title: "p99", XNames: []string{"10 users", "500 users"}, Series: []Series{{Name: "a", Points: []Point{{X: 0, Y: 1}, {X: 1, Y: 2}}}}},
			want:  []string{">10 users<", ">500 users<", "<title>a: 500 users, 2</title>"},
		},
		{
			name:  "log scale",
			chart: Chart{Title: "p99", LogY: true, YLabel: "ms", Series: []Series{{Name: "a", Points: []Point{{X: 0, Y: 1}, {X: 1, Y: 5000}}}}},
			want:  []string{"ms (log scale)", ">1000<", ">10000<"},
		},
		{
			name: "error bars widen the axis and show in the hover text",
			chart: Chart{Title: "p99", YLabel: "ms", XNames: []string{"a", "b"}, Series: []Series{{Name: "s", Points: []Point{
				{X: 0, Y: 100, Lo: 90, Hi: 180}, {X: 1, Y: 50, Lo: 50, Hi: 50}}}}},
			want: []string{`class="bar"`, "<title>s: a, 100 (90–180) ms</title>", "<title>s: b, 50 ms</title>", ">200<"},
		},
		{
			name:  "empty",
			chart: Chart{Title: "nothing", Series: []Series{{Name: "a"}}},
			want:  []string{"no data yet"},
			not:   []string{"<circle"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.chart.SVG()
			wellFormed(t, b)
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("SVG lacks %q:\n%s", w, b)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(string(b), w) {
					t.Errorf("SVG has %q:\n%s", w, b)
				}
			}
		})
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 10, "0 2 4 6 8 10"},
		{0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{0, 3500, "0 1000 2000 3000"},
	}
	for _, tt := range tests {
		var got []string
		for _, v := range ticks(tt.lo, tt.hi, 6) {
			got = append(got, Num(v))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("ticks(%v, %v) = %s, want %s", tt.lo, tt.hi, g, tt.want)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234.5: "1234", 12.34: "12.3", 1.5: "1.5", 0.25: "0.25", 0.0001: "0.0001", 150: "150"} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %s, want %s", v, got, want)
		}
	}
}
