//go:build amd64 && !purego

package inference

import "golang.org/x/sys/cpu"

// useSIMD is true where the AVX2 and FMA kernels of llm_matmul_amd64.s run.
var useSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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

// attnScores sets s[j] = scale · Σᵢ q[i]·k[j·stride+i] for j < n and i < hd, a
// multiple of 8.
//
//go:noescape
func attnScores(q *float32, k *float32, stride int, n int, hd int, scale float32, s *float32)

// attnMix sets y[i] = Σⱼ a[j]·v[j·stride+i] for j < n and i < hd, a multiple of 8.
//
//go:noescape
func attnMix(a *float32, v *float32, stride int, n int, hd int, y *float32)

// expShift sets s[j] = exp(s[j] - m) for j < n, a multiple of 8, and returns their
// sum, with the constants of expTable.
//
//go:noescape
func expShift(s *float32, n int, m float32, c *[16][8]float32) (sum float32)

// geluSIMD applies GELU to x[:n], n a multiple of 8, with the constants of geluTable.
//
//go:noescape
func geluSIMD(x *float32, n int, c *[16][8]float32)
