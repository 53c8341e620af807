package inference

import (
	"math"

	"github.com/x448/float16"
)

// linear is a weight matrix w [out, in] and its bias b [out] (nil for none), laid out
// for the matrix kernel in use.
//
// The SIMD kernels (simdKernels) read w packed in panels of their width of outputs,
// [ceil(out/width)][in][width], zero-padded, so that each panel is streamed once per
// step for every row of the batch. They sum every output as one chain of fused
// multiply-adds in input order, starting from the bias, whatever the blocking of rows
// and panels: a row's numbers do not depend on the other rows of the batch, so a
// sequence gets the same numbers alone or batched. Where every weight is a float16
// value, as in the model's file, and the kernel set reads float16, the panels hold
// float16: half the bytes to read per step, and bitwise the same products, since
// widening a float16 to float32 is exact.
type linear struct {
	in, out int
	w, b    []float32 // [out, in], [out] or nil: the portable kernel's layout
	ks      *kernelSet
	panels  []float32 // w packed for ks, nil without it or with halves
	halves  []uint16  // w packed for ks as float16, where ks.halves and w allows it
	bias    []float32 // b zero-padded to whole panels, for ks
}

// kernelSet is a family of SIMD kernels (llm_simd_amd64.go): each computes, for a block
// of rows and a panel of width outputs, y = bias + x·panel, with ldx and ldy the
// strides of x's and y's rows.
type kernelSet struct {
	name   string
	width  int   // outputs of a panel
	blocks []int // rows of the block kernels, largest first; the smallest is 4
	group  int   // panels that the group kernel computes for one row
	halves bool  // the kernels also read panels of float16 (blockHalf, rowHalf, rowGroupHalf)
}

// Kernels names the matrix kernels the model runs: "avx512", "avx2" or "portable".
func (m *LLM) Kernels() string {
	if ks := m.logits.ks; ks != nil {
		return ks.name
	}
	return "portable"
}

func newLinear(w, b []float32, in, out int) linear {
	l := linear{in: in, out: out, w: w, b: b}
	if simdKernels != nil {
		l.pack(simdKernels)
		l.w = nil // the SIMD kernels do not need it
	}
	return l
}

// pack lays w out in panels for ks, of float16 where ks reads them and every weight
// is a float16 value, and pads the bias.
func (l *linear) pack(ks *kernelSet) {
	pw := ks.width
	np := (l.out + pw - 1) / pw
	l.ks = ks
	l.bias = make([]float32, np*pw)
	copy(l.bias, l.b)
	panels := make([]float32, np*l.in*pw)
	for o := range l.out {
		p, j := o/pw, o%pw
		panel := panels[p*l.in*pw:]
		for k, v := range l.w[o*l.in : (o+1)*l.in] {
			panel[k*pw+j] = v
		}
	}
	if ks.halves {
		l.halves = toHalves(panels)
	}
	if l.halves == nil {
		l.panels = panels
	}
}

// toHalves returns v as float16, or nil if a value of v is not a float16 exactly.
func toHalves(v []float32) []uint16 {
	h := make([]uint16, len(v))
	for i, f := range v {
		x := float16.Fromfloat32(f)
		if math.Float32bits(x.Float32()) != math.Float32bits(f) {
			return nil
		}
		h[i] = x.Bits()
	}
	return h
}

// apply computes y[n, out] = x[n, in] · wᵀ + b.
func (l *linear) apply(y, x []float32, n int) {
	if l.ks == nil {
		matmul(y[:n*l.out], x[:n*l.in], l.w, l.b, n, l.in, l.out)
		return
	}
	l.applySIMD(y[:n*l.out], x[:n*l.in], n)
}

// applySIMD goes through the panels in groups: for each panel, the block kernels take
// the rows in blocks of 8 or 4 while the panel stays in the L1 cache; then each of the
// last rows (fewer than 4) takes the group's panels at once, enough independent sums to
// hide the latency of the multiply-adds. So the weights are read from memory once per
// step, whatever the batch.
func (l *linear) applySIMD(y, x []float32, n int) {
	ks := l.ks
	np := len(l.bias) / ks.width
	nb := n &^ 3
	for g := 0; g < np; g += ks.group {
		end := min(g+ks.group, np)
		for p := g; nb > 0 && p < end; p++ {
			l.blocks(y, x, p, nb)
		}
		for r := nb; r < n; r++ {
			l.row(y, x, r, g, end)
		}
	}
}

// blocks computes panel p of rows 0 to nb (a multiple of 4).
func (l *linear) blocks(y, x []float32, p, nb int) {
	in, out, w := l.in, l.out, l.ks.width
	if (p+1)*w > out {
		l.partialBlocks(y, x, p, nb)
		return
	}
	r := 0
	for _, rows := range l.ks.blocks {
		for ; r+rows <= nb; r += rows {
			l.blockKernel(rows, &x[r*in], p, &y[r*out+p*w], out)
		}
	}
}

// partialBlocks is blocks for the last panel when it is only partly the output's:
// each block goes through a buffer. The buffer lives here, not in blocks, because Go
// zeroes it at every call, and blocks runs for every panel of every step.
func (l *linear) partialBlocks(y, x []float32, p, nb int) {
	in, out, w := l.in, l.out, l.ks.width
	o := p * w
	var tmp [8 * 48]float32 // at most 8 rows of 48
	r := 0
	for _, rows := range l.ks.blocks {
		for ; r+rows <= nb; r += rows {
			l.blockKernel(rows, &x[r*in], p, &tmp[0], w)
			for i := range rows {
				copy(y[(r+i)*out+o:(r+i+1)*out], tmp[i*w:(i+1)*w])
			}
		}
	}
}

// row computes panels g to end of row r.
func (l *linear) row(y, x []float32, r, g, end int) {
	in, out, w := l.in, l.out, l.ks.width
	xr, yr := &x[r*in], y[r*out:(r+1)*out]
	if end-g == l.ks.group && end*w <= out {
		l.rowGroupKernel(xr, g, &yr[g*w])
		return
	}
	for p := g; p < end; p++ {
		if (p+1)*w <= out {
			l.rowKernel(xr, p, &yr[p*w])
			continue
		}
		l.partialRow(xr, yr, p)
	}
}

// partialRow is row for the last panel when it is only partly the output's.
func (l *linear) partialRow(xr *float32, yr []float32, p int) {
	var tmp [48]float32
	l.rowKernel(xr, p, &tmp[0])
	copy(yr[p*l.ks.width:], tmp[:l.ks.width])
}

// blockKernel runs the block kernel for rows (one of ks.blocks) of panel p, on
// float16 or float32 panels; y's rows are ldy floats apart.
func (l *linear) blockKernel(rows int, x *float32, p int, y *float32, ldy int) {
	in, w := l.in, l.ks.width
	if l.halves != nil {
		l.ks.blockHalf(rows, x, in, &l.halves[p*in*w], in, &l.bias[p*w], y, ldy)
		return
	}
	l.ks.block(rows, x, in, &l.panels[p*in*w], in, &l.bias[p*w], y, ldy)
}

// rowKernel runs the row kernel for panel p.
func (l *linear) rowKernel(x *float32, p int, y *float32) {
	in, w := l.in, l.ks.width
	if l.halves != nil {
		l.ks.rowHalf(x, &l.halves[p*in*w], in, &l.bias[p*w], y)
		return
	}
	l.ks.row(x, &l.panels[p*in*w], in, &l.bias[p*w], y)
}

// rowGroupKernel runs the group kernel for ks.group panels from g.
func (l *linear) rowGroupKernel(x *float32, g int, y *float32) {
	in, w := l.in, l.ks.width
	if l.halves != nil {
		l.ks.rowGroupHalf(x, &l.halves[g*in*w], in*w, in, &l.bias[g*w], y)
		return
	}
	l.ks.rowGroup(x, &l.panels[g*in*w], in*w, in, &l.bias[g*w], y)
}

// matmul is the portable kernel: y[n, out] = x[n, in] · w[out, in]ᵀ + b (b may be
// nil). Each output is one accumulator summed in index order, so a row's result does
// not depend on the other rows of the batch. It computes 4 outputs of 2 rows at once
// to reuse loads.
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
