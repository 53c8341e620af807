package inference

import (
	"fmt"
	"math"
)

// Step is one sequence's share of a batched forward pass: the tokens to append to its
// cache (the prompt when it joins, then one token per step).
type Step struct {
	// Cache is the sequence's KV cache; the tokens go at positions Cache.Len() onwards.
	Cache *KVCache
	// Tokens are the tokens to append.
	Tokens []int
	// Logits is how many of the last tokens want logits: 1 to generate, len(Tokens)
	// to score every token (echo with logprobs), 0 for none.
	Logits int
}

// Workspace holds the buffers of forward passes; one per goroutine, reused.
type Workspace struct {
	x, h, qkv, y, f, t []float32
	scores             []float32
	rows               []rowRef
	logits             []float32
}

type rowRef struct {
	cache *KVCache
	pos   int
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, n+n/4)
	}
	return b[:n]
}

// Forward runs the model over every step's tokens at once: the rows of all sequences
// are stacked, so each weight matrix is multiplied once per step for the whole batch.
// It appends the tokens' keys and values to the caches and returns, per step, its
// Logits rows of Vocab logits each, flattened; they are valid until the next call.
func (m *LLM) Forward(ws *Workspace, steps []Step) ([][]float32, error) {
	c := m.Config
	d := c.Width
	ws.rows = ws.rows[:0]
	for i, s := range steps {
		if s.Cache.n+len(s.Tokens) > s.Cache.cap {
			return nil, fmt.Errorf("step %d: %d tokens do not fit a cache of %d positions holding %d", i, len(s.Tokens), s.Cache.cap, s.Cache.n)
		}
		if s.Logits < 0 || s.Logits > len(s.Tokens) {
			return nil, fmt.Errorf("step %d: %d logits of %d tokens", i, s.Logits, len(s.Tokens))
		}
		for j, t := range s.Tokens {
			if t < 0 || t >= c.Vocab {
				return nil, fmt.Errorf("step %d: token %d out of the vocabulary", i, t)
			}
			ws.rows = append(ws.rows, rowRef{s.Cache, s.Cache.n + j})
		}
	}
	n := len(ws.rows)
	ws.x = grow(ws.x, n*d)
	r := 0
	for _, s := range steps {
		for j, t := range s.Tokens {
			p := s.Cache.n + j
			x := ws.x[r*d : (r+1)*d]
			te, pe := m.tok[t*d:(t+1)*d], m.pos[p*d:(p+1)*d]
			for i := range x {
				x[i] = te[i] + pe[i]
			}
			r++
		}
	}
	for li := range m.layers {
		m.layer(ws, li, n)
	}
	for _, s := range steps {
		s.Cache.n += len(s.Tokens)
	}
	return m.outputs(ws, steps), nil
}

func (m *LLM) layer(ws *Workspace, li, n int) {
	d := m.Config.Width
	l := &m.layers[li]
	ws.h = grow(ws.h, n*d)
	layerNorm(ws.h, ws.x, l.ln1W, l.ln1B, d)
	ws.qkv = grow(ws.qkv, n*3*d)
	l.qkv.apply(ws.qkv, ws.h, n)
	hd := m.headDim
	for r, ref := range ws.rows {
		row := ws.qkv[r*3*d:]
		for h := range m.Config.Heads {
			at := (h*ref.cache.cap + ref.pos) * hd
			copy(ref.cache.k[li][at:at+hd], row[d+h*hd:d+(h+1)*hd])
			copy(ref.cache.v[li][at:at+hd], row[2*d+h*hd:2*d+(h+1)*hd])
		}
	}
	ws.y = grow(ws.y, n*d)
	for r, ref := range ws.rows {
		m.attend(ws, ws.y[r*d:(r+1)*d], ws.qkv[r*3*d:r*3*d+d], ref, li)
	}
	ws.t = grow(ws.t, n*d)
	l.o.apply(ws.t, ws.y, n)
	addTo(ws.x, ws.t)
	layerNorm(ws.h, ws.x, l.ln2W, l.ln2B, d)
	ws.f = grow(ws.f, n*4*d)
	l.fc.apply(ws.f, ws.h, n)
	gelu(ws.f, 4*d)
	l.proj.apply(ws.t, ws.f, n)
	addTo(ws.x, ws.t)
}

// attend computes causal attention of one row (query q at ref.pos) over its sequence's
// cached positions 0..ref.pos, every head, into y. Its sums run in an order fixed by
// the row alone, like the matrix kernels'.
func (m *LLM) attend(ws *Workspace, y, q []float32, ref rowRef, li int) {
	hd := m.headDim
	keys, vals, run := ref.cache.k[li], ref.cache.v[li], ref.cache.cap*hd
	n := ref.pos + 1
	ws.scores = grow(ws.scores, n)
	sc := ws.scores
	simd := useSIMD && hd%8 == 0
	h48 := useSIMD && hd == 48 // this model's heads
	z := useAVX512 && hd == 48
	for h := range m.Config.Heads {
		qh, yh := q[h*hd:(h+1)*hd], y[h*hd:(h+1)*hd]
		k, v := keys[h*run:h*run+n*hd], vals[h*run:h*run+n*hd]
		var mx float32
		switch {
		case z:
			mx = attnScores48z(&qh[0], &k[0], n, m.scale, &sc[0])
		case h48:
			mx = attnScores48(&qh[0], &k[0], n, m.scale, &sc[0])
		case simd:
			mx = attnScores(&qh[0], &k[0], n, hd, m.scale, &sc[0])
		default:
			for j := range sc {
				sc[j] = dot(qh, k[j*hd:(j+1)*hd]) * m.scale
			}
			mx = maxScore(sc)
		}
		inv := expScores(sc, mx)
		switch {
		case z:
			attnMix48z(&sc[0], &v[0], n, inv, &yh[0])
			continue
		case h48:
			attnMix48(&sc[0], &v[0], n, inv, &yh[0])
			continue
		case simd:
			attnMix(&sc[0], &v[0], n, hd, inv, &yh[0])
			continue
		}
		clear(yh)
		for j, a := range sc {
			a *= inv
			vj := v[j*hd : (j+1)*hd]
			for i := range yh {
				yh[i] += a * vj[i]
			}
		}
	}
}

// outputs computes the logits of the rows each step asked for.
func (m *LLM) outputs(ws *Workspace, steps []Step) [][]float32 {
	c := m.Config
	d, v := c.Width, c.Vocab
	total := 0
	for _, s := range steps {
		total += s.Logits
	}
	ws.h = grow(ws.h, total*d)
	r, o := 0, 0
	for _, s := range steps {
		first := r + len(s.Tokens) - s.Logits
		for j := range s.Logits {
			layerNorm(ws.h[(o+j)*d:(o+j+1)*d], ws.x[(first+j)*d:(first+j+1)*d], m.lnfW, m.lnfB, d)
		}
		r += len(s.Tokens)
		o += s.Logits
	}
	ws.logits = grow(ws.logits, total*v)
	m.logits.apply(ws.logits, ws.h, total)
	out := make([][]float32, len(steps))
	o = 0
	for i, s := range steps {
		out[i] = ws.logits[o*v : (o+s.Logits)*v]
		o += s.Logits
	}
	return out
}

// layerNorm normalizes each row of x (width d) into y: with the SIMD kernel (float32
// statistics in 8 lanes) when d is a multiple of 8, else with float64 statistics.
func layerNorm(y, x, w, b []float32, d int) {
	simd := useSIMD && d%8 == 0
	for r := 0; r+d <= len(x) && r+d <= len(y); r += d {
		if simd {
			layerNormSIMD(&y[r], &x[r], &w[0], &b[0], d)
			continue
		}
		xr, yr := x[r:r+d], y[r:r+d]
		var mean float64
		for _, v := range xr {
			mean += float64(v)
		}
		mean /= float64(d)
		var vr float64
		for _, v := range xr {
			e := float64(v) - mean
			vr += e * e
		}
		inv := 1 / math.Sqrt(vr/float64(d)+1e-5)
		for i, v := range xr {
			yr[i] = float32((float64(v)-mean)*inv)*w[i] + b[i]
		}
	}
}

func addTo(x, t []float32) {
	t = t[:len(x)]
	for i := range x {
		x[i] += t[i]
	}
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
