package inference

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectors is a file written by train/train.py: inputs and XGBoost's own predictions.
type vectors struct {
	Model       string            `json:"model"`
	Objective   string            `json:"objective"`
	Inputs      [][]*float64      `json:"inputs"`
	Predictions []json.RawMessage `json:"predictions"`
	Margins     []json.RawMessage `json:"margins"`
}

func readVectors(t testing.TB, name string) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors-"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Inputs) == 0 || len(v.Inputs) != len(v.Predictions) || len(v.Inputs) != len(v.Margins) {
		t.Fatalf("%s: %d inputs, %d predictions, %d margins", name, len(v.Inputs), len(v.Predictions), len(v.Margins))
	}
	return v
}

// floats reads a JSON number or array of numbers.
func floats(t testing.TB, raw json.RawMessage) []float64 {
	t.Helper()
	var one float64
	if json.Unmarshal(raw, &one) == nil {
		return []float64{one}
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatal(err)
	}
	return many
}

func row(in []*float64) []float32 {
	x := make([]float32, len(in))
	for i, v := range in {
		if v == nil {
			x[i] = float32(math.NaN())
		} else {
			x[i] = float32(*v)
		}
	}
	return x
}

func loadTestModel(t testing.TB, name string) *Model {
	t.Helper()
	var m *Model
	var err error
	if _, ok := embedded[name]; ok {
		m, err = LoadModel(name)
	} else {
		m, err = LoadModelFile(filepath.Join("testdata", name+".json"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const tolerance = 1e-5

func near(a, b float64) bool {
	return math.Abs(a-b) <= tolerance*math.Max(1, math.Abs(b))
}

// TestParity checks the evaluator against XGBoost's own margins and predictions for
// every model trained by train/train.py, inputs with missing values included.
func TestParity(t *testing.T) {
	for _, name := range []string{"default", "large", "binary", "regression", "dart"} {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			v := readVectors(t, name)
			if m.Objective != v.Objective {
				t.Fatalf("objective %q, vectors were made with %q", m.Objective, v.Objective)
			}
			margins := make([]float32, m.Groups())
			out := make([]float64, max(m.Groups(), m.Outputs()))
			missing := 0
			for i, in := range v.Inputs {
				x := row(in)
				if len(x) != m.NumFeatures {
					t.Fatalf("input %d has %d features, model %d", i, len(x), m.NumFeatures)
				}
				for _, f := range x {
					if math.IsNaN(float64(f)) {
						missing++
					}
				}
				class := m.Predict(x, margins, out)
				wantMargins := floats(t, v.Margins[i])
				for g, w := range wantMargins {
					if !near(float64(margins[g]), w) {
						t.Errorf("input %d: margin %d = %.8g, xgboost %.8g", i, g, margins[g], w)
					}
				}
				want := floats(t, v.Predictions[i])
				switch m.Objective {
				case "multi:softprob":
					for c, w := range want {
						if !near(out[c], w) {
							t.Errorf("input %d: p(%d) = %.8g, xgboost %.8g", i, c, out[c], w)
						}
					}
				case "multi:softmax":
					if float64(class) != want[0] {
						t.Errorf("input %d: class %d, xgboost %v", i, class, want[0])
					}
				case "binary:logistic":
					if !near(out[1], want[0]) || !near(out[0], 1-want[0]) {
						t.Errorf("input %d: p = %v, xgboost %.8g", i, out[:2], want[0])
					}
					if (class == 1) != (want[0] > 0.5) {
						t.Errorf("input %d: class %d for p=%v", i, class, want[0])
					}
				default:
					if !near(out[0], want[0]) {
						t.Errorf("input %d: value %.8g, xgboost %.8g", i, out[0], want[0])
					}
				}
			}
			if missing == 0 && name != "binary" {
				t.Errorf("no missing values in the vectors: default directions are not tested")
			}
		})
	}
}

// tinyModel is a hand-made regression model: one tree splitting feature 0 at 0.5,
// leaves 1 (left) and 2 (right), missing values go left, base_score 0.5.
func tinyModel() map[string]any {
	return map[string]any{
		"version": []int{1, 7, 4},
		"learner": map[string]any{
			"attributes":    map[string]any{"note": "hand-made"},
			"feature_names": []string{"a", "b"},
			"learner_model_param": map[string]any{
				"base_score": "5E-1", "num_class": "0", "num_feature": "2", "num_target": "1",
			},
			"objective": map[string]any{"name": "reg:squarederror"},
			"gradient_booster": map[string]any{
				"name": "gbtree",
				"model": map[string]any{
					"gbtree_model_param": map[string]any{"num_trees": "1", "size_leaf_vector": "0"},
					"tree_info":          []int{0},
					"trees": []any{map[string]any{
						"left_children":    []int{1, -1, -1},
						"right_children":   []int{2, -1, -1},
						"split_indices":    []int{0, 0, 0},
						"split_conditions": []float64{0.5, 1, 2},
						"default_left":     []int{1, 0, 0},
						"split_type":       []int{0, 0, 0},
						"base_weights":     []float64{0, 1, 2},
						"tree_param":       map[string]any{"num_nodes": "3", "size_leaf_vector": "0"},
					}},
				},
			},
		},
	}
}

func learner(doc map[string]any) map[string]any { return doc["learner"].(map[string]any) }
func tree0(doc map[string]any) map[string]any {
	gb := learner(doc)["gradient_booster"].(map[string]any)
	return gb["model"].(map[string]any)["trees"].([]any)[0].(map[string]any)
}

func parseDoc(t *testing.T, doc map[string]any) (*Model, error) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return ReadModel("tiny", bytes.NewReader(b))
}

func TestTinyModelSemantics(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name   string
		edit   func(map[string]any)
		x      []float32
		want   float64
		margin float32
	}{
		{name: "below threshold goes left", x: []float32{0.49, 7}, want: 1.5, margin: 1.5},
		{name: "equal to threshold goes right", x: []float32{0.5, 7}, want: 2.5, margin: 2.5},
		{name: "missing goes to default left", x: []float32{nan, 7}, want: 1.5, margin: 1.5},
		{name: "missing goes to default right",
			edit: func(d map[string]any) { tree0(d)["default_left"] = []int{0, 0, 0} },
			x:    []float32{nan, 0}, want: 2.5, margin: 2.5},
		{name: "logistic base score is a probability",
			edit: func(d map[string]any) {
				learner(d)["objective"] = map[string]any{"name": "reg:logistic"}
				learner(d)["learner_model_param"].(map[string]any)["base_score"] = "0.25"
			},
			x: []float32{0, 0}, margin: float32(1 - math.Log(3)), want: 1 / (1 + math.Exp(-(1 - math.Log(3))))},
		{name: "poisson exponentiates",
			edit: func(d map[string]any) {
				learner(d)["objective"] = map[string]any{"name": "count:poisson"}
				learner(d)["learner_model_param"].(map[string]any)["base_score"] = "1"
			},
			x: []float32{1, 0}, margin: 2, want: math.Exp(2)},
		{name: "vector base score of XGBoost 2.1+",
			edit: func(d map[string]any) {
				learner(d)["learner_model_param"].(map[string]any)["base_score"] = "[1E0]"
			},
			x: []float32{1, 0}, margin: 3, want: 3},
		{name: "dart weights scale leaves",
			edit: func(d map[string]any) {
				gb := learner(d)["gradient_booster"].(map[string]any)
				learner(d)["gradient_booster"] = map[string]any{"name": "dart", "gbtree": gb, "weight_drop": []float64{0.5}}
			},
			x: []float32{1, 0}, margin: 1.5, want: 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tinyModel()
			if tt.edit != nil {
				tt.edit(doc)
			}
			m, err := parseDoc(t, doc)
			if err != nil {
				t.Fatal(err)
			}
			mg := make([]float32, 1)
			out := make([]float64, 1)
			if c := m.Predict(tt.x, mg, out); c != -1 {
				t.Errorf("class %d for a regressor", c)
			}
			if math.Abs(float64(mg[0]-tt.margin)) > 1e-6 || math.Abs(out[0]-tt.want) > 1e-6 {
				t.Errorf("margin %v value %v, want %v and %v", mg[0], out[0], tt.margin, tt.want)
			}
		})
	}
}

func TestModelMetadata(t *testing.T) {
	m, err := parseDoc(t, tinyModel())
	if err != nil {
		t.Fatal(err)
	}
	if m.NumFeatures != 2 || m.NumTrees != 1 || m.NumNodes != 3 || m.MaxDepth != 1 || m.Kind != Regressor ||
		m.XGBoostVersion != "1.7.4" || m.Attributes["note"] != "hand-made" || m.Outputs() != 1 {
		t.Errorf("unexpected metadata %+v", m.Info())
	}
	if i, ok := m.FeatureIndex("b"); !ok || i != 1 {
		t.Errorf("FeatureIndex(b) = %d, %v", i, ok)
	}
	d := loadTestModel(t, "default")
	if d.NumFeatures != 64 || d.NumClasses != 10 || d.FeatureNames[9] != "pixel_1_1" || d.Kind != Classifier {
		t.Errorf("default model: %+v", d.Info())
	}
	l := loadTestModel(t, "large")
	if l.NumNodes <= 4*d.NumNodes {
		t.Errorf("large model has %d nodes, default %d: not much larger", l.NumNodes, d.NumNodes)
	}
}

func TestReadModelErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
		raw  string
		want string
	}{
		{name: "not JSON", raw: "{nope", want: "cannot parse"},
		{name: "empty", raw: "", want: "cannot parse"},
		{name: "not a model", raw: `{"hello": 1}`, want: "no learner.objective"},
		{name: "ranking objective", want: "unsupported model: objective",
			edit: func(d map[string]any) { learner(d)["objective"] = map[string]any{"name": "rank:pairwise"} }},
		{name: "gblinear", want: "unsupported model: booster gblinear",
			edit: func(d map[string]any) { learner(d)["gradient_booster"] = map[string]any{"name": "gblinear"} }},
		{name: "categorical split", want: "categorical split",
			edit: func(d map[string]any) { tree0(d)["split_type"] = []int{1, 0, 0} }},
		{name: "child out of range", want: "invalid children",
			edit: func(d map[string]any) { tree0(d)["left_children"] = []int{7, -1, -1} }},
		{name: "cycle", want: "invalid children",
			edit: func(d map[string]any) {
				tree0(d)["left_children"] = []int{1, 0, -1}
				tree0(d)["right_children"] = []int{2, 2, -1}
			}},
		{name: "feature out of range", want: "splits on feature 5",
			edit: func(d map[string]any) { tree0(d)["split_indices"] = []int{5, 0, 0} }},
		{name: "arrays of different lengths", want: "different lengths",
			edit: func(d map[string]any) { tree0(d)["default_left"] = []int{1} }},
		{name: "bad num_feature", want: "num_feature",
			edit: func(d map[string]any) { learner(d)["learner_model_param"].(map[string]any)["num_feature"] = "x" }},
		{name: "feature names count", want: "1 feature_names for 2 features",
			edit: func(d map[string]any) { learner(d)["feature_names"] = []string{"a"} }},
		{name: "duplicate feature names", want: "appears twice",
			edit: func(d map[string]any) { learner(d)["feature_names"] = []string{"a", "a"} }},
		{name: "bad base score", want: "base_score",
			edit: func(d map[string]any) { learner(d)["learner_model_param"].(map[string]any)["base_score"] = "inf" }},
		{name: "multi-output", want: "multi-output",
			edit: func(d map[string]any) { learner(d)["learner_model_param"].(map[string]any)["num_target"] = "3" }},
		{name: "softprob without classes", want: "num_class",
			edit: func(d map[string]any) { learner(d)["objective"] = map[string]any{"name": "multi:softprob"} }},
		{name: "tree group out of range", want: "output group",
			edit: func(d map[string]any) {
				learner(d)["gradient_booster"].(map[string]any)["model"].(map[string]any)["tree_info"] = []int{3}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.edit == nil {
				_, err = ReadModel("x", strings.NewReader(tt.raw))
			} else {
				doc := tinyModel()
				tt.edit(doc)
				_, err = parseDoc(t, doc)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(tt.want, "unsupported") && !errors.Is(err, ErrUnsupportedModel) {
				t.Errorf("error %v does not wrap ErrUnsupportedModel", err)
			}
		})
	}
}

func TestReadGzipModel(t *testing.T) {
	b, _ := json.Marshal(tinyModel())
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	path := filepath.Join(t.TempDir(), "m.json.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModelFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumNodes != 3 || m.SizeBytes != int64(buf.Len()) {
		t.Errorf("nodes %d size %d, want 3 and %d", m.NumNodes, m.SizeBytes, buf.Len())
	}
	if _, err := LoadModelFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("no error for a missing file")
	}
}

// BenchmarkPredict measures the evaluator alone: "single" predicts one instance per
// operation, cycling through the 50 test vectors (repeating one input would let the
// branch predictor learn its path and understate the cost); "batch100" predicts 100.
func BenchmarkPredict(b *testing.B) {
	for _, name := range []string{"default", "large"} {
		m := loadTestModel(b, name)
		v := readVectors(b, name)
		rows := make([][]float32, len(v.Inputs))
		for i, in := range v.Inputs {
			rows[i] = row(in)
		}
		mg := make([]float32, m.Groups())
		out := make([]float64, m.Outputs())
		b.Run(name+"/single", func(b *testing.B) {
			i := 0
			for b.Loop() {
				m.Predict(rows[i%len(rows)], mg, out)
				i++
			}
		})
		b.Run(name+"/batch100", func(b *testing.B) {
			for b.Loop() {
				for i := range 100 {
					m.Predict(rows[i%len(rows)], mg, out)
				}
			}
		})
	}
}

func BenchmarkLoadModel(b *testing.B) {
	for _, name := range []string{"default", "large"} {
		raw, err := modelFiles.ReadFile(embedded[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ReadModel(name, bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzReadModel feeds arbitrary bytes to the model reader: it must return a model or an
// error, never panic, and a model it returns must predict without panicking.
func FuzzReadModel(f *testing.F) {
	tiny, _ := json.Marshal(tinyModel())
	f.Add(tiny)
	for _, name := range []string{"binary", "dart"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name+".json")); err == nil && len(b) < 40000 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"learner":{"gradient_booster":{"name":"gbtree","model":{"trees":[{"left_children":[1e99]}]}}}}`))
	f.Add([]byte(`{"a":"\u00e9\"","b":[[[{}]]],"learner":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadModel("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		x := make([]float32, m.NumFeatures)
		for i := range x {
			x[i] = float32(i % 3)
		}
		x[0] = float32(math.NaN())
		m.Predict(x, make([]float32, m.Groups()), make([]float64, max(m.Groups(), m.Outputs())))
	})
}
