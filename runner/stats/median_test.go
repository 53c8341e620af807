package stats

import (
	"math"
	"math/big"
	"testing"
)

// naiveRank is medianRank by exact rational arithmetic: the largest k with
// sum_{i<k} C(n,i) / 2^n <= alpha/2, and its coverage.
func naiveRank(n int, alpha float64) (int, float64) {
	half := new(big.Rat).SetFloat64(alpha / 2)
	total := new(big.Int).Lsh(big.NewInt(1), uint(n))
	tail := new(big.Rat)
	k := 0
	var cover float64
	for i := 0; i < n/2; i++ {
		c := new(big.Int).Binomial(int64(n), int64(i))
		next := new(big.Rat).Add(tail, new(big.Rat).SetFrac(c, total))
		if next.Cmp(half) > 0 {
			break
		}
		tail, k = next, i+1
		f, _ := tail.Float64()
		cover = 1 - 2*f
	}
	return k, cover
}

func TestMedianRankAgainstExactBinomial(t *testing.T) {
	for _, alpha := range []float64{0.05, 0.01, 0.1} {
		for n := 1; n <= 60; n++ {
			k, cover := medianRank(n, alpha)
			wk, wcover := naiveRank(n, alpha)
			if k != wk || !near(cover, wcover, 1e-9) {
				t.Errorf("n=%d alpha=%g: rank %d coverage %v, want %d %v", n, alpha, k, cover, wk, wcover)
			}
		}
	}
}

func TestMedianCI(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(n - i) // reversed: MedianCI must sort
		}
		return v
	}
	for _, c := range []struct {
		name   string
		v      []float64
		med    float64
		lo, hi float64
		exact  bool
		cover  float64
	}{
		// Ranks of the 95% interval as printed in the tables of distribution-free
		// statistics (e.g. Conover, Practical Nonparametric Statistics, table A3).
		{"n=6: min and max", seq(6), 3.5, 1, 6, true, 1 - 2.0/64},
		{"n=10: 2nd and 9th", seq(10), 5.5, 2, 9, true, 1 - 2*11.0/1024},
		{"n=20: 6th and 15th", seq(20), 10.5, 6, 15, true, 0.958610535},
		{"n=30: 10th and 21st", seq(30), 15.5, 10, 21, true, 0.957226055},
		{"n=5 is too few: the range, 93.75%", seq(5), 3, 1, 5, false, 0.9375},
		{"n=3: the range, 75%", []float64{120, 100, 110}, 110, 100, 120, false, 0.75},
		{"n=2: the range, 50%", []float64{2, 1}, 1.5, 1, 2, false, 0.5},
		{"n=1: one value, no coverage", []float64{7}, 7, 7, 7, false, 0},
		{"NaN values are ignored", []float64{math.NaN(), 3, 1, 2}, 2, 1, 3, false, 0.75},
	} {
		t.Run(c.name, func(t *testing.T) {
			iv := MedianCI(c.v, 0.05)
			if iv.Median != c.med || iv.Lo != c.lo || iv.Hi != c.hi || iv.Exact != c.exact || !near(iv.Confidence, c.cover, 1e-6) {
				t.Errorf("MedianCI = %+v, want median %v [%v, %v] exact %v coverage %v", iv, c.med, c.lo, c.hi, c.exact, c.cover)
			}
		})
	}
	if iv := MedianCI(nil, 0.05); !math.IsNaN(iv.Median) || !math.IsNaN(iv.Lo) || !math.IsNaN(iv.Hi) {
		t.Errorf("no values: %+v, want NaN", iv)
	}
}
