package stats

import (
	"math"
	"slices"
)

// Interval is a confidence interval of a median.
type Interval struct {
	// Median is the sample median.
	Median float64
	// Lo and Hi bound the interval (NaN with no value).
	Lo, Hi float64
	// Confidence is the interval's coverage, 0..1: at least 1-alpha when
	// Exact, else the coverage of [min, max], which is less than asked.
	Confidence float64
	// Exact is true when the interval reaches the confidence asked for; false
	// when the sample is too small for it and the interval is its range.
	Exact bool
}

// MedianCI is the distribution-free confidence interval of the median of the
// population v was drawn from: the order statistics x(k) and x(n+1-k), with k
// the largest rank such that P(B < k) <= alpha/2 for B ~ Binomial(n, 1/2). It
// assumes only that the values are independent draws of one distribution (no
// normality, no symmetry), which suits a handful of repeats of a load test. The
// range [min, max] covers the median with probability 1 - 2^(1-n), below 95%
// up to n = 5: then no such k exists, and MedianCI returns the range with Exact
// false and its actual coverage. v is not modified; NaN values are ignored.
func MedianCI(v []float64, alpha float64) Interval {
	s := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	slices.Sort(s)
	n := len(s)
	iv := Interval{Median: median(s), Lo: math.NaN(), Hi: math.NaN()}
	if n == 0 {
		return iv
	}
	k, cover := medianRank(n, alpha)
	if k == 0 {
		iv.Lo, iv.Hi, iv.Confidence = s[0], s[n-1], 1-2*binomCDF(n, 0)
		return iv
	}
	iv.Lo, iv.Hi, iv.Confidence, iv.Exact = s[k-1], s[n-k], cover, true
	return iv
}

// medianRank is the rank k (1-based) of the median interval's lower bound and
// its coverage 1 - 2 P(B <= k-1); k is 0 when even [min, max] falls short of
// 1-alpha.
func medianRank(n int, alpha float64) (int, float64) {
	k := 0
	for j := 0; j < n/2; j++ {
		if binomCDF(n, j) > alpha/2+1e-12 {
			break
		}
		k = j + 1
	}
	if k == 0 {
		return 0, 0
	}
	return k, 1 - 2*binomCDF(n, k-1)
}

// binomCDF is P(B <= j) for B ~ Binomial(n, 1/2), summed in log space so that
// large n neither overflows nor underflows.
func binomCDF(n, j int) float64 {
	sum := 0.0
	for i := 0; i <= j && i <= n; i++ {
		sum += math.Exp(logChoose(n, i) - float64(n)*math.Ln2)
	}
	return min(sum, 1)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
