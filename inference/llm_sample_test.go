package inference

import (
	"math"
	"testing"
)

// TestSampler draws many tokens from fixed logits and checks the frequencies
// against the distribution each setting defines: softmax(logits/T), cut to the
// nucleus and renormalized under top_p, never the banned token, and the same
// tokens again for the same seed.
func TestSampler(t *testing.T) {
	logits := []float32{2, 1, 0.5, 0, -1, 3, 0.5, -2}
	const draws = 200000
	cases := []struct {
		name   string
		s      Sampling
		banned int
	}{
		{"temperature 1", Sampling{Temperature: 1, TopP: 1, Seed: 1}, -1},
		{"temperature 0.5", Sampling{Temperature: 0.5, TopP: 1, Seed: 2}, -1},
		{"temperature 1.5, banned", Sampling{Temperature: 1.5, TopP: 1, Seed: 3}, 5},
		{"top_p 0.8", Sampling{Temperature: 1, TopP: 0.8, Seed: 4}, -1},
		{"top_p 0.3, one token", Sampling{Temperature: 1, TopP: 0.3, Seed: 5}, -1},
		{"top_p 0.9, banned", Sampling{Temperature: 0.7, TopP: 0.9, Seed: 6}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := nucleus(logits, c.s, c.banned)
			got := make([]float64, len(logits))
			sp := newSampler(c.s)
			for range draws {
				got[sp.next(logits, c.banned)]++
			}
			for i := range got {
				got[i] /= draws
				// 5 sigma of a binomial frequency, plus a little for rounding.
				tol := 5*math.Sqrt(want[i]*(1-want[i])/draws) + 1e-9
				if math.Abs(got[i]-want[i]) > tol {
					t.Errorf("token %d drawn %.4f of the time, want %.4f (±%.4f)", i, got[i], want[i], tol)
				}
			}
			a, b := newSampler(c.s), newSampler(c.s)
			for k := range 1000 {
				if x, y := a.next(logits, c.banned), b.next(logits, c.banned); x != y {
					t.Fatalf("draw %d: %d then %d with the same seed", k, x, y)
				}
			}
		})
	}
}

// nucleus is the distribution the sampler should draw from, computed directly.
func nucleus(logits []float32, s Sampling, banned int) []float64 {
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		if i != banned {
			p[i] = math.Exp(float64(v) / s.Temperature)
			sum += p[i]
		}
	}
	for i := range p {
		p[i] /= sum
	}
	// Keep the most likely tokens until they add up to TopP.
	kept := make([]bool, len(p))
	for cum := 0.0; cum < s.TopP-1e-12; {
		best := -1
		for i := range p {
			if !kept[i] && (best < 0 || p[i] > p[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		kept[best] = true
		cum += p[best]
	}
	var k float64
	for i := range p {
		if !kept[i] {
			p[i] = 0
		}
		k += p[i]
	}
	for i := range p {
		p[i] /= k
	}
	return p
}
