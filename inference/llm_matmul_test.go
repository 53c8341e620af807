package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/x448/float16"
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

// roundHalves returns v rounded to float16 values, as the model's file holds them.
func roundHalves(v []float32) []float32 {
	r := make([]float32, len(v))
	for i, f := range v {
		r[i] = float16.Fromfloat32(f).Float32()
	}
	return r
}

// kernels returns the linear layers to test for w and b: the portable kernel and the
// SIMD kernel sets this machine has. Where w is all float16 values and a set reads
// float16 panels, both its panels are there: "avx2" (float16) and "avx2/f32", and
// likewise for "avx512".
func kernels(w, b []float32, in, out int) map[string]linear {
	ks := map[string]linear{"portable": {in: in, out: out, w: w, b: b}}
	for _, set := range simdSets() {
		l := linear{in: in, out: out, w: w, b: b}
		l.pack(set)
		ks[set.name] = l
		if l.halves != nil {
			f32 := *set // the set without its float16 kernels
			f32.halves = false
			l := linear{in: in, out: out, w: w, b: b}
			l.pack(&f32)
			ks[set.name+"/f32"] = l
		}
	}
	return ks
}

// simdSets are the SIMD kernel sets this machine runs.
func simdSets() []*kernelSet {
	switch {
	case useAVX512:
		return []*kernelSet{avx2Kernels, avx512Kernels}
	case useSIMD:
		return []*kernelSet{avx2Kernels}
	}
	return nil
}

// weightSet is the weights of a test: random float32 ("f32"), or the same rounded to
// float16 ("f16"), which the SIMD kernels read as float16 panels.
type weightSet struct {
	name string
	w    []float32
}

func weightSets(r *rand.Rand, in, out int) []weightSet {
	w := randFloats(r, out*in)
	return []weightSet{{"f32", w}, {"f16", roundHalves(w)}}
}

// TestLinear checks each kernel against a float64 product, within the rounding of
// float32 sums.
func TestLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range linearShapes {
		b := randFloats(r, s.out)
		for _, set := range weightSets(r, s.in, s.out) {
			w := set.w
			for name, l := range kernels(w, b, s.in, s.out) {
				for _, n := range []int{1, 2, 3, 4, 5, 9, 16} {
					t.Run(fmt.Sprintf("%s/%s/%dx%d/n=%d", set.name, name, s.in, s.out, n), func(t *testing.T) {
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
}

// TestLinearBatchInvariant checks that a row's outputs are bitwise the same alone and
// at any place of a batch of any size, the batching guarantee rests on it, and that
// every SIMD kernel gives the same bits (the same sums in the same order): AVX2 and
// AVX-512, each over float16 and over float32 panels of the same float16 weights.
func TestLinearBatchInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range linearShapes {
		b := randFloats(r, s.out)
		const rows = 19
		x := randFloats(r, rows*s.in)
		for _, set := range weightSets(r, s.in, s.out) {
			simd := map[string][]float32{}
			for name, l := range kernels(set.w, b, s.in, s.out) {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", set.name, name, s.in, s.out), func(t *testing.T) {
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
			for name := range simd {
				if a, b := simd["avx2"], simd[name]; !slices.Equal(a, b) {
					i := firstDiff(a, b)
					t.Errorf("%s %dx%d: output %d is %g with avx2, %g with %s", set.name, s.in, s.out, i, a[i], b[i], name)
				}
			}
		}
	}
}

// TestLinearHalves: a kernel set that reads float16 panels packs them exactly when
// every weight is a float16 value, as the model's are; one weight that is not keeps
// float32 panels.
func TestLinearHalves(t *testing.T) {
	var sets []*kernelSet
	for _, set := range simdSets() {
		if set.halves {
			sets = append(sets, set)
		}
	}
	if len(sets) == 0 {
		t.Skip("this machine has no SIMD kernels over float16 panels (AVX2 with F16C, or AVX-512)")
	}
	w := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 65504, 0x1p-24, 1 + 0x1p-10, float32(math.Inf(1))}
	for _, set := range sets {
		for _, c := range []struct {
			w      []float32
			halves bool
		}{{w, true}, {append(slices.Clone(w), 1+0x1p-11), false}, {[]float32{0.1}, false}} {
			l := linear{in: len(c.w), out: 1, w: c.w}
			l.pack(set)
			if got := l.halves != nil; got != c.halves || (l.panels != nil) == c.halves {
				t.Errorf("%s, weights %v: float16 panels %v (float32 %v), want float16 %v", set.name, c.w, got, l.panels != nil, c.halves)
			}
			if c.halves {
				for k, f := range c.w { // the panel of one output is the weights in order
					if back := float16.Frombits(l.halves[k*set.width]).Float32(); math.Float32bits(back) != math.Float32bits(f) {
						t.Errorf("%s, weight %d: %g in the panel, want %g", set.name, k, back, f)
					}
				}
			}
		}
	}
	// The model's weights are float16 values: the engine reads them as float16 panels.
	if m := testLLM(t); m.logits.halves == nil || m.logits.panels != nil {
		t.Errorf("the model's logits product (%s kernels) reads float32 panels", m.Kernels())
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
// starting from the bias) and the SIMD kernels, each over float16 and over float32
// panels. Compare the kernels within one run: the ratios say more than the times on a
// shared machine.
func BenchmarkMatmul(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	impl := blas32.Implementation()
	for _, s := range linearShapes[:5] {
		// float16 values, as the model's weights: "avx2" reads float16 panels, "avx2/f32" float32,
		// and likewise "avx512"
		w, bias := roundHalves(randFloats(r, s.out*s.in)), randFloats(r, s.out)
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
