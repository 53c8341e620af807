package load

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Arrival processes of Config.Arrival.
const (
	// ArrivalConstant sends hit k at (k+1)/rate: a metronome (the default).
	ArrivalConstant = "constant"
	// ArrivalPoisson draws exponential gaps of mean 1/rate: a Poisson process,
	// gaps with a coefficient of variation of 1.
	ArrivalPoisson = "poisson"
	// ArrivalGamma draws gamma gaps of mean 1/rate and shape Burstiness: 1 is
	// Poisson, below 1 burstier (coefficient of variation 1/sqrt(shape)), above 1
	// more regular. vLLM's `bench serve --burstiness` draws the same gaps.
	ArrivalGamma = "gamma"
)

// randomRate is a vegeta Pacer whose gaps are drawn from a gamma distribution of
// mean 1/rate and the given shape (1: exponential). The draws come from a seeded
// generator, so a seed repeats the schedule. Each hit's due time is kept (8 bytes
// a hit) because results come back out of order and the latency of each is
// measured from its own intended send time.
type randomRate struct {
	rate, shape float64
	// slope makes the mean rate rate+slope·t (per second per second): a ramp,
	// drawn by time rescaling (unit-mean gaps in the ramp's own clock, where
	// Λ(t) = rate·t + slope·t²/2 hits are due by t).
	slope float64
	seed  uint64

	mu  sync.Mutex
	rng *rand.Rand
	at  []time.Duration // due time of hit k
	sum float64         // the hits due by the last hit drawn, Λ(its due time)
}

var _ vegeta.Pacer = (*randomRate)(nil)

// newRandomRate returns a randomRate; shape 1 gives Poisson arrivals.
func newRandomRate(perSecond, shape float64, seed uint64) *randomRate {
	return &randomRate{rate: perSecond, shape: shape, seed: seed,
		rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Pace implements vegeta.Pacer.
func (p *randomRate) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if wait := p.due(hits) - elapsed; wait > 0 {
		return wait, false
	}
	return 0, false
}

// Rate implements vegeta.Pacer: the mean rate at elapsed.
func (p *randomRate) Rate(elapsed time.Duration) float64 { return p.rate + p.slope*elapsed.Seconds() }

// due returns the elapsed time at which hit k is meant to be sent.
func (p *randomRate) due(k uint64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	for uint64(len(p.at)) <= k {
		p.sum += p.gap() * p.rate
		p.at = append(p.at, p.inverse(p.sum))
	}
	return p.at[k]
}

// inverse is the time by which c hits are due: Λ⁻¹(c), in the form that is
// stable for any slope (as linearRate's); never for a falling ramp that
// reaches zero first.
func (p *randomRate) inverse(c float64) time.Duration {
	d := p.rate*p.rate + 2*p.slope*c
	if d < 0 {
		return math.MaxInt64
	}
	return time.Duration(2 * c / (p.rate + math.Sqrt(d)) * 1e9)
}

// hitsWithin is the number of hits the schedule makes due within the first du:
// a random schedule's own count, which strays from rate×du by about its square
// root (a Poisson window of 40 expected hits holds 34 to 46 two times in three).
func (p *randomRate) hitsWithin(du time.Duration) uint64 {
	var k uint64
	for p.due(k) <= du {
		k++
	}
	return k
}

// gap draws one inter-arrival gap in seconds.
func (p *randomRate) gap() float64 {
	if p.shape == 1 {
		return p.rng.ExpFloat64() / p.rate
	}
	// Gamma(shape, scale) with scale 1/(shape*rate) has mean 1/rate.
	return gammaDraw(p.rng, p.shape) / (p.shape * p.rate)
}

// gammaDraw draws from Gamma(shape, 1) by Marsaglia and Tsang's method (2000),
// with the boost U^(1/shape) for shapes below 1.
func gammaDraw(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return gammaDraw(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// newArrival returns the schedule of an arrival process at a constant mean rate.
// A zero seed draws one; the seed used is returned for the report.
func newArrival(kind string, perSecond, burstiness float64, seed uint64) (schedule, uint64) {
	return newRampArrival(kind, perSecond, perSecond, time.Second, burstiness, seed)
}

// newRampArrival returns the schedule of an arrival process whose mean rate goes
// linearly from `from` to `to` per second over `over`: Poisson or gamma gaps in
// the ramp's own clock, or the metronome of linearRate.
func newRampArrival(kind string, from, to float64, over time.Duration, burstiness float64, seed uint64) (schedule, uint64) {
	switch kind {
	case ArrivalPoisson, ArrivalGamma:
		if seed == 0 {
			seed = rand.Uint64() | 1
		}
		shape := 1.0
		if kind == ArrivalGamma && burstiness > 0 {
			shape = burstiness
		}
		p := newRandomRate(from, shape, seed)
		p.slope = (to - from) / over.Seconds()
		return p, seed
	case ArrivalConstant, "":
		if from != to {
			return newLinearRate(from, to, over), 0
		}
	}
	return newConstantRate(from), 0
}
