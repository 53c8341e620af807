package stats

import (
	"math"
	"slices"
)

// Shift is an estimate of how much a second sample is shifted from a first one,
// with a confidence interval. Lo and Hi are NaN when the samples are too small
// for an interval at the asked confidence.
type Shift struct {
	// Estimate is the point estimate.
	Estimate float64
	// Lo and Hi bound the confidence interval.
	Lo, Hi float64
	// Confidence is the interval's actual coverage, at least the one asked for
	// (exact intervals cannot hit every level).
	Confidence float64
}

// HodgesLehmann estimates the shift of y from x as the median of all differences
// y[j] - x[i], with the distribution-free confidence interval that inverts the
// Mann–Whitney test: the k-th smallest and k-th largest differences, k the largest
// count with P(U < k) <= alpha/2 (exact distribution when n1*n2 <= 2500, else
// normal). It is the interval R's wilcox.test(conf.int = TRUE) gives without ties.
func HodgesLehmann(x, y []float64, alpha float64) (Shift, error) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return Shift{}, ErrTooFew
	}
	d := make([]float64, 0, n1*n2)
	for _, b := range y {
		for _, a := range x {
			d = append(d, b-a)
		}
	}
	slices.Sort(d)
	s := Shift{Estimate: median(d), Lo: math.NaN(), Hi: math.NaN()}
	k, cover := shiftRank(n1, n2, alpha)
	if k >= 1 {
		s.Lo, s.Hi, s.Confidence = d[k-1], d[len(d)-k], cover
	}
	return s, nil
}

// shiftRank is the rank k of the interval's bounds and its coverage; k is 0 when
// no interval reaches 1-alpha.
func shiftRank(n1, n2 int, alpha float64) (int, float64) {
	mn := n1 * n2
	if mn > 2500 {
		a, b := float64(n1), float64(n2)
		z := normalQuantile(1 - alpha/2)
		k := int(math.Floor(a*b/2 - z*math.Sqrt(a*b*(a+b+1)/12)))
		if k < 1 {
			return 0, 0
		}
		return k, 1 - alpha
	}
	pmf := exactPMF(n1, n2)
	k, cum := 0, 0.0
	for u := 0; u < len(pmf); u++ {
		if cum+pmf[u] > alpha/2+1e-12 {
			break
		}
		cum += pmf[u]
		k = u + 1
	}
	if k == 0 {
		return 0, 0
	}
	return k, 1 - 2*cum
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Median is the median of v (NaN when empty); v is not modified.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return median(s)
}

// Quantile is the q-quantile (0..1) of v by linear interpolation between order
// statistics (numpy's default), NaN when v is empty; v is not modified.
func Quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return quantileSorted(s, q)
}

func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// CV is the coefficient of variation of v: its sample standard deviation over
// its mean; NaN with fewer than two values or a zero mean.
func CV(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if mean == 0 {
		return math.NaN()
	}
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss/float64(len(v)-1)) / math.Abs(mean)
}

// normalQuantile is the standard normal quantile function, by bisection on the
// survival function (exact to float64 precision after 200 halvings).
func normalQuantile(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	if p >= 1 {
		return math.Inf(1)
	}
	lo, hi := -40.0, 40.0
	for range 200 {
		mid := (lo + hi) / 2
		if 1-normalSF(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
