package inference

import "math"

// The constants of the SIMD kernels expShift and geluSIMD, each in 8 lanes.
var (
	// expTable: exp(x) = 2ᵏ·exp(r) with k = round(x·log₂e) and r = x - k·ln 2, ln 2 in
	// two parts (the first exact in float32), x clamped at -87 so 2ᵏ stays normal, and
	// exp(r) by its Taylor series to r⁷ (|r| ≤ ln 2/2: error below 1e-8).
	expTable = broadcast8(math.Log2E, 0.693359375, -2.12194440e-4, -87,
		1.0/5040, 1.0/720, 1.0/120, 1.0/24, 1.0/6, 0.5, 1)
	// geluTable: GELU(x) = x/2·(1 + erf(x/√2)), with erf(x/√2) = x·P(x²)/Q(x²) for x
	// clamped to ±4√2 (beyond, erf rounds to ±1 in float32): 0.5, the clamp, 1, then
	// P's 7 and Q's 5 coefficients (Q's constant is 1), fitted by
	// inference/train/fit_gelu.py (error 1.5e-9 before float32 rounding).
	geluTable = broadcast8(0.5, 4*math.Sqrt2, -4*math.Sqrt2, 1,
		0.79788457141524716, 0.065304996584474141, 0.0096047459665914849,
		0.00033937039340821918, 1.6912851530589661e-5, 1.0563706244310068e-7,
		-1.5100082157992738e-10,
		0.24851444819787058, 0.028456594061464744, 0.0019316924357316908,
		8.1848961614749254e-5, 2.0003041137106466e-6)
)

func broadcast8(v ...float64) *[16][8]float32 {
	var t [16][8]float32
	for i, c := range v {
		for j := range t[i] {
			t[i][j] = float32(c)
		}
	}
	return &t
}

// gelu applies GELU, x·Φ(x) (PyTorch's exact form, not the tanh one), to every row
// of x, w wide. The SIMD kernel takes each row's first multiple of 8, so an element's
// arithmetic depends on its column only, never on the batch.
func gelu(x []float32, w int) {
	n8 := 0
	if useSIMD {
		n8 = w &^ 7
	}
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		if n8 > 0 {
			geluSIMD(&row[0], n8, geluTable)
		}
		for i := n8; i < w; i++ {
			v := float64(row[i])
			row[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		}
	}
}

// maxScore returns the largest of s.
func maxScore(s []float32) float32 {
	mx := float32(math.Inf(-1))
	for _, v := range s {
		mx = max(mx, v)
	}
	return mx
}

// expScores replaces s by exp(s - mx), mx the largest of s, and returns the inverse of
// their sum: the softmax of s is s·inv.
func expScores(s []float32, mx float32) (inv float32) {
	var sum float32
	n8 := 0
	if useSIMD {
		n8 = len(s) &^ 7
		if n8 > 0 {
			sum = expShift(&s[0], n8, mx, expTable)
		}
	}
	for j := n8; j < len(s); j++ {
		e := float32(math.Exp(float64(s[j] - mx)))
		s[j] = e
		sum += e
	}
	return 1 / sum
}
