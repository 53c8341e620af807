package stats

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// reference is testdata/reference.json, written by testdata/reference.py.
type reference struct {
	Scipy       string `json:"scipy"`
	MannWhitney []struct {
		Name, Method string
		X, Y         []float64
		U, P         float64
	} `json:"mannwhitney"`
	HodgesLehmann []struct {
		Name               string
		Alpha              float64
		X, Y               []float64
		Estimate           float64
		Lo, Hi, Confidence *float64
	} `json:"hodges_lehmann"`
}

func readReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.MannWhitney) == 0 || len(r.HodgesLehmann) == 0 {
		t.Fatal("reference.json holds no cases")
	}
	return r
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}

func TestMannWhitneyAgainstScipy(t *testing.T) {
	ref := readReference(t)
	for _, c := range ref.MannWhitney {
		t.Run(c.Name+"/"+c.Method, func(t *testing.T) {
			var got UTest
			var err error
			if c.Method == "auto" {
				got, err = MannWhitney(c.X, c.Y)
			} else {
				got, err = MannWhitneyMethod(c.X, c.Y, Method(c.Method))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.U, c.U, 1e-12) || !near(got.P, c.P, 1e-9) {
				t.Errorf("U=%v p=%v (%s), scipy %s: U=%v p=%v", got.U, got.P, got.Method, ref.Scipy, c.U, c.P)
			}
		})
	}
}

func TestHodgesLehmannAgainstBruteForce(t *testing.T) {
	ref := readReference(t)
	for _, c := range ref.HodgesLehmann {
		t.Run(c.Name, func(t *testing.T) {
			got, err := HodgesLehmann(c.X, c.Y, c.Alpha)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.Estimate, c.Estimate, 1e-12) {
				t.Errorf("estimate %v, want %v", got.Estimate, c.Estimate)
			}
			if c.Lo == nil {
				if !math.IsNaN(got.Lo) || !math.IsNaN(got.Hi) {
					t.Errorf("interval [%v, %v], want none", got.Lo, got.Hi)
				}
				return
			}
			if !near(got.Lo, *c.Lo, 1e-12) || !near(got.Hi, *c.Hi, 1e-12) || !near(got.Confidence, *c.Confidence, 1e-9) {
				t.Errorf("interval [%v, %v] at %v, want [%v, %v] at %v", got.Lo, got.Hi, got.Confidence, *c.Lo, *c.Hi, *c.Confidence)
			}
		})
	}
}

// TestExactPMF checks the recurrence against a naive enumeration of every order.
func TestExactPMF(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {2, 3}, {3, 3}, {4, 5}, {5, 5}, {3, 7}} {
		n1, n2 := sz[0], sz[1]
		counts := make([]float64, n1*n2+1)
		total := 0.0
		// Every bitmask of n1+n2 positions with n1 ones is one order.
		for mask := 0; mask < 1<<(n1+n2); mask++ {
			ones, u := 0, 0
			for p := 0; p < n1+n2; p++ {
				if mask&(1<<p) != 0 {
					u += p - ones // second-sample values below this one
					ones++
				}
			}
			if ones == n1 {
				counts[u]++
				total++
			}
		}
		got := exactPMF(n1, n2)
		for u := range counts {
			if !near(got[u], counts[u]/total, 1e-12) {
				t.Errorf("%dx%d: P(U=%d) = %v, want %v", n1, n2, u, got[u], counts[u]/total)
			}
		}
	}
}

func TestMinP(t *testing.T) {
	for _, c := range []struct {
		n1, n2 int
		want   float64
	}{{3, 3, 0.1}, {5, 5, 2.0 / 252}, {1, 10, 2.0 / 11}, {0, 4, 1}} {
		if got := MinP(c.n1, c.n2); !near(got, c.want, 1e-12) {
			t.Errorf("MinP(%d, %d) = %v, want %v", c.n1, c.n2, got, c.want)
		}
	}
}

func TestMannWhitneyEmpty(t *testing.T) {
	if _, err := MannWhitney(nil, []float64{1}); err != ErrTooFew {
		t.Errorf("err = %v, want ErrTooFew", err)
	}
	if _, err := HodgesLehmann([]float64{1}, nil, 0.05); err != ErrTooFew {
		t.Errorf("err = %v, want ErrTooFew", err)
	}
}

func TestBootstrapRatio(t *testing.T) {
	base := make([]float64, 30)
	for i := range base {
		base[i] = 100 + float64(i%7) - 3 // 97..103, a repeating pattern
	}
	scale := func(f float64) []float64 {
		v := slices.Clone(base)
		for i := range v {
			v[i] *= f
		}
		return v
	}
	tests := []struct {
		name        string
		y           []float64
		significant bool
		want        float64
	}{
		{"same", slices.Clone(base), false, 0},
		{"20% more", scale(1.2), true, 0.2},
		{"1% more", scale(1.01), false, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := BootstrapRatio(base, tt.y, Median, 0.05, DefaultBootstrap)
			if !near(r.Change, tt.want, 1e-12) {
				t.Errorf("change %v, want %v", r.Change, tt.want)
			}
			if !(r.Lo <= r.Change && r.Change <= r.Hi) {
				t.Errorf("interval [%v, %v] misses the estimate %v", r.Lo, r.Hi, r.Change)
			}
			if got := r.P < 0.05; got != tt.significant {
				t.Errorf("p = %v, significant %v, want %v", r.P, got, tt.significant)
			}
			again := BootstrapRatio(base, tt.y, Median, 0.05, DefaultBootstrap)
			if again != r {
				t.Errorf("not repeatable: %+v then %+v", r, again)
			}
		})
	}
	if r := BootstrapRatio([]float64{1}, base, Mean, 0.05, DefaultBootstrap); !math.IsNaN(r.Change) {
		t.Errorf("one value: %+v, want NaN", r)
	}
}

func TestQuantileAndCV(t *testing.T) {
	v := []float64{4, 1, 3, 2}
	if got := Quantile(v, 0.5); got != 2.5 {
		t.Errorf("median %v", got)
	}
	if got := Quantile(v, 0.25); got != 1.75 {
		t.Errorf("q25 %v", got)
	}
	// mean 2.5, sample sd sqrt(5/3)
	if got := CV(v); !near(got, math.Sqrt(5.0/3)/2.5, 1e-12) {
		t.Errorf("CV %v", got)
	}
	if got := CV([]float64{1}); !math.IsNaN(got) {
		t.Errorf("CV of one value %v", got)
	}
}
