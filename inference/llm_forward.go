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
	matmul(ws.qkv, ws.h, l.qkv, l.qkvB, n, d, 3*d)
	for r, ref := range ws.rows {
		row := ws.qkv[r*3*d:]
		copy(ref.cache.k[li][ref.pos*d:(ref.pos+1)*d], row[d:2*d])
		copy(ref.cache.v[li][ref.pos*d:(ref.pos+1)*d], row[2*d:3*d])
	}
	ws.y = grow(ws.y, n*d)
	for r, ref := range ws.rows {
		m.attend(ws, ws.y[r*d:(r+1)*d], ws.qkv[r*3*d:r*3*d+d], ref, li)
	}
	ws.t = grow(ws.t, n*d)
	matmul(ws.t, ws.y, l.o, l.oB, n, d, d)
	addTo(ws.x, ws.t)
	layerNorm(ws.h, ws.x, l.ln2W, l.ln2B, d)
	ws.f = grow(ws.f, n*4*d)
	matmul(ws.f, ws.h, l.fc, l.fcB, n, d, 4*d)
	gelu(ws.f)
	matmul(ws.t, ws.f, l.proj, l.projB, n, 4*d, d)
	addTo(ws.x, ws.t)
}

// attend computes causal attention of one row (query q at ref.pos) over its sequence's
// cached positions 0..ref.pos, every head, into y.
func (m *LLM) attend(ws *Workspace, y, q []float32, ref rowRef, li int) {
	d, hd := m.Config.Width, m.headDim
	keys, vals := ref.cache.k[li], ref.cache.v[li]
	ws.scores = grow(ws.scores, ref.pos+1)
	sc := ws.scores
	for h := range m.Config.Heads {
		qh := q[h*hd : (h+1)*hd]
		mx := float32(math.Inf(-1))
		for j := range sc {
			k := keys[j*d+h*hd : j*d+(h+1)*hd]
			sc[j] = dot(qh, k) * m.scale
			mx = max(mx, sc[j])
		}
		var sum float32
		for j := range sc {
			e := float32(math.Exp(float64(sc[j] - mx)))
			sc[j] = e
			sum += e
		}
		yh := y[h*hd : (h+1)*hd]
		clear(yh)
		inv := 1 / sum
		for j, a := range sc {
			v := vals[j*d+h*hd : j*d+(h+1)*hd]
			a *= inv
			for i := range yh {
				yh[i] += a * v[i]
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
	matmul(ws.logits, ws.h, m.tok, nil, total, d, v)
	out := make([][]float32, len(steps))
	o = 0
	for i, s := range steps {
		out[i] = ws.logits[o*v : (o+s.Logits)*v]
		o += s.Logits
	}
	return out
}

// layerNorm normalizes each row of x (width d) into y, with float64 statistics.
func layerNorm(y, x, w, b []float32, d int) {
	for r := 0; r+d <= len(x) && r+d <= len(y); r += d {
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

func gelu(x []float32) {
	for i, v := range x {
		x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
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

// matmul computes y[n, out] = x[n, in] · w[out, in]ᵀ + b (b may be nil). Each output
// is one accumulator summed in index order, so a row's result does not depend on the
// other rows of the batch: a sequence gets the same numbers alone or batched. The
// kernel computes 4 outputs of 2 rows at once to reuse loads.
func matmul(y, x, w, b []float32, n, in, out int) {
	o := 0
	for ; o+4 <= out; o += 4 {
		w0, w1, w2, w3 := w[o*in:(o+1)*in], w[(o+1)*in:(o+2)*in], w[(o+2)*in:(o+3)*in], w[(o+3)*in:(o+4)*in]
		var b0, b1, b2, b3 float32
		if b != nil {
			b0, b1, b2, b3 = b[o], b[o+1], b[o+2], b[o+3]
		}
		r := 0
		for ; r+2 <= n; r += 2 {
			x0, x1 := x[r*in:(r+1)*in], x[(r+1)*in:(r+2)*in]
			s00, s01, s02, s03, s10, s11, s12, s13 := kernel4x2(x0, x1, w0, w1, w2, w3)
			y[r*out+o], y[r*out+o+1], y[r*out+o+2], y[r*out+o+3] = s00+b0, s01+b1, s02+b2, s03+b3
			y[(r+1)*out+o], y[(r+1)*out+o+1], y[(r+1)*out+o+2], y[(r+1)*out+o+3] = s10+b0, s11+b1, s12+b2, s13+b3
		}
		if r < n {
			x0 := x[r*in : (r+1)*in]
			s0, s1, s2, s3 := kernel4x1(x0, w0, w1, w2, w3)
			y[r*out+o], y[r*out+o+1], y[r*out+o+2], y[r*out+o+3] = s0+b0, s1+b1, s2+b2, s3+b3
		}
	}
	for ; o < out; o++ {
		wo := w[o*in : (o+1)*in]
		var bo float32
		if b != nil {
			bo = b[o]
		}
		for r := range n {
			y[r*out+o] = dot(x[r*in:(r+1)*in], wo) + bo
		}
	}
}

func kernel4x2(x0, x1, w0, w1, w2, w3 []float32) (s00, s01, s02, s03, s10, s11, s12, s13 float32) {
	x1 = x1[:len(x0)]
	w0, w1, w2, w3 = w0[:len(x0)], w1[:len(x0)], w2[:len(x0)], w3[:len(x0)]
	for i, a := range x0 {
		c := x1[i]
		v0, v1, v2, v3 := w0[i], w1[i], w2[i], w3[i]
		s00 += a * v0
		s01 += a * v1
		s02 += a * v2
		s03 += a * v3
		s10 += c * v0
		s11 += c * v1
		s12 += c * v2
		s13 += c * v3
	}
	return
}

func kernel4x1(x0, w0, w1, w2, w3 []float32) (s0, s1, s2, s3 float32) {
	w0, w1, w2, w3 = w0[:len(x0)], w1[:len(x0)], w2[:len(x0)], w3[:len(x0)]
	for i, a := range x0 {
		s0 += a * w0[i]
		s1 += a * w1[i]
		s2 += a * w2[i]
		s3 += a * w3[i]
	}
	return
}
