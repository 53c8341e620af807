//go:build amd64 && !purego

package inference

import "github.com/klauspost/cpuid/v2"

// useSIMD is true where the AVX2 and FMA kernels of llm_simd_amd64.s run (cpuid
// reports them only where the OS saves the vector registers).
var useSIMD = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)

// useAVX512 is true where the AVX-512 matrix kernels run too.
var useAVX512 = useSIMD && cpuid.CPU.Supports(cpuid.AVX512F)

// The matrix kernels of llm_simd_amd64.s, in panels of 24 (AVX2) or 48 (AVX-512).
// Both also read panels of float16 weights: AVX2's where the CPU has F16C, AVX-512's
// always (AVX-512F has the conversion).
var (
	avx2Kernels   = &kernelSet{name: "avx2", width: 24, blocks: []int{4}, group: 4, halves: cpuid.CPU.Supports(cpuid.F16C)}
	avx512Kernels = &kernelSet{name: "avx512", width: 48, blocks: []int{8, 4}, group: 4, halves: true}
)

// block computes a block of rows (one of ks.blocks) of one panel. The calls are
// direct, not through function values, so that the callers' buffers stay on the stack.
func (ks *kernelSet) block(rows int, x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int) {
	switch {
	case ks.width == 24:
		gemm4x24(x, ldx, p, k, bias, y, ldy)
	case rows == 8:
		gemm8x48z(x, ldx, p, k, bias, y, ldy)
	default:
		gemm4x48z(x, ldx, p, k, bias, y, ldy)
	}
}

// row computes one row of one panel.
func (ks *kernelSet) row(x *float32, p *float32, k int, bias *float32, y *float32) {
	if ks.width == 24 {
		gemm1x24(x, p, k, bias, y)
		return
	}
	gemm1x48z(x, p, k, bias, y)
}

// rowGroup computes one row of ks.group panels in a row, ps floats apart.
func (ks *kernelSet) rowGroup(x *float32, p *float32, ps int, k int, bias *float32, y *float32) {
	if ks.width == 24 {
		gemm1x96(x, p, ps, k, bias, y)
		return
	}
	gemm1x192z(x, p, ps, k, bias, y)
}

// blockHalf, rowHalf and rowGroupHalf are block, row and rowGroup over panels of
// float16 weights (rowGroupHalf's panels ps halves apart).
func (ks *kernelSet) blockHalf(rows int, x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int) {
	switch {
	case ks.width == 24:
		gemm4x24h(x, ldx, p, k, bias, y, ldy)
	case rows == 8:
		gemm8x48zh(x, ldx, p, k, bias, y, ldy)
	default:
		gemm4x48zh(x, ldx, p, k, bias, y, ldy)
	}
}

func (ks *kernelSet) rowHalf(x *float32, p *uint16, k int, bias *float32, y *float32) {
	if ks.width == 24 {
		gemm1x24h(x, p, k, bias, y)
		return
	}
	gemm1x48zh(x, p, k, bias, y)
}

func (ks *kernelSet) rowGroupHalf(x *float32, p *uint16, ps int, k int, bias *float32, y *float32) {
	if ks.width == 24 {
		gemm1x96h(x, p, ps, k, bias, y)
		return
	}
	gemm1x192zh(x, p, ps, k, bias, y)
}

// simdKernels are the matrix kernels the engine uses: AVX-512's where the CPU has it,
// else AVX2's, or none (nil).
var simdKernels = func() *kernelSet {
	switch {
	case useAVX512:
		return avx512Kernels
	case useSIMD:
		return avx2Kernels
	}
	return nil
}()

// gemm4x24 computes 4 rows of one panel: y[r][j] = bias[j] + Σₖ x[r][k]·p[k][j] for
// r < 4 and j < 24, with x's rows ldx floats apart and y's ldy floats apart.
//
//go:noescape
func gemm4x24(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)

// gemm1x24 computes one row of one panel.
//
//go:noescape
func gemm1x24(x *float32, p *float32, k int, bias *float32, y *float32)

// gemm1x96 computes one row of four panels, ps floats apart; y and bias hold their 96
// outputs in a row.
//
//go:noescape
func gemm1x96(x *float32, p *float32, ps int, k int, bias *float32, y *float32)

// attnScores sets s[j] = scale · Σᵢ q[i]·k[j·hd+i] for j < n and i < hd, a multiple
// of 8, and returns their maximum.
//
//go:noescape
func attnScores(q *float32, k *float32, n int, hd int, scale float32, s *float32) (mx float32)

// attnMix sets y[i] = inv · Σⱼ a[j]·v[j·hd+i] for j < n and i < hd, a multiple of 8.
//
//go:noescape
func attnMix(a *float32, v *float32, n int, hd int, inv float32, y *float32)

// layerNormSIMD normalizes one row x of d floats (a multiple of 8) into y:
// (x - mean)/√(variance + 1e-5)·w + b.
//
//go:noescape
func layerNormSIMD(y *float32, x *float32, w *float32, b *float32, d int)

// expShift sets s[j] = exp(s[j] - m) for j < n, a multiple of 8, and returns their
// sum, with the constants of expTable.
//
//go:noescape
func expShift(s *float32, n int, m float32, c *[16][8]float32) (sum float32)

// geluSIMD applies GELU to x[:n], n a multiple of 8, with the constants of geluTable.
//
//go:noescape
func geluSIMD(x *float32, n int, c *[16][8]float32)

// gemm8x48z computes 8 rows of one panel of 48 with AVX-512, like gemm4x24.
//
//go:noescape
func gemm8x48z(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)

// gemm4x48z computes 4 rows of one panel of 48 with AVX-512.
//
//go:noescape
func gemm4x48z(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)

// gemm1x48z computes one row of one panel of 48 with AVX-512.
//
//go:noescape
func gemm1x48z(x *float32, p *float32, k int, bias *float32, y *float32)

// gemm1x192z computes one row of four panels of 48, ps floats apart, with AVX-512.
//
//go:noescape
func gemm1x192z(x *float32, p *float32, ps int, k int, bias *float32, y *float32)

// attnScores48z is attnScores for heads of 48 floats, with AVX-512.
//
//go:noescape
func attnScores48z(q *float32, k *float32, n int, scale float32, s *float32) (mx float32)

// attnMix48z is attnMix for heads of 48 floats, with AVX-512.
//
//go:noescape
func attnMix48z(a *float32, v *float32, n int, inv float32, y *float32)

// gemm4x24h is gemm4x24 over a panel of float16 weights (F16C).
//
//go:noescape
func gemm4x24h(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)

// gemm1x24h is gemm1x24 over a panel of float16 weights.
//
//go:noescape
func gemm1x24h(x *float32, p *uint16, k int, bias *float32, y *float32)

// gemm1x96h is gemm1x96 over panels of float16 weights, ps halves apart.
//
//go:noescape
func gemm1x96h(x *float32, p *uint16, ps int, k int, bias *float32, y *float32)

// gemm8x48zh, gemm4x48zh, gemm1x48zh and gemm1x192zh are the AVX-512 kernels over
// panels of float16 weights.
//
//go:noescape
func gemm8x48zh(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)

//go:noescape
func gemm4x48zh(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)

//go:noescape
func gemm1x48zh(x *float32, p *uint16, k int, bias *float32, y *float32)

//go:noescape
func gemm1x192zh(x *float32, p *uint16, ps int, k int, bias *float32, y *float32)

// attnScores48 is attnScores for heads of 48 floats, 8 keys at a time.
//
//go:noescape
func attnScores48(q *float32, k *float32, n int, scale float32, s *float32) (mx float32)

// attnMix48 is attnMix for heads of 48 floats, in one pass over the values.
//
//go:noescape
func attnMix48(a *float32, v *float32, n int, inv float32, y *float32)
