package inference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func skipWithoutSIMD(t *testing.T) {
	t.Helper()
	if !useSIMD {
		t.Skip("this machine or build has no SIMD kernel (amd64 with AVX2 and FMA, without -tags purego)")
	}
}

// TestGelu checks GELU against x·Φ(x) in float64 from -12 to 12, in rows whose widths
// leave no tail and a tail to the portable code. The error is absolute up to |x| = 1,
// relative to |x| beyond: for x < -5, 1 + erf cancels and float32 keeps only about
// 1e-7·|x| of the tiny result, as in PyTorch's float32 GELU.
func TestGelu(t *testing.T) {
	for _, w := range []int{24, 13, 5} {
		t.Run(fmt.Sprintf("width=%d", w), func(t *testing.T) {
			var x []float32
			for v := -12.0; v <= 12; v += 0.0007 {
				x = append(x, float32(v))
			}
			x = x[:len(x)/w*w]
			got := slices.Clone(x)
			gelu(got, w)
			worst, at := 0.0, 0
			for i, v := range x {
				want := 0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2))
				if e := math.Abs(float64(got[i])-want) / max(1, math.Abs(float64(v))); e > worst {
					worst, at = e, i
				}
			}
			t.Logf("worst error %.3g at %g", worst, x[at])
			if worst > 5e-7 {
				t.Errorf("gelu(%g) = %g: error %.3g (relative to |x| beyond 1) > 5e-7", x[at], got[at], worst)
			}
		})
	}
}

// TestSoftmax checks expScores against float64 for lengths around multiples of 8.
func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 70; n++ {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * 8)
		}
		got := slices.Clone(s)
		inv := expScores(got, maxScore(got))
		for i := range got {
			got[i] *= inv
		}
		mx, sum := math.Inf(-1), 0.0
		for _, v := range s {
			mx = math.Max(mx, float64(v))
		}
		for _, v := range s {
			sum += math.Exp(float64(v) - mx)
		}
		for i, v := range s {
			want := math.Exp(float64(v)-mx) / sum
			if math.Abs(float64(got[i])-want) > 1e-6*want+1e-12 {
				t.Fatalf("n=%d: softmax[%d] = %g, want %g", n, i, got[i], want)
			}
		}
	}
}

// attnKernel is one implementation of attention's two kernels.
type attnKernel struct {
	name   string
	scores func(q, k *float32, n, hd int, scale float32, s *float32) float32
	mix    func(a, v *float32, n, hd int, inv float32, y *float32)
}

// TestAttentionKernels checks attnScores and attnMix, the AVX2 ones for heads of 48,
// and the AVX-512 ones for heads of 48 where the CPU has it, against float64 loops,
// for head widths and key counts that take each path of the kernels.
func TestAttentionKernels(t *testing.T) {
	skipWithoutSIMD(t)
	r := rand.New(rand.NewPCG(9, 10))
	avx2 := attnKernel{"avx2", attnScores, attnMix}
	avx512 := attnKernel{"avx512",
		func(q, k *float32, n, _ int, scale float32, s *float32) float32 {
			return attnScores48z(q, k, n, scale, s)
		},
		func(a, v *float32, n, _ int, inv float32, y *float32) { attnMix48z(a, v, n, inv, y) }}
	avx2For48 := attnKernel{"avx2/48",
		func(q, k *float32, n, _ int, scale float32, s *float32) float32 {
			return attnScores48(q, k, n, scale, s)
		},
		func(a, v *float32, n, _ int, inv float32, y *float32) { attnMix48(a, v, n, inv, y) }}
	for _, hd := range []int{8, 16, 24, 40, 48, 64} {
		ks := []attnKernel{avx2}
		if hd == 48 {
			ks = append(ks, avx2For48)
		}
		if hd == 48 && useAVX512 {
			ks = append(ks, avx512)
		}
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 65} {
			for _, kern := range ks {
				t.Run(fmt.Sprintf("%s/hd=%d/n=%d", kern.name, hd, n), func(t *testing.T) { checkAttention(t, r, kern, hd, n) })
			}
		}
	}
}

// checkAttention runs kern over n random keys of width hd.
func checkAttention(t *testing.T, r *rand.Rand, kern attnKernel, hd, n int) {
	attnScores, attnMix := kern.scores, kern.mix
	q, kv, a := randFloats(r, hd), randFloats(r, n*hd+8), randFloats(r, n)
	s := make([]float32, n+1)
	mx := attnScores(&q[0], &kv[0], n, hd, 0.5, &s[0])
	if s[n] != 0 {
		t.Fatalf("attnScores wrote beyond its %d scores", n)
	}
	if want := maxScore(s[:n]); mx != want {
		t.Fatalf("attnScores returned the maximum %g, want %g", mx, want)
	}
	for j := range n {
		want := 0.0
		for i := range hd {
			want += float64(q[i]) * float64(kv[j*hd+i])
		}
		if want *= 0.5; math.Abs(float64(s[j])-want) > 1e-5 {
			t.Fatalf("score %d = %g, want %g", j, s[j], want)
		}
	}
	y := make([]float32, hd+1)
	attnMix(&a[0], &kv[0], n, hd, 0.25, &y[0])
	if y[hd] != 0 {
		t.Fatalf("attnMix wrote beyond its %d outputs", hd)
	}
	for i := range hd {
		want := 0.0
		for j := range n {
			want += float64(a[j]) * float64(kv[j*hd+i])
		}
		if want *= 0.25; math.Abs(float64(y[i])-want) > 1e-5 {
			t.Fatalf("output %d = %g, want %g", i, y[i], want)
		}
	}
}

// TestLayerNorm checks layerNorm, SIMD (a width of 8k) or not, against float64.
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, d := range []int{8, 192, 100} {
		x, w, b := randFloats(r, 3*d), randFloats(r, d), randFloats(r, d)
		for i := range x {
			x[i] = x[i]*3 + 5 // an offset, as activations have
		}
		y := make([]float32, 3*d)
		layerNorm(y, x, w, b, d)
		for row := range 3 {
			xr := x[row*d : (row+1)*d]
			mean, vr := 0.0, 0.0
			for _, v := range xr {
				mean += float64(v) / float64(d)
			}
			for _, v := range xr {
				vr += (float64(v) - mean) * (float64(v) - mean) / float64(d)
			}
			for i, v := range xr {
				want := (float64(v)-mean)/math.Sqrt(vr+1e-5)*float64(w[i]) + float64(b[i])
				if got := float64(y[row*d+i]); math.Abs(got-want) > 2e-6*(1+math.Abs(want)) {
					t.Fatalf("d=%d row %d: y[%d] = %g, want %g", d, row, i, got, want)
				}
			}
		}
	}
}

// TestForwardBatchInvariant: a sequence's logits are bitwise the same alone and in a
// batch that other sequences join (with prompts of several lengths) and leave.
func TestForwardBatchInvariant(t *testing.T) {
	m := testLLM(t)
	prompts := []string{"The ", "Q:\tWhy did the chicken", "A man walks into a bar. He", "x", "Hello"}
	const steps = 10
	step := func(c *KVCache, s string, k int) Step {
		if k == 0 {
			return Step{Cache: c, Tokens: m.Encode(s), Logits: 1}
		}
		return Step{Cache: c, Tokens: []int{'a' + k}, Logits: 1}
	}
	alone := make([][][]float32, len(prompts))
	for s, p := range prompts {
		var ws Workspace
		c := m.NewCache(64)
		for k := range steps + 1 {
			out, err := m.Forward(&ws, []Step{step(c, p, k)})
			if err != nil {
				t.Fatal(err)
			}
			alone[s] = append(alone[s], slices.Clone(out[0]))
		}
	}
	var ws Workspace
	caches := make([]*KVCache, len(prompts))
	for g := 0; g <= 2*len(prompts)+steps; g++ {
		var batch []Step
		var who, at []int
		for s, p := range prompts {
			if k := g - 2*s; k >= 0 && k <= steps { // sequence s joins at step 2s
				if k == 0 {
					caches[s] = m.NewCache(64)
				}
				batch = append(batch, step(caches[s], p, k))
				who, at = append(who, s), append(at, k)
			}
		}
		if len(batch) == 0 {
			continue
		}
		out, err := m.Forward(&ws, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range who {
			if want := alone[s][at[i]]; !slices.Equal(out[i], want) {
				j := firstDiff(out[i], want)
				t.Fatalf("step %d, sequence %d (its step %d) in a batch of %d: logit %d = %g, alone %g",
					g, s, at[i], len(batch), j, out[i][j], want[j])
			}
		}
	}
}

// TestKernels: the model names the kernels this machine and build run.
func TestKernels(t *testing.T) {
	want := "portable"
	switch {
	case useAVX512:
		want = "avx512"
	case useSIMD:
		want = "avx2"
	}
	if got := testLLM(t).Kernels(); got != want {
		t.Errorf("Kernels() = %q, want %q", got, want)
	}
}

// TestAttnMix48SameBits: the one-pass attnMix48 sums as attnMix does for heads of 48,
// so it gives the same bits.
func TestAttnMix48SameBits(t *testing.T) {
	skipWithoutSIMD(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 2, 3, 8, 9, 65} {
		a, v := randFloats(r, n), randFloats(r, n*48)
		one, two := make([]float32, 48), make([]float32, 48)
		attnMix48(&a[0], &v[0], n, 0.25, &one[0])
		attnMix(&a[0], &v[0], n, 48, 0.25, &two[0])
		if !slices.Equal(one, two) {
			i := firstDiff(one, two)
			t.Errorf("n=%d: output %d is %g in one pass, %g in two", n, i, one[i], two[i])
		}
	}
}
