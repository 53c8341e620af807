package inference

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Sampling chooses a sequence's next token from its logits.
type Sampling struct {
	// Temperature divides the logits; 0 means greedy (the most likely token).
	Temperature float64
	// TopP keeps the smallest set of most likely tokens whose probabilities add up to
	// at least TopP (nucleus sampling); 1 keeps every token.
	TopP float64
	// Seed seeds the sequence's random numbers: the same seed, prompt and settings give
	// the same tokens, alone or batched with other sequences.
	Seed uint64
}

type sampler struct {
	s     Sampling
	rng   *rand.Rand
	probs []float64
	idx   []int
}

func newSampler(s Sampling) *sampler {
	return &sampler{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x5eed))}
}

// next returns the chosen token. banned, when >= 0, is never chosen (ignore_eos).
func (sp *sampler) next(logits []float32, banned int) int {
	if sp.s.Temperature == 0 {
		best := -1
		for i, v := range logits {
			if i != banned && (best < 0 || v > logits[best]) {
				best = i
			}
		}
		return best
	}
	n := len(logits)
	if cap(sp.probs) < n {
		sp.probs, sp.idx = make([]float64, n), make([]int, n)
	}
	p, idx := sp.probs[:n], sp.idx[:n]
	mx := math.Inf(-1)
	for i, v := range logits {
		if i != banned {
			mx = max(mx, float64(v))
		}
	}
	var sum float64
	for i, v := range logits {
		p[i] = 0
		if i != banned {
			p[i] = math.Exp((float64(v) - mx) / sp.s.Temperature)
		}
		sum += p[i]
	}
	if sp.s.TopP >= 1 {
		// Every token is kept: draw from the distribution as it is, in token order.
		// No sort, which would cost more than the rest of a token's sampling.
		u := sp.rng.Float64() * sum
		for i, q := range p {
			u -= q
			if u < 0 {
				return i
			}
		}
		return sp.last(banned)
	}
	// Nucleus: the most likely first (ties by token), until they add up to TopP.
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(p[b], p[a]); c != 0 {
			return c
		}
		return a - b
	})
	keep, cum := n, 0.0
	for k, i := range idx {
		cum += p[i] / sum
		if cum >= sp.s.TopP {
			keep = k + 1
			break
		}
	}
	var kept float64
	for _, i := range idx[:keep] {
		kept += p[i]
	}
	u := sp.rng.Float64() * kept
	for _, i := range idx[:keep] {
		u -= p[i]
		if u < 0 {
			return i
		}
	}
	return idx[keep-1]
}

// last is the last token that can be drawn, where rounding leaves a draw past the end.
func (sp *sampler) last(banned int) int {
	for i := len(sp.probs) - 1; i >= 0; i-- {
		if i != banned && sp.probs[i] > 0 {
			return i
		}
	}
	return 0
}

// TokenLogprob is a token and its log probability under the model.
type TokenLogprob struct {
	Token   int
	Logprob float64
}

// logprobs returns the log probability of token under logits and, when top > 0, the
// top most likely tokens.
func logprobs(logits []float32, token, top int) (float64, []TokenLogprob) {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	lp := float64(logits[token]) - lse
	if top <= 0 {
		return lp, nil
	}
	best := make([]TokenLogprob, 0, top+1)
	for i, v := range logits {
		t := TokenLogprob{i, float64(v) - lse}
		k := sort.Search(len(best), func(j int) bool { return best[j].Logprob < t.Logprob })
		if k >= top {
			continue
		}
		best = append(best, TokenLogprob{})
		copy(best[k+1:], best[k:])
		best[k] = t
		if len(best) > top {
			best = best[:top]
		}
	}
	return lp, best
}
