// Package stats holds the few statistics a noise-aware comparison needs, with no
// dependency beyond the standard library: the Mann–Whitney U test (exact for small
// samples without ties, else the normal approximation with tie and continuity
// corrections, as scipy.stats.mannwhitneyu computes them), the Hodges–Lehmann
// estimate of a shift with its distribution-free confidence interval, and a
// moving-block bootstrap for one run's per-second samples (fixed seed, so the same
// input always gives the same interval), and the order-statistic confidence
// interval of a median over a few repeats.
//
// The reference values of the tests were computed with scipy 1.10 and are kept in
// testdata, so the tests need no Python; the median interval's ranks are checked
// against exact binomial sums.
package stats
