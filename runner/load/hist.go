package load

import (
	"math/bits"
	"slices"
	"time"
)

// The latency histogram is log-linear (the HDR histogram layout): values below
// 2^subBits nanoseconds have a bucket each, larger values keep their top subBits
// bits. A bucket is at most 1/256 of its lower bound wide and a percentile is
// reported as its bucket's midpoint, so the relative error is at most 1/512 (0.2%).
const (
	subBits    = 9
	subHalf    = 1 << (subBits - 1)
	numBuckets = (64-subBits)*subHalf + 1<<subBits
)

// MaxRelativeError bounds |reported-exact|/exact for the percentiles of Load.Latency
// and of the per-second series (nearest-rank definition). Mean and Max are exact.
const MaxRelativeError = 1.0 / (2 * subHalf)

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits
	return e<<(subBits-1) + int(v>>e)
}

// bucketMid returns the midpoint of bucket i.
func bucketMid(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>(subBits-1) - 1
	m := uint64(i - e<<(subBits-1))
	lo := m << e
	return lo + (uint64(1)<<e)/2
}

// hist is a dense histogram of durations with exact count, sum, min and max.
type hist struct {
	counts   []uint64
	n        uint64
	sum      float64
	min, max time.Duration
}

func newHist() *hist { return &hist{counts: make([]uint64, numBuckets)} }

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += float64(d)
}

func (h *hist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// quantile returns the nearest-rank q-quantile (0 < q <= 1): the value at rank
// ceil(q*n) of the sorted values, within MaxRelativeError.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := nearestRank(q, h.n)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			return clampDur(time.Duration(bucketMid(i)), h.min, h.max)
		}
	}
	return h.max
}

// sparseHist is a histogram for small sets (one second of the series, one progress
// tick): only the buckets in use are stored.
type sparseHist struct {
	counts   map[int32]uint32
	n        uint64
	min, max time.Duration
}

func (h *sparseHist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.counts == nil {
		h.counts = make(map[int32]uint32)
	}
	h.counts[int32(bucketOf(uint64(d)))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
}

// quantiles returns the nearest-rank quantiles for qs, which must be ascending.
func (h *sparseHist) quantiles(qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if h.n == 0 {
		return out
	}
	keys := make([]int32, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var cum uint64
	j := 0
	for _, k := range keys {
		cum += uint64(h.counts[k])
		for j < len(qs) && cum >= nearestRank(qs[j], h.n) {
			out[j] = clampDur(time.Duration(bucketMid(int(k))), h.min, h.max)
			j++
		}
	}
	for ; j < len(qs); j++ {
		out[j] = h.max
	}
	return out
}

func nearestRank(q float64, n uint64) uint64 {
	r := uint64(q * float64(n))
	if float64(r) < q*float64(n) {
		r++
	}
	return min(max(r, 1), n)
}

func clampDur(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
