package dataset

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

// newRand returns a generator for seed; seed 0 draws one.
func newRand(seed uint64) *rand.Rand {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
}

// Order picks body indexes 0..n-1: in turn (cycle) or uniformly at random from a
// seeded generator. It is safe for concurrent use; the sequence of picks is the
// same for the same seed, whichever goroutine makes them.
type Order struct {
	n    int
	next atomic.Uint64
	mu   sync.Mutex
	rng  *rand.Rand // nil for cycle
}

// NewOrder returns an Order over n items; random with seed (0: drawn) or cycle.
func NewOrder(n int, random bool, seed uint64) *Order {
	o := &Order{n: max(n, 1)}
	if random {
		o.rng = newRand(seed)
	}
	return o
}

// Next returns the next index.
func (o *Order) Next() int {
	if o.n == 1 {
		return 0
	}
	if o.rng == nil {
		return int((o.next.Add(1) - 1) % uint64(o.n))
	}
	o.mu.Lock()
	i := o.rng.IntN(o.n)
	o.mu.Unlock()
	return i
}

// Weighted picks index i with probability weights[i]/sum(weights), from a
// seeded generator. It is safe for concurrent use.
type Weighted struct {
	cum []float64 // cumulative weights
	mu  sync.Mutex
	rng *rand.Rand
}

// NewWeighted returns a chooser over weights (each >= 0, at least one > 0);
// seed 0 draws one.
func NewWeighted(weights []float64, seed uint64) *Weighted {
	w := &Weighted{rng: newRand(seed)}
	sum := 0.0
	for _, x := range weights {
		sum += max(x, 0)
		w.cum = append(w.cum, sum)
	}
	return w
}

// Next returns the next index.
func (w *Weighted) Next() int {
	if len(w.cum) <= 1 {
		return 0
	}
	w.mu.Lock()
	x := w.rng.Float64() * w.cum[len(w.cum)-1]
	w.mu.Unlock()
	i := sort.SearchFloat64s(w.cum, x)
	for i < len(w.cum)-1 && w.cum[i] <= x { // x on a boundary belongs to the next
		i++
	}
	return i
}
