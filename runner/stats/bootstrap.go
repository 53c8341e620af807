package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Bootstrap configures BootstrapRatio. The zero value is not usable; start from
// DefaultBootstrap.
type Bootstrap struct {
	// Resamples is the number of bootstrap resamples.
	Resamples int
	// Block is the length of the moving blocks resampled together, so that the
	// correlation between neighbouring seconds of a run is kept; 1 is the plain
	// bootstrap.
	Block int
	// Seed makes the resampling repeatable.
	Seed uint64
}

// DefaultBootstrap resamples 2000 times in blocks of 5 values with a fixed seed.
var DefaultBootstrap = Bootstrap{Resamples: 2000, Block: 5, Seed: 1}

// Ratio is a relative change with its confidence interval and a p-value.
type Ratio struct {
	// Change is stat(y)/stat(x) - 1.
	Change float64
	// Lo and Hi bound the percentile confidence interval of Change.
	Lo, Hi float64
	// P is the two-sided bootstrap p-value of "no change": twice the smaller
	// share of resampled changes on either side of 0.
	P float64
}

// BootstrapRatio estimates the relative change of stat from x to y, resampling
// each side independently in moving blocks. It needs at least two values on each
// side and stat(x) != 0; otherwise every field is NaN.
func BootstrapRatio(x, y []float64, stat func([]float64) float64, alpha float64, b Bootstrap) Ratio {
	nan := Ratio{Change: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), P: math.NaN()}
	sx := stat(x)
	if len(x) < 2 || len(y) < 2 || sx == 0 || math.IsNaN(sx) {
		return nan
	}
	r := Ratio{Change: stat(y)/sx - 1}
	rng := rand.New(rand.NewPCG(b.Seed, 0x9e3779b97f4a7c15))
	changes := make([]float64, 0, b.Resamples)
	bx, by := make([]float64, len(x)), make([]float64, len(y))
	below, above := 0, 0
	for range b.Resamples {
		resample(rng, x, bx, b.Block)
		resample(rng, y, by, b.Block)
		s := stat(bx)
		if s == 0 || math.IsNaN(s) {
			continue
		}
		c := stat(by)/s - 1
		changes = append(changes, c)
		if c <= 0 {
			below++
		}
		if c >= 0 {
			above++
		}
	}
	if len(changes) == 0 {
		return nan
	}
	slices.Sort(changes)
	r.Lo = quantileSorted(changes, alpha/2)
	r.Hi = quantileSorted(changes, 1-alpha/2)
	n := float64(len(changes))
	r.P = math.Min(1, 2*(float64(min(below, above))+1)/(n+1))
	return r
}

// resample fills out with len(out) values of v taken in moving blocks of length
// block starting at random offsets (blocks wrap around the end). The block is cut
// to a quarter of v, so that a short series is still resampled, not rotated.
func resample(rng *rand.Rand, v, out []float64, block int) {
	block = max(1, min(block, len(v)/4))
	for i := 0; i < len(out); {
		start := rng.IntN(len(v))
		for j := 0; j < block && i < len(out); j++ {
			out[i] = v[(start+j)%len(v)]
			i++
		}
	}
}

// Mean is the arithmetic mean of v, NaN when empty.
func Mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
