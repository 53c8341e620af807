package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// reference returns the nearest-rank q-quantile of vs by sorting: the value at
// rank ceil(q*n).
func reference(vs []time.Duration, q float64) time.Duration {
	s := slices.Clone(vs)
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	return s[max(rank, 1)-1]
}

func TestQuantilesMatchSortReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() time.Duration{
		"constant":  func() time.Duration { return 1234567 },
		"tiny":      func() time.Duration { return time.Duration(rng.IntN(600)) },
		"uniform":   func() time.Duration { return time.Duration(rng.Int64N(int64(time.Second))) },
		"lognormal": func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*1.5 + 16)) },
		"bimodal": func() time.Duration {
			if rng.IntN(100) < 3 {
				return 2*time.Second + time.Duration(rng.Int64N(int64(time.Second)))
			}
			return 5*time.Millisecond + time.Duration(rng.Int64N(int64(time.Millisecond)))
		},
		"huge": func() time.Duration { return time.Duration(rng.Int64N(math.MaxInt64 / 2)) }, // no overflow of want+tol
	}
	qs := []float64{0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 3, 10, 101, 1000, 100000} {
			vs := make([]time.Duration, n)
			h := newHist()
			var sh sparseHist
			var sum float64
			for i := range vs {
				vs[i] = gen()
				h.add(vs[i])
				sh.add(vs[i])
				sum += float64(vs[i])
			}
			sparse := sh.quantiles(qs...)
			for i, q := range qs {
				want := reference(vs, q)
				tol := time.Duration(float64(want) * MaxRelativeError)
				for kind, got := range map[string]time.Duration{"dense": h.quantile(q), "sparse": sparse[i]} {
					if got < want-tol || got > want+tol {
						t.Errorf("%s n=%d %s q=%g: got %d, want %d ± %d", name, n, kind, q, got, want, tol)
					}
				}
			}
			if h.max != slices.Max(vs) || h.min != slices.Min(vs) {
				t.Errorf("%s n=%d: min/max %d/%d, want %d/%d", name, n, h.min, h.max, slices.Min(vs), slices.Max(vs))
			}
			if want := time.Duration(sum / float64(n)); h.mean() != want {
				t.Errorf("%s n=%d: mean %d, want %d", name, n, h.mean(), want)
			}
		}
	}
}

func TestBucketsCoverAllValues(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 511, 512, 513, 1023, 1024, 1 << 20, 1<<20 + 1, 1<<40 - 1, math.MaxUint64} {
		b := bucketOf(v)
		if b < prev || b >= numBuckets {
			t.Errorf("bucketOf(%d) = %d, previous %d, buckets %d", v, b, prev, numBuckets)
		}
		prev = b
		mid := float64(bucketMid(b))
		if math.Abs(mid-float64(v)) > float64(v)*MaxRelativeError+0.5 {
			t.Errorf("value %d in bucket %d with midpoint %.0f: error above %g", v, b, mid, MaxRelativeError)
		}
	}
	if len(newHist().counts) != numBuckets {
		t.Error("histogram size")
	}
}

func TestEmptyHistograms(t *testing.T) {
	if q := newHist().quantile(0.99); q != 0 {
		t.Errorf("empty dense p99 %s", q)
	}
	var sh sparseHist
	if q := sh.quantiles(0.5, 0.99); q[0] != 0 || q[1] != 0 {
		t.Errorf("empty sparse %v", q)
	}
}

func BenchmarkHistAdd(b *testing.B) {
	h := newHist()
	d := 3 * time.Millisecond
	for b.Loop() {
		h.add(d)
		d += 7
	}
}

func FuzzNormalizeError(f *testing.F) {
	f.Add(`Get "http://127.0.0.1:8080/p": read tcp 127.0.0.1:50312->127.0.0.1:8080: read: connection reset by peer`)
	f.Add(`Post "http://h/->x": dial tcp 127.0.0.1:1: connect: connection refused`)
	f.Add("->")
	f.Add("tcp ->")
	f.Fuzz(func(t *testing.T, msg string) {
		got := normalizeError(msg)
		if normalizeError(got) != got {
			t.Errorf("not idempotent: %q -> %q -> %q", msg, got, normalizeError(got))
		}
		if len(got) > len(msg) {
			t.Errorf("grew: %q -> %q", msg, got)
		}
	})
}

func TestNormalizeError(t *testing.T) {
	for in, want := range map[string]string{
		`Get "http://127.0.0.1:8080/p": read tcp 127.0.0.1:50312->127.0.0.1:8080: read: connection reset by peer`: `Get "http://127.0.0.1:8080/p": read tcp ->127.0.0.1:8080: read: connection reset by peer`,
		`Get "http://127.0.0.1:1": dial tcp 127.0.0.1:1: connect: connection refused`:                             `Get "http://127.0.0.1:1": dial tcp 127.0.0.1:1: connect: connection refused`,
		`500 Internal Server Error`: `500 Internal Server Error`,
	} {
		if got := normalizeError(in); got != want {
			t.Errorf("normalizeError(%q) = %q, want %q", in, got, want)
		}
	}
}
