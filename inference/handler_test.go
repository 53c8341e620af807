package inference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func newTestHandler(t testing.TB, cfg Config) *Handler {
	t.Helper()
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// do serves one request through the handler and decodes the JSON answer into out.
func do(t *testing.T, h http.Handler, method, path, contentType, body string, out any) *http.Response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	if out != nil && method != http.MethodHead {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: content type %q, want application/json", method, path, ct)
		}
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
		}
	}
	return res
}

type prediction struct {
	Class         *int      `json:"class"`
	Probabilities []float64 `json:"probabilities"`
	Value         *float64  `json:"value"`
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func TestPredictMatchesXGBoost(t *testing.T) {
	h := newTestHandler(t, Config{})
	v := readVectors(t, "default")
	for i := range 3 {
		want := floats(t, v.Predictions[i])
		// The same instance as an array, and by name.
		arr, _ := json.Marshal(map[string]any{"features": v.Inputs[i]})
		named := map[string]any{}
		for k, x := range v.Inputs[i] {
			named[h.Model().FeatureNames[k]] = x
		}
		obj, _ := json.Marshal(map[string]any{"features": named})
		for _, body := range []string{string(arr), string(obj)} {
			var p prediction
			res := do(t, h, "POST", "/predict", "application/json", body, &p)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if p.Class == nil || *p.Class != argmax(want) || len(p.Probabilities) != 10 {
				t.Fatalf("instance %d: got %+v, xgboost says class %d", i, p, argmax(want))
			}
			sum := 0.0
			for c := range want {
				sum += p.Probabilities[c]
				if !near(p.Probabilities[c], want[c]) {
					t.Errorf("instance %d: p(%d) = %v, xgboost %v", i, c, p.Probabilities[c], want[c])
				}
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("probabilities sum to %v", sum)
			}
		}
	}
}

func TestPredictBatchAndExamples(t *testing.T) {
	h := newTestHandler(t, Config{})
	var one prediction
	if res := do(t, h, "POST", "/predict", "application/json; charset=utf-8", testdata(t, "predict.json"), &one); res.StatusCode != 200 || one.Class == nil {
		t.Fatalf("predict.json: %d %+v", res.StatusCode, one)
	}
	var named prediction
	if res := do(t, h, "POST", "/predict", "", testdata(t, "predict-named.json"), &named); res.StatusCode != 200 || named.Class == nil {
		t.Fatalf("predict-named.json: %d %+v", res.StatusCode, named)
	}
	var batch struct{ Predictions []prediction }
	if res := do(t, h, "POST", "/predict", "application/json", testdata(t, "predict-batch.json"), &batch); res.StatusCode != 200 {
		t.Fatalf("predict-batch.json: %d", res.StatusCode)
	}
	v := readVectors(t, "default")
	if len(batch.Predictions) != 10 {
		t.Fatalf("%d predictions, want 10", len(batch.Predictions))
	}
	for i, p := range batch.Predictions {
		if want := argmax(floats(t, v.Predictions[i])); p.Class == nil || *p.Class != want {
			t.Errorf("batch instance %d: class %v, xgboost %d", i, p.Class, want)
		}
	}
	if *batch.Predictions[0].Class != *one.Class || *batch.Predictions[1].Class != *named.Class {
		t.Error("the batch disagrees with the single requests")
	}
}

func TestPredictRegressorAndBinary(t *testing.T) {
	for _, name := range []string{"regression", "binary"} {
		t.Run(name, func(t *testing.T) {
			m := loadTestModel(t, name)
			h := newTestHandler(t, Config{Loaded: m})
			v := readVectors(t, name)
			body, _ := json.Marshal(map[string]any{"instances": v.Inputs[:5]})
			var out struct{ Predictions []prediction }
			if res := do(t, h, "POST", "/predict", "application/json", string(body), &out); res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			for i, p := range out.Predictions {
				want := floats(t, v.Predictions[i])[0]
				switch name {
				case "regression":
					if p.Value == nil || !near(*p.Value, want) || p.Class != nil {
						t.Errorf("instance %d: %+v, xgboost %v", i, p, want)
					}
				case "binary":
					if p.Class == nil || len(p.Probabilities) != 2 || !near(p.Probabilities[1], want) {
						t.Errorf("instance %d: %+v, xgboost p=%v", i, p, want)
					}
				}
			}
		})
	}
}

type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func TestBadInput(t *testing.T) {
	h := newTestHandler(t, Config{MaxBatch: 4, MaxBodyBytes: 4096})
	row := strings.TrimSuffix(strings.Repeat("1,", 64), ",")
	tests := []struct {
		name, method, path, ct, body string
		status                       int
		code                         string
	}{
		{"malformed JSON", "POST", "/predict", "application/json", `{"features":[1,2`, 400, CodeMalformedJSON},
		{"not an object", "POST", "/predict", "application/json", `"hello"`, 400, CodeBadShape},
		{"wrong feature count", "POST", "/predict", "application/json", `{"features":[1,2,3]}`, 422, CodeWrongFeatureCount},
		{"non-numeric", "POST", "/predict", "application/json", `{"features":["a"` + strings.Repeat(",1", 63) + `]}`, 422, CodeNonNumeric},
		{"non-finite", "POST", "/predict", "application/json", `{"features":[1e999` + strings.Repeat(",1", 63) + `]}`, 422, CodeNonFinite},
		{"NaN literal is not JSON", "POST", "/predict", "application/json", `{"features":[NaN` + strings.Repeat(",1", 63) + `]}`, 400, CodeMalformedJSON},
		{"unknown feature name", "POST", "/predict", "application/json", `{"features":{"pixel_9_9":1}}`, 422, CodeUnknownFeature},
		{"empty batch", "POST", "/predict", "application/json", `{"instances":[]}`, 422, CodeEmptyBatch},
		{"oversized batch", "POST", "/predict", "application/json", `{"instances":[[` + row + `],[` + row + `],[` + row + `],[` + row + `],[` + row + `]]}`, 413, CodeBatchTooLarge},
		{"body over limit", "POST", "/predict", "application/json", `{"features":[` + strings.Repeat(" ", 5000) + `]}`, 413, CodeBodyTooLarge},
		{"wrong method", "GET", "/predict", "", ``, 405, CodeMethod},
		{"wrong method on health", "POST", "/health", "application/json", `{}`, 405, CodeMethod},
		{"wrong method on metrics", "DELETE", "/metrics", "", ``, 405, CodeMethod},
		{"wrong method on root", "PUT", "/", "", ``, 405, CodeMethod},
		{"wrong content type", "POST", "/predict", "text/plain", `{"features":[` + row + `]}`, 415, CodeContentType},
		{"form content type", "POST", "/predict", "application/x-www-form-urlencoded", `features=1`, 415, CodeContentType},
		{"bad content type", "POST", "/predict", "application/json; =bad", `{}`, 415, CodeContentType},
		{"unknown path", "GET", "/nope", "", ``, 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			res := do(t, h, tt.method, tt.path, tt.ct, tt.body, &e)
			if res.StatusCode != tt.status || e.Code != tt.code || e.Error == "" {
				t.Fatalf("got %d %+v, want %d %s", res.StatusCode, e, tt.status, tt.code)
			}
			if tt.status == 405 && res.Header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

// TestBodyLimitWithoutContentLength streams a chunked body over the limit through a
// real server: the limit holds even when the client does not announce the size.
func TestBodyLimitWithoutContentLength(t *testing.T) {
	h := newTestHandler(t, Config{MaxBodyBytes: 1024})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"features":[`))
		for range 200 {
			if _, err := pw.Write([]byte(`1,1,1,1,1,`)); err != nil {
				break
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/predict", pr)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e apiError
	json.NewDecoder(res.Body).Decode(&e)
	if res.StatusCode != 413 || e.Code != CodeBodyTooLarge {
		t.Fatalf("got %d %+v, want 413", res.StatusCode, e)
	}
}

// TestOverload holds one prediction in flight (its body never ends) with a cap of 1:
// the next prediction gets 503 with Retry-After, while /health still answers.
func TestOverload(t *testing.T) {
	h := newTestHandler(t, Config{MaxInFlight: 1})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/predict", pr)
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.Client().Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	pw.Write([]byte(`{"features":`))
	for h.predicting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	res, err := srv.Client().Post(srv.URL+"/predict", "application/json", strings.NewReader(testdata(t, "predict.json")))
	if err != nil {
		t.Fatal(err)
	}
	var e apiError
	json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if res.StatusCode != 503 || e.Code != CodeOverloaded || res.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d %+v retry-after=%q, want 503 overloaded", res.StatusCode, e, res.Header.Get("Retry-After"))
	}
	if res, err := srv.Client().Get(srv.URL + "/health"); err != nil || res.StatusCode != 200 {
		t.Fatalf("health under overload: %v %v", res, err)
	}
	// Finish the first request: it succeeds, and the slot is free again.
	body := testdata(t, "predict.json")
	pw.Write([]byte(strings.TrimPrefix(body, `{"features":`)))
	pw.Close()
	if code := <-first; code != 200 {
		t.Fatalf("the request in flight got %d", code)
	}
	res, err = srv.Client().Post(srv.URL+"/predict", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after overload: %v %v", res, err)
	}
	res.Body.Close()
}

func TestHealthAndDrain(t *testing.T) {
	h := newTestHandler(t, Config{})
	var ok map[string]string
	if res := do(t, h, "GET", "/health", "", "", &ok); res.StatusCode != 200 || ok["status"] != "ok" || ok["model"] != "default" {
		t.Fatalf("health: %d %v", res.StatusCode, ok)
	}
	if res := do(t, h, "HEAD", "/health", "", "", nil); res.StatusCode != 200 {
		t.Fatalf("HEAD /health: %d", res.StatusCode)
	}
	h.Drain()
	var e apiError
	if res := do(t, h, "GET", "/health", "", "", &e); res.StatusCode != 503 || e.Code != CodeDraining {
		t.Fatalf("health while draining: %d %v", res.StatusCode, e)
	}
	var p prediction
	if res := do(t, h, "POST", "/predict", "application/json", testdata(t, "predict.json"), &p); res.StatusCode != 200 {
		t.Fatalf("predict while draining: %d", res.StatusCode)
	}
}

func TestRootMetadata(t *testing.T) {
	h := newTestHandler(t, Config{Model: "large", Version: "v1.2.3"})
	var info Info
	if res := do(t, h, "GET", "/", "", "", &info); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	m := info.Model
	if info.Version != "v1.2.3" || m.Name != "large" || m.Objective != "multi:softprob" || m.NumFeatures != 64 ||
		m.NumClasses != 10 || len(m.FeatureNames) != 64 || m.Attributes["dataset"] != "sklearn.datasets.load_digits" ||
		m.NumTrees == 0 || m.Format != "xgboost-json" || info.Limits["max_batch"].(float64) != DefaultMaxBatch {
		t.Errorf("unexpected metadata %+v", info)
	}
}

func TestMetrics(t *testing.T) {
	h := newTestHandler(t, Config{Version: "test"})
	body := testdata(t, "predict.json")
	for range 3 {
		do(t, h, "POST", "/predict", "application/json", body, &prediction{})
	}
	do(t, h, "POST", "/predict", "application/json", `{`, &apiError{})
	do(t, h, "POST", "/predict", "application/json", testdata(t, "predict-batch.json"), &struct{}{})
	do(t, h, "GET", "/health", "", "", &struct{}{})

	res := do(t, h, "GET", "/metrics", "", "", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(res.Body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the Prometheus parser rejects /metrics: %v\n%s", err, raw)
	}
	counter := func(name string, labels map[string]string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no metric %s in\n%s", name, raw)
		}
	next:
		for _, m := range f.Metric {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("no %s with labels %v", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"inference_http_requests_total", map[string]string{"handler": "/predict", "code": "200"}, 4},
		{"inference_http_requests_total", map[string]string{"handler": "/predict", "code": "400"}, 1},
		{"inference_http_requests_total", map[string]string{"handler": "/health", "code": "200"}, 1},
		{"inference_http_request_duration_seconds", map[string]string{"handler": "/predict"}, 5},
		{"inference_predictions_total", nil, 3 + 10},
		{"inference_http_requests_in_flight", nil, 1}, // this very request
		{"inference_predict_max_in_flight", nil, DefaultMaxInFlight},
		{"inference_model_info", map[string]string{"name": "default", "objective": "multi:softprob", "features": "64", "classes": "10"}, 1},
		{"inference_build_info", map[string]string{"version": "test"}, 1},
	}
	for _, c := range checks {
		if got := counter(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_sched_gomaxprocs_threads", "process_resident_memory_bytes", "process_cpu_seconds_total", "inference_model_trees"} {
		if counter(name, nil) <= 0 {
			t.Errorf("%s is not positive", name)
		}
	}
	// The histogram's buckets are cumulative and end at the count.
	var hist *dto.Histogram
	for _, m := range fams["inference_http_request_duration_seconds"].Metric {
		if hasLabel(m, "handler", "/predict") {
			hist = m.Histogram
		}
	}
	prev := uint64(0)
	for _, b := range hist.Bucket {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket le=%v is not cumulative", b.GetUpperBound())
		}
		prev = b.GetCumulativeCount()
	}
	if prev != hist.GetSampleCount() || hist.GetSampleSum() <= 0 {
		t.Errorf("last bucket %d, count %d, sum %v", prev, hist.GetSampleCount(), hist.GetSampleSum())
	}
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.Label {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

func TestNewHandlerErrors(t *testing.T) {
	if _, err := NewHandler(Config{Model: filepath.Join(t.TempDir(), "none.json")}); err == nil {
		t.Error("no error for a missing model file")
	}
	if _, err := NewHandler(Config{MaxBatch: -1}); err == nil {
		t.Error("no error for a negative batch limit")
	}
}

func Example() {
	h, err := NewHandler(Config{}) // the embedded default model
	if err != nil {
		panic(err)
	}
	// A handwritten 2 from the digits test split (testdata/predict.json).
	body := `{"features":[0,0,7,16,14,3,0,0,0,0,9,14,11,15,0,0,0,0,1,5,0,15,5,0,0,0,0,0,0,16,5,0,0,0,0,0,3,16,4,0,0,0,0,1,12,14,1,0,0,0,5,12,16,16,14,1,0,0,8,16,14,10,13,3]}`
	req := httptest.NewRequest("POST", "/predict", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p struct{ Class int }
	json.Unmarshal(rec.Body.Bytes(), &p)
	fmt.Println(rec.Code, "class", p.Class)
	// Output: 200 class 2
}

// BenchmarkHandler measures the whole request path: in process (decode, predict,
// encode) and over loopback HTTP through a real server.
func BenchmarkHandler(b *testing.B) {
	for _, model := range []string{"default", "large"} {
		h := newTestHandler(b, Config{Model: model})
		for _, name := range []string{"predict.json", "predict-batch.json"} {
			body := []byte(testdata(b, name))
			b.Run(model+"/"+name+"/in-process", func(b *testing.B) {
				rec := httptest.NewRecorder()
				for b.Loop() {
					req := httptest.NewRequest("POST", "/predict", bytes.NewReader(body))
					rec.Body.Reset()
					h.ServeHTTP(rec, req)
				}
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			})
			srv := httptest.NewServer(h)
			client := srv.Client()
			b.Run(model+"/"+name+"/http", func(b *testing.B) {
				for b.Loop() {
					res, err := client.Post(srv.URL+"/predict", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatal(res.StatusCode)
					}
				}
			})
			srv.Close()
		}
	}
}

// TestPanicIsA500 serves a corrupted model: the panic is recovered into a 500 JSON
// answer and logged, and the handler keeps serving.
func TestPanicIsA500(t *testing.T) {
	broken := *smallModel(t)
	broken.roots = []int32{99} // no such node
	var logs strings.Builder
	h := newTestHandler(t, Config{Loaded: &broken, Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
	var e apiError
	res := do(t, h, "POST", "/predict", "application/json", `{"features":[1,2,3]}`, &e)
	if res.StatusCode != 500 || e.Code != "internal" {
		t.Fatalf("got %d %+v, want 500 internal", res.StatusCode, e)
	}
	if !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
	if res := do(t, h, "GET", "/health", "", "", &struct{}{}); res.StatusCode != 200 {
		t.Errorf("health after a panic: %d", res.StatusCode)
	}
	raw, _ := io.ReadAll(do(t, h, "GET", "/metrics", "", "", nil).Body)
	if !strings.Contains(string(raw), `inference_http_requests_total{code="500",handler="/predict"} 1`) {
		t.Errorf("the 500 is not counted:\n%s", raw)
	}
}
