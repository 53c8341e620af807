//go:build !amd64 || purego

package inference

// useSIMD is false: this build has no SIMD kernel, every product runs matmul.
const useSIMD, useAVX512 = false, false

// simdKernels is nil: no SIMD matrix kernel.
var simdKernels, avx2Kernels, avx512Kernels *kernelSet

func attnScores(q *float32, k *float32, n int, hd int, scale float32, s *float32) float32 {
	panic("no SIMD kernel")
}

func attnMix(a *float32, v *float32, n int, hd int, inv float32, y *float32) {
	panic("no SIMD kernel")
}

func attnScores48(q *float32, k *float32, n int, scale float32, s *float32) float32 {
	panic("no SIMD kernel")
}

func attnMix48(a *float32, v *float32, n int, inv float32, y *float32) { panic("no SIMD kernel") }

func attnScores48z(q *float32, k *float32, n int, scale float32, s *float32) float32 {
	panic("no SIMD kernel")
}

func attnMix48z(a *float32, v *float32, n int, inv float32, y *float32) { panic("no SIMD kernel") }

func layerNormSIMD(y *float32, x *float32, w *float32, b *float32, d int) { panic("no SIMD kernel") }

func expShift(s *float32, n int, m float32, c *[16][8]float32) float32 { panic("no SIMD kernel") }

func geluSIMD(x *float32, n int, c *[16][8]float32) { panic("no SIMD kernel") }

func (ks *kernelSet) block(rows int, x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int) {
	panic("no SIMD kernel")
}

func (ks *kernelSet) row(x *float32, p *float32, k int, bias *float32, y *float32) {
	panic("no SIMD kernel")
}

func (ks *kernelSet) rowGroup(x *float32, p *float32, ps int, k int, bias *float32, y *float32) {
	panic("no SIMD kernel")
}

func (ks *kernelSet) blockHalf(rows int, x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int) {
	panic("no SIMD kernel")
}

func (ks *kernelSet) rowHalf(x *float32, p *uint16, k int, bias *float32, y *float32) {
	panic("no SIMD kernel")
}

func (ks *kernelSet) rowGroupHalf(x *float32, p *uint16, ps int, k int, bias *float32, y *float32) {
	panic("no SIMD kernel")
}
