package inference

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallModel is tinyModel with 3 features named a, b, c.
func smallModel(t testing.TB) *Model {
	t.Helper()
	doc := tinyModel()
	learner(doc)["feature_names"] = []string{"a", "b", "c"}
	learner(doc)["learner_model_param"].(map[string]any)["num_feature"] = "3"
	b, _ := json.Marshal(doc)
	m, err := ReadModel("small", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeRequest(t *testing.T) {
	m := smallModel(t)
	nan := float32(math.NaN())
	tests := []struct {
		name   string
		body   string
		want   []float32
		n      int
		batch  bool
		status int
		code   string
		msg    string
	}{
		{name: "array", body: `{"features":[1,2.5,-3e2]}`, want: []float32{1, 2.5, -300}, n: 1},
		{name: "spaces and null", body: " { \"features\" : [ 1 ,\n null , 0 ] } \n", want: []float32{1, nan, 0}, n: 1},
		{name: "named", body: `{"features":{"c":3,"a":1,"b":null}}`, want: []float32{1, nan, 3}, n: 1},
		{name: "batch", body: `{"instances":[[1,2,3],{"a":4,"b":5,"c":6}]}`, want: []float32{1, 2, 3, 4, 5, 6}, n: 2, batch: true},
		{name: "explicit null instances is ignored", body: `{"features":[1,2,3],"instances":null}`, want: []float32{1, 2, 3}, n: 1},

		{name: "empty body", body: ``, status: 400, code: CodeMalformedJSON, msg: "empty body"},
		{name: "malformed", body: `{"features":[1,2,3]`, status: 400, code: CodeMalformedJSON},
		{name: "trailing data", body: `{"features":[1,2,3]} {}`, status: 400, code: CodeMalformedJSON, msg: "after the top-level"},
		{name: "not an object", body: `[1,2,3]`, status: 400, code: CodeBadShape, msg: "want an object"},
		{name: "unknown field", body: `{"feature":[1,2,3]}`, status: 400, code: CodeMalformedJSON, msg: "unknown field"},
		{name: "neither", body: `{}`, status: 422, code: CodeBadShape, msg: `"features"`},
		{name: "both", body: `{"features":[1,2,3],"instances":[[1,2,3]]}`, status: 422, code: CodeBadShape, msg: "not both"},
		{name: "too few", body: `{"features":[1,2]}`, status: 422, code: CodeWrongFeatureCount, msg: "got 2 features, want 3"},
		{name: "too many", body: `{"features":[1,2,3,4,5]}`, status: 422, code: CodeWrongFeatureCount, msg: "got 5 features, want 3"},
		{name: "empty features", body: `{"features":[]}`, status: 422, code: CodeWrongFeatureCount, msg: "got 0 features"},
		{name: "string value", body: `{"features":[1,"2",3]}`, status: 422, code: CodeNonNumeric, msg: "feature 1 (b) is a string"},
		{name: "boolean value", body: `{"features":[true,2,3]}`, status: 422, code: CodeNonNumeric, msg: "a boolean"},
		{name: "nested array", body: `{"features":[[1],2,3]}`, status: 422, code: CodeNonNumeric, msg: "an array"},
		{name: "features not array", body: `{"features":"1,2,3"}`, status: 422, code: CodeBadShape, msg: "got a string"},
		{name: "overflowing number", body: `{"features":[1e400,2,3]}`, status: 422, code: CodeNonFinite, msg: "not a finite number"},
		{name: "beyond float32", body: `{"features":[1,1e39,3]}`, status: 422, code: CodeNonFinite, msg: "float32"},
		{name: "named unknown", body: `{"features":{"a":1,"b":2,"z":3}}`, status: 422, code: CodeUnknownFeature, msg: `unknown feature "z"`},
		{name: "named missing", body: `{"features":{"a":1,"b":2}}`, status: 422, code: CodeMissingFeature, msg: `"c" is missing`},
		{name: "named string", body: `{"features":{"a":1,"b":"x","c":3}}`, status: 422, code: CodeNonNumeric, msg: `feature "b" is a string`},
		{name: "named infinite", body: `{"features":{"a":1,"b":-1e999,"c":3}}`, status: 422, code: CodeNonFinite},
		{name: "empty batch", body: `{"instances":[]}`, status: 422, code: CodeEmptyBatch},
		{name: "oversized batch", body: `{"instances":[[1,2,3],[1,2,3],[1,2,3],[1,2,3]]}`, status: 413, code: CodeBatchTooLarge, msg: "4 instances, at most 3"},
		{name: "instances not array", body: `{"instances":{"a":1}}`, status: 422, code: CodeBadShape},
		{name: "bad instance in batch", body: `{"instances":[[1,2,3],[1,2]]}`, status: 422, code: CodeWrongFeatureCount, msg: "instance 1: got 2"},
		{name: "scalar instance", body: `{"instances":[5]}`, status: 422, code: CodeBadShape, msg: "instance 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tt.body), m, 3, nil)
			if tt.status != 0 {
				var re *RequestError
				if !errors.As(err, &re) {
					t.Fatalf("error %v, want a RequestError", err)
				}
				if re.Status != tt.status || re.Code != tt.code || !strings.Contains(re.Message, tt.msg) {
					t.Fatalf("got %d %s %q, want %d %s containing %q", re.Status, re.Code, re.Message, tt.status, tt.code, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.N != tt.n || req.Batch != tt.batch || len(req.X) != len(tt.want) {
				t.Fatalf("got %+v, want %v n=%d batch=%v", req, tt.want, tt.n, tt.batch)
			}
			for i, w := range tt.want {
				g := req.X[i]
				if g != w && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
					t.Errorf("x[%d] = %v, want %v", i, g, w)
				}
			}
		})
	}
}

func TestDecodeReusesBuffer(t *testing.T) {
	m := smallModel(t)
	buf := make([]float32, 0, 16)
	req, err := DecodeRequest([]byte(`{"features":[1,2,3]}`), m, 10, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &req.X[0] != &buf[:1][0] {
		t.Error("the buffer was not reused")
	}
}

// FuzzDecodeRequest feeds arbitrary bodies to the decoder: it must never panic, every
// error must be a 4xx RequestError, and every success must hold exactly N instances of
// finite-or-missing features.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"features":[1,2,3]}`, `{"features":{"a":1,"b":null,"c":2}}`, `{"instances":[[1,2,3],{"a":1,"b":2,"c":3}]}`,
		`{"features":[1e400,"x",true,null,[],{}]}`, `{"instances":[]}`, `[`, `{"features":[1,2,3,]}`, `{"features":[-]}`,
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"predict.json", "predict-named.json", "predict-batch.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	small := smallModel(f)
	digits, err := LoadModel("default")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, m := range []*Model{small, digits} {
			req, err := DecodeRequest(body, m, 5, nil)
			if err != nil {
				var re *RequestError
				if !errors.As(err, &re) || re.Status < 400 || re.Status > 499 || re.Code == "" || re.Message == "" {
					t.Fatalf("bad error %#v for %q", err, body)
				}
				continue
			}
			if req.N < 1 || req.N > 5 || len(req.X) != req.N*m.NumFeatures {
				t.Fatalf("got N=%d and %d values for %q", req.N, len(req.X), body)
			}
			for _, v := range req.X {
				if math.IsInf(float64(v), 0) {
					t.Fatalf("infinite value accepted from %q", body)
				}
			}
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
		}
	})
}

var _ = http.StatusOK
