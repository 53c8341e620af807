package inference

import (
	"math"
	"strings"
	"testing"
)

func BenchmarkProbe(b *testing.B) {
	m := testLLM(b)
	var ws Workspace
	c := m.NewCache(m.Config.Context)
	prompt := m.Encode(strings.Repeat("The fortune ", 6)[:64])
	if _, err := m.Forward(&ws, []Step{{Cache: c, Tokens: prompt, Logits: 1}}); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Forward(&ws, []Step{{Cache: c, Tokens: []int{'a'}, Logits: 1}}); err != nil {
		b.Fatal(err)
	}
	count := func(v []float32) (den, zero int) {
		for _, f := range v {
			if f == 0 {
				zero++
			} else if math.Abs(float64(f)) < 1.1754944e-38 {
				den++
			}
		}
		return
	}
	f := ws.f[:4*m.Config.Width]
	d, z := count(f)
	b.Logf("gelu out: %d denormal, %d zero of %d", d, z, len(f))
	l := &m.layers[3].proj
	y := make([]float32, 1024)
	b.Run("real", func(b *testing.B) {
		for b.Loop() {
			l.apply(y, f, 1)
		}
	})
	g := make([]float32, len(f))
	for i, v := range f {
		if math.Abs(float64(v)) >= 1.1754944e-38 {
			g[i] = v
		}
	}
	b.Run("flushed", func(b *testing.B) {
		for b.Loop() {
			l.apply(y, g, 1)
		}
	})
}
