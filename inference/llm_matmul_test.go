package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// linearShapes are the model's products (in -> out) and odd ones that exercise the
// kernels' edges: a partial panel, fewer than four panels, an input of one.
var linearShapes = []struct{ in, out int }{
	{192, 576}, {192, 192}, {192, 768}, {768, 192}, {192, 257}, {5, 30}, {1, 100}, {7, 24},
}

func randFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// kernels returns the linear layers to test for w and b: the portable kernel and the
// SIMD kernel sets this machine has.
func kernels(w, b []float32, in, out int) map[string]linear {
	ks := map[string]linear{"portable": {in: in, out: out, w: w, b: b}}
	for _, s := range []struct {
		ok bool
		ks *kernelSet
	}{{useSIMD, avx2Kernels}, {useAVX512, avx512Kernels}} {
		if s.ok {
			l := linear{in: in, out: out, w: w, b: b}
			l.pack(s.ks)
			ks[s.ks.name] = l
		}
	}
	return ks
}

// TestLinear checks each kernel against a float64 product, within the rounding of
// float32 sums.
func TestLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range linearShapes {
		w, b := randFloats(r, s.out*s.in), randFloats(r, s.out)
		for name, l := range kernels(w, b, s.in, s.out) {
			for _, n := range []int{1, 2, 3, 4, 5, 9, 16} {
				t.Run(fmt.Sprintf("%s/%dx%d/n=%d", name, s.in, s.out, n), func(t *testing.T) {
					x := randFloats(r, n*s.in)
					y := make([]float32, n*s.out+1)
					y[n*s.out] = 42 // a guard: nothing is written beyond the rows
					l.apply(y, x, n)
					if y[n*s.out] != 42 {
						t.Fatalf("the guard after the output was overwritten: %g", y[n*s.out])
					}
					for i := range n {
						for o := range s.out {
							want, mag := float64(b[o]), math.Abs(float64(b[o]))
							for k := range s.in {
								p := float64(x[i*s.in+k]) * float64(w[o*s.in+k])
								want += p
								mag += math.Abs(p)
							}
							if got := float64(y[i*s.out+o]); math.Abs(got-want) > 1e-6*mag {
								t.Fatalf("row %d output %d = %g, want %g (sum of magnitudes %g)", i, o, got, want, mag)
							}
						}
					}
				})
			}
		}
	}
}

// TestLinearBatchInvariant checks that a row's outputs are bitwise the same alone and
// at any place of a batch of any size, the batching guarantee rests on it, and that
// the AVX2 and AVX-512 kernels give the same bits (the same sums in the same order).
func TestLinearBatchInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range linearShapes {
		w, b := randFloats(r, s.out*s.in), randFloats(r, s.out)
		const rows = 19
		x := randFloats(r, rows*s.in)
		simd := map[string][]float32{}
		for name, l := range kernels(w, b, s.in, s.out) {
			t.Run(fmt.Sprintf("%s/%dx%d", name, s.in, s.out), func(t *testing.T) {
				alone := make([]float32, rows*s.out)
				for i := range rows {
					l.apply(alone[i*s.out:], x[i*s.in:], 1)
				}
				if name != "portable" {
					simd[name] = alone
				}
				for _, n := range []int{2, 3, 4, 5, 8, 11, 12, 13, 16, 19} {
					for start := 0; start+n <= rows; start += 3 {
						y := make([]float32, n*s.out)
						l.apply(y, x[start*s.in:], n)
						if want := alone[start*s.out : (start+n)*s.out]; !slices.Equal(y, want) {
							i := firstDiff(y, want)
							t.Fatalf("batch of %d from row %d: output %d = %g, alone %g", n, start, i, y[i], want[i])
						}
					}
				}
			})
		}
		if a, b := simd["avx2"], simd["avx512"]; a != nil && b != nil && !slices.Equal(a, b) {
			i := firstDiff(a, b)
			t.Errorf("%dx%d: output %d is %g with AVX2, %g with AVX-512", s.in, s.out, i, a[i], b[i])
		}
	}
}

func firstDiff(a, b []float32) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// BenchmarkMatmul compares, for the model's products at batch 1, 4, 16 and 64, the
// portable kernel, gonum's BLAS (Sgemv for one row, Sgemm otherwise, the output
// starting from the bias) and the SIMD kernel. Compare the kernels within one run: the
// ratios say more than the times on a shared machine.
func BenchmarkMatmul(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	impl := blas32.Implementation()
	for _, s := range linearShapes[:5] {
		w, bias := randFloats(r, s.out*s.in), randFloats(r, s.out)
		for _, n := range []int{1, 4, 16, 64} {
			x := randFloats(r, n*s.in)
			y := make([]float32, n*s.out)
			name := fmt.Sprintf("%dx%d/batch=%d", s.in, s.out, n)
			for kernel, l := range kernels(w, bias, s.in, s.out) {
				b.Run(name+"/"+kernel, func(b *testing.B) {
					for b.Loop() {
						l.apply(y, x, n)
					}
				})
			}
			b.Run(name+"/gonum", func(b *testing.B) {
				for b.Loop() {
					for i := range n {
						copy(y[i*s.out:(i+1)*s.out], bias)
					}
					if n == 1 {
						impl.Sgemv(blas.NoTrans, s.out, s.in, 1, w, s.in, x, 1, 1, y, 1)
						continue
					}
					impl.Sgemm(blas.NoTrans, blas.Trans, n, s.out, s.in, 1, x, s.in, w, s.in, 1, y, s.out)
				}
			})
		}
	}
}
