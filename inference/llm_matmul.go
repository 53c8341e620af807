package inference

// panelWidth is the number of outputs the SIMD kernels compute together: three vectors
// of 8 float32.
const panelWidth = 24

// linear is a weight matrix w [out, in] and its bias b [out] (nil for none), laid out
// for the matrix kernel in use.
//
// The SIMD kernel (useSIMD) reads w packed in panels of panelWidth outputs,
// [ceil(out/panelWidth)][in][panelWidth], zero-padded, so that it streams each panel
// once per step for every row of the batch. It sums every output as one chain of fused
// multiply-adds in input order, starting from the bias, whatever the blocking of rows
// and panels: a row's numbers do not depend on the other rows of the batch, so a
// sequence gets the same numbers alone or batched.
type linear struct {
	in, out int
	w, b    []float32 // [out, in], [out] or nil: the portable kernel's layout
	panels  []float32 // w packed for the SIMD kernel, nil without it
	bias    []float32 // b zero-padded to whole panels, for the SIMD kernel
}

func newLinear(w, b []float32, in, out int) linear {
	l := linear{in: in, out: out, w: w, b: b}
	if useSIMD {
		l.pack()
	}
	return l
}

// pack lays w out in panels and pads the bias.
func (l *linear) pack() {
	np := (l.out + panelWidth - 1) / panelWidth
	l.panels = make([]float32, np*l.in*panelWidth)
	l.bias = make([]float32, np*panelWidth)
	copy(l.bias, l.b)
	for o := range l.out {
		p, j := o/panelWidth, o%panelWidth
		panel := l.panels[p*l.in*panelWidth:]
		for k, v := range l.w[o*l.in : (o+1)*l.in] {
			panel[k*panelWidth+j] = v
		}
	}
	l.w = nil // the SIMD kernel does not need it
}

// apply computes y[n, out] = x[n, in] · wᵀ + b.
func (l *linear) apply(y, x []float32, n int) {
	if l.panels == nil {
		matmul(y[:n*l.out], x[:n*l.in], l.w, l.b, n, l.in, l.out)
		return
	}
	l.applySIMD(y[:n*l.out], x[:n*l.in], n)
}

// applySIMD drives the SIMD kernels: blocks of 4 rows by one panel (the panel stays in
// the L1 cache while every block of rows reads it), and single rows by four panels
// (enough independent sums to hide the latency of the multiply-adds).
func (l *linear) applySIMD(y, x []float32, n int) {
	in, out := l.in, l.out
	np := len(l.bias) / panelWidth
	full := out / panelWidth // panels whose outputs all exist
	ps := in * panelWidth    // floats in a panel
	var tmp [4 * panelWidth]float32
	n4 := n &^ 3
	for p := range np {
		pp, bp, o := &l.panels[p*ps], &l.bias[p*panelWidth], p*panelWidth
		for r := 0; r < n4; r += 4 {
			if p < full {
				gemm4x24(&x[r*in], in, pp, in, bp, &y[r*out+o], out)
				continue
			}
			gemm4x24(&x[r*in], in, pp, in, bp, &tmp[0], panelWidth)
			for i := range 4 {
				copy(y[(r+i)*out+o:(r+i+1)*out], tmp[i*panelWidth:(i+1)*panelWidth])
			}
		}
	}
	for r := n4; r < n; r++ {
		xr, yr := &x[r*in], y[r*out:(r+1)*out]
		p := 0
		for ; p+4 <= full; p += 4 {
			gemm1x96(xr, &l.panels[p*ps], ps, in, &l.bias[p*panelWidth], &yr[p*panelWidth])
		}
		for ; p < np; p++ {
			if p < full {
				gemm1x24(xr, &l.panels[p*ps], in, &l.bias[p*panelWidth], &yr[p*panelWidth])
				continue
			}
			gemm1x24(xr, &l.panels[p*ps], in, &l.bias[p*panelWidth], &tmp[0])
			copy(yr[p*panelWidth:], tmp[:panelWidth])
		}
	}
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
