package inference

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

type llmVectors struct {
	Tolerance float64 `json:"tolerance"`
	Cases     []struct {
		Prompt string      `json:"prompt"`
		Tokens []int       `json:"tokens"`
		Logits [][]float64 `json:"logits"`
		Greedy []int       `json:"greedy"`
	} `json:"cases"`
}

func testLLM(t testing.TB) *LLM {
	t.Helper()
	m, err := LoadLLM(DefaultLLM)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readLLMVectors(t *testing.T) llmVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/llm-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v llmVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 || v.Tolerance == 0 {
		t.Fatal("no test vectors")
	}
	return v
}

// TestLLMParity checks the Go engine against PyTorch's logits at every position of
// every prompt, fed one token at a time through the KV cache and all at once.
func TestLLMParity(t *testing.T) {
	m := testLLM(t)
	v := readLLMVectors(t)
	for _, c := range v.Cases {
		t.Run(c.Prompt, func(t *testing.T) {
			if got := m.Encode(c.Prompt); !equalInts(got, c.Tokens) {
				t.Fatalf("Encode(%q) = %v, want %v", c.Prompt, got, c.Tokens)
			}
			var ws Workspace
			// All at once: logits of every position.
			cache := m.NewCache(len(c.Tokens))
			out, err := m.Forward(&ws, []Step{{Cache: cache, Tokens: c.Tokens, Logits: len(c.Tokens)}})
			if err != nil {
				t.Fatal(err)
			}
			for p := range c.Tokens {
				compareLogits(t, "prefill", p, out[0][p*m.Config.Vocab:(p+1)*m.Config.Vocab], c.Logits[p], v.Tolerance)
			}
			// One token at a time, through the cache.
			cache = m.NewCache(len(c.Tokens))
			for p, tok := range c.Tokens {
				out, err := m.Forward(&ws, []Step{{Cache: cache, Tokens: []int{tok}, Logits: 1}})
				if err != nil {
					t.Fatal(err)
				}
				compareLogits(t, "cached", p, out[0], c.Logits[p], v.Tolerance)
			}
		})
	}
}

func compareLogits(t *testing.T, how string, p int, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s position %d: %d logits, want %d", how, p, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > worst {
			worst, at = d, i
		}
	}
	if worst > tol {
		t.Errorf("%s position %d: logit %d = %g, PyTorch %g (difference %g > %g)", how, p, at, got[at], want[at], worst, tol)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLLMGreedy checks greedy decoding through the engine against PyTorch's.
func TestLLMGreedy(t *testing.T) {
	m := testLLM(t)
	v := readLLMVectors(t)
	e := NewEngine(m, EngineConfig{}, nil)
	for _, c := range v.Cases {
		got := generate(t, e, GenRequest{Prompt: c.Tokens, MaxTokens: len(c.Greedy), IgnoreEOS: !containsInt(c.Greedy, m.Config.EOS)})
		want := c.Greedy
		if i := indexInt(want, m.Config.EOS); i >= 0 {
			want = want[:i]
		}
		if !equalInts(got, want) {
			t.Errorf("%q: greedy %v, PyTorch %v", c.Prompt, got, want)
		}
	}
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// stepCounter is an EngineObserver that counts steps.
type stepCounter struct {
	nopObserver
	steps atomic.Int64
}

func (c *stepCounter) Step(int, int, time.Duration) { c.steps.Add(1) }

// TestEngineYields: on one CPU, a stream's reader gets each token before the engine
// runs the next step (tokens are not released in bursts at each preemption).
func TestEngineYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	obs := &stepCounter{}
	e := NewEngine(testLLM(t), EngineConfig{}, obs)
	seq, err := e.Submit(GenRequest{Prompt: []int{'T'}, MaxTokens: 60, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	worst := 0
	for ev := range seq.Events {
		// Token k comes out of step k (the first step reads the prompt).
		if lag := int(obs.steps.Load()) - ev.Tokens; ev.Token >= 0 && lag > worst {
			worst = lag
		}
	}
	if worst > 1 {
		t.Errorf("a token reached its reader %d steps after its own", worst)
	}
}

func containsInt(s []int, v int) bool { return indexInt(s, v) >= 0 }

func indexInt(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// BenchmarkLLMStep measures one decoding step (one new token per sequence, 64 cached
// positions) for a batch of sequences: the engine's cost per token on one core. Pin it
// (taskset -c 1): tokens/s is wall time, tokens/cpu-s the process's CPU time, which
// other programs on a shared core disturb less.
func BenchmarkLLMStep(b *testing.B) {
	m := testLLM(b)
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			var ws Workspace
			caches := make([]*KVCache, n)
			prompt := m.Encode(strings.Repeat("The fortune ", 6)[:64])
			steps := make([]Step, n)
			for i := range caches {
				caches[i] = m.NewCache(m.Config.Context)
				steps[i] = Step{Cache: caches[i], Tokens: prompt, Logits: 1}
			}
			if _, err := m.Forward(&ws, steps); err != nil {
				b.Fatal(err)
			}
			for i := range steps {
				steps[i] = Step{Cache: caches[i], Tokens: []int{'a'}, Logits: 1}
			}
			cpu := cpuTime(b)
			for b.Loop() {
				for _, c := range caches {
					c.n = 64
				}
				if _, err := m.Forward(&ws, steps); err != nil {
					b.Fatal(err)
				}
			}
			cpu = cpuTime(b) - cpu
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "tokens/cpu-s")
		})
	}
}
