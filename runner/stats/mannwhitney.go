package stats

import (
	"errors"
	"math"
	"slices"
)

// ErrTooFew is returned when a sample is empty.
var ErrTooFew = errors.New("a sample is empty")

// Method says how a p-value was computed.
type Method string

// Methods of MannWhitney.
const (
	// Exact enumerates the distribution of U (small samples without ties).
	Exact Method = "exact"
	// Asymptotic uses the normal approximation with tie and continuity corrections.
	Asymptotic Method = "asymptotic"
)

// ExactLimit is the sample size at or below which (on either side) MannWhitney
// uses the exact distribution when there are no ties; scipy's "auto" chooses the
// same way.
const ExactLimit = 8

// UTest is the result of a two-sided Mann–Whitney U test.
type UTest struct {
	// U is the statistic of the first sample: the number of pairs (x, y) with
	// x > y, ties counting one half.
	U float64
	// P is the two-sided p-value.
	P float64
	// Method is how P was computed.
	Method Method
}

// MannWhitney tests whether x and y come from the same distribution against the
// alternative that one is shifted, two-sided. It chooses the exact method when
// either sample has at most ExactLimit values and there are no ties, and the
// normal approximation otherwise.
func MannWhitney(x, y []float64) (UTest, error) {
	m := Asymptotic
	if (len(x) <= ExactLimit || len(y) <= ExactLimit) && !hasTies(x, y) {
		m = Exact
	}
	return MannWhitneyMethod(x, y, m)
}

// MannWhitneyMethod is MannWhitney with the method chosen by the caller. The exact
// method ignores ties (it is then only an approximation).
func MannWhitneyMethod(x, y []float64, method Method) (UTest, error) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return UTest{}, ErrTooFew
	}
	ranks, ties := rank(append(slices.Clone(x), y...))
	r1 := 0.0
	for _, r := range ranks[:n1] {
		r1 += r
	}
	u1 := r1 - float64(n1*(n1+1))/2
	u2 := float64(n1*n2) - u1
	u := math.Max(u1, u2)
	t := UTest{U: u1, Method: method}
	switch method {
	case Exact:
		t.P = 2 * exactSF(n1, n2, u)
	default:
		t.P = 2 * asymptoticSF(n1, n2, u, ties)
		t.Method = Asymptotic
	}
	t.P = math.Min(1, math.Max(0, t.P))
	return t, nil
}

// MinP is the smallest two-sided p-value the exact test can give for samples of
// sizes n1 and n2: when it exceeds alpha, no difference can be significant.
func MinP(n1, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	return math.Min(1, 2*exactCDF(n1, n2, 0))
}

// hasTies reports whether any value occurs twice in x and y together.
func hasTies(x, y []float64) bool {
	all := append(slices.Clone(x), y...)
	slices.Sort(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			return true
		}
	}
	return false
}

// rank returns the mid-ranks (1-based) of v in v's order, and the sum over tie
// groups of t³-t.
func rank(v []float64) ([]float64, float64) {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	ranks := make([]float64, len(v))
	ties := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		mid := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = mid
		}
		if t := float64(j - i + 1); t > 1 {
			ties += t*t*t - t
		}
		i = j + 1
	}
	return ranks, ties
}

// asymptoticSF is P(U >= u) under the normal approximation with the tie
// correction of the variance and a continuity correction of one half.
func asymptoticSF(n1, n2 int, u, ties float64) float64 {
	a, b := float64(n1), float64(n2)
	n := a + b
	mu := a * b / 2
	sigma := math.Sqrt(a * b / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 {
		return 0.5
	}
	z := (u - mu - 0.5) / sigma
	return normalSF(z)
}

// normalSF is the standard normal survival function.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// exactSF is P(U >= u) for U of samples of sizes n1 and n2 under the null
// hypothesis. A half-integer u (ties) is rounded down, as scipy does, which errs
// on the side of a larger p-value.
func exactSF(n1, n2 int, u float64) float64 {
	k := int(math.Floor(u + 1e-9))
	if k <= 0 {
		return 1
	}
	return 1 - exactCDF(n1, n2, k-1)
}

// exactCDF is P(U <= k) under the null hypothesis: the share of the C(n1+n2, n1)
// equally likely orders whose U is at most k.
func exactCDF(n1, n2, k int) float64 {
	if k < 0 {
		return 0
	}
	pmf := exactPMF(n1, n2)
	s := 0.0
	for u := 0; u <= k && u < len(pmf); u++ {
		s += pmf[u]
	}
	return math.Min(1, s)
}

// exactPMF is the distribution of U for sizes n1 and n2, built with the
// recurrence p(m, n, u) = m/(m+n) p(m-1, n, u-n) + n/(m+n) p(m, n-1, u).
func exactPMF(n1, n2 int) []float64 {
	// prev[n][u] holds p(m-1, n, u) while row m is built.
	prev := make([][]float64, n2+1)
	for n := range prev {
		prev[n] = []float64{1} // p(0, n, 0) = 1
	}
	for m := 1; m <= n1; m++ {
		cur := make([][]float64, n2+1)
		cur[0] = []float64{1} // p(m, 0, 0) = 1
		for n := 1; n <= n2; n++ {
			row := make([]float64, m*n+1)
			a, b := float64(m)/float64(m+n), float64(n)/float64(m+n)
			for u := range row {
				if u-n >= 0 && u-n < len(prev[n]) {
					row[u] += a * prev[n][u-n]
				}
				if u < len(cur[n-1]) {
					row[u] += b * cur[n-1][u]
				}
			}
			cur[n] = row
		}
		prev = cur
	}
	return prev[n2]
}
