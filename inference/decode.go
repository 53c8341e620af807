package inference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

// RequestError is a client error in a request: it becomes a 4xx JSON answer.
type RequestError struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Code is a short machine-readable reason, for example "wrong_feature_count".
	Code string
	// Message says what is wrong and what would be valid.
	Message string
}

func (e *RequestError) Error() string { return e.Message }

func reqErr(status int, code, format string, args ...any) *RequestError {
	return &RequestError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error codes of [RequestError].
const (
	CodeMalformedJSON     = "malformed_json"
	CodeBadShape          = "bad_request_shape"
	CodeWrongFeatureCount = "wrong_feature_count"
	CodeNonNumeric        = "non_numeric"
	CodeNonFinite         = "non_finite"
	CodeUnknownFeature    = "unknown_feature"
	CodeMissingFeature    = "missing_feature"
	CodeEmptyBatch        = "empty_batch"
	CodeBatchTooLarge     = "batch_too_large"
	CodeBodyTooLarge      = "body_too_large"
	CodeContentType       = "unsupported_content_type"
	CodeMethod            = "method_not_allowed"
	CodeNotFound          = "not_found"
	CodeOverloaded        = "overloaded"
	CodeDraining          = "shutting_down"
)

// Request is a decoded prediction request.
type Request struct {
	// X holds the features of every instance, one after the other (NaN = missing).
	X []float32
	// N is the number of instances.
	N int
	// Batch is true for {"instances": ...} requests, which get {"predictions": [...]}.
	Batch bool
}

type envelope struct {
	Features  json.RawMessage `json:"features"`
	Instances json.RawMessage `json:"instances"`
}

// DecodeRequest parses a prediction request body for model m:
//
//	{"features": [x0, x1, ...]}                  one instance, every feature in order
//	{"features": {"name": x, ...}}               one instance, features by name
//	{"instances": [[...], {...}, ...]}           a batch of 1..maxBatch instances
//
// Values are JSON numbers within float32's range, or null for a missing value. x is
// reused for the result if it has the capacity. Every error is a *[RequestError].
func DecodeRequest(body []byte, m *Model, maxBatch int, x []float32) (Request, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return Request{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, reqErr(http.StatusBadRequest, CodeMalformedJSON,
			"malformed JSON: unexpected data after the top-level object")
	}
	hasF, hasI := present(env.Features), present(env.Instances)
	switch {
	case hasF && hasI:
		return Request{}, reqErr(http.StatusUnprocessableEntity, CodeBadShape,
			`give either "features" (one instance) or "instances" (a batch), not both`)
	case hasF:
		x, err := decodeInstance(env.Features, m, x[:0], "")
		return Request{X: x, N: 1}, err
	case hasI:
		return decodeBatch(env.Instances, m, maxBatch, x[:0])
	default:
		return Request{}, reqErr(http.StatusUnprocessableEntity, CodeBadShape,
			`want a JSON object with "features": [%d numbers] or "instances": [[%d numbers], ...]`,
			m.NumFeatures, m.NumFeatures)
	}
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func jsonError(err error) *RequestError {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field == "" {
			return reqErr(http.StatusBadRequest, CodeBadShape,
				"the body is a JSON %s, want an object with \"features\" or \"instances\"", ute.Value)
		}
		return reqErr(http.StatusBadRequest, CodeBadShape, "field %q: %s", ute.Field, ute.Value)
	}
	if errors.Is(err, io.EOF) {
		return reqErr(http.StatusBadRequest, CodeMalformedJSON, "empty body: want a JSON object")
	}
	return reqErr(http.StatusBadRequest, CodeMalformedJSON, "malformed JSON: %s", err.Error())
}

func decodeBatch(raw json.RawMessage, m *Model, maxBatch int, x []float32) (Request, error) {
	if skipSpace(raw, 0) >= len(raw) || raw[skipSpace(raw, 0)] != '[' {
		return Request{}, reqErr(http.StatusUnprocessableEntity, CodeBadShape,
			`"instances" must be an array of instances`)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return Request{}, jsonError(err)
	}
	if len(items) == 0 {
		return Request{}, reqErr(http.StatusUnprocessableEntity, CodeEmptyBatch,
			`"instances" is empty: give 1 to %d instances`, maxBatch)
	}
	if len(items) > maxBatch {
		return Request{}, reqErr(http.StatusRequestEntityTooLarge, CodeBatchTooLarge,
			`"instances" has %d instances, at most %d are allowed per request`, len(items), maxBatch)
	}
	if cap(x) < len(items)*m.NumFeatures {
		x = make([]float32, 0, len(items)*m.NumFeatures)
	}
	for i, it := range items {
		var err error
		x, err = decodeInstance(it, m, x, fmt.Sprintf("instance %d: ", i))
		if err != nil {
			return Request{}, err
		}
	}
	return Request{X: x, N: len(items), Batch: true}, nil
}

// decodeInstance appends the features of one instance (an array or an object of named
// features) to x.
func decodeInstance(raw json.RawMessage, m *Model, x []float32, where string) ([]float32, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) {
		return x, reqErr(http.StatusUnprocessableEntity, CodeBadShape, "%sno features", where)
	}
	switch raw[i] {
	case '[':
		return decodeArray(raw, i, m, x, where)
	case '{':
		return decodeNamed(raw, m, x, where)
	default:
		return x, reqErr(http.StatusUnprocessableEntity, CodeBadShape,
			"%sfeatures must be an array of %d numbers or an object of named features, got %s",
			where, m.NumFeatures, kindOf(raw[i]))
	}
}

// decodeArray scans a JSON array of numbers and nulls starting at raw[i] == '['. raw is
// valid JSON (encoding/json checked it), but the scanner stays in bounds on any input.
func decodeArray(raw []byte, i int, m *Model, x []float32, where string) ([]float32, error) {
	start := len(x)
	n := 0
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return x, wrongCount(m, 0, where)
	}
	for i < len(raw) {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			break
		}
		c := raw[i]
		var v float32
		switch {
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(raw) && isNumberByte(raw[j]) {
				j++
			}
			f, err := parseNumber(raw[i:j])
			if err != nil {
				return x, reqErr(http.StatusUnprocessableEntity, CodeNonFinite,
					"%sfeature %d (%s): %s", where, n, featName(m, n), err.Error())
			}
			v, i = f, j
		case c == 'n' && bytes.HasPrefix(raw[i:], []byte("null")):
			v, i = float32(math.NaN()), i+4
		default:
			return x, reqErr(http.StatusUnprocessableEntity, CodeNonNumeric,
				"%sfeature %d (%s) is %s, want a number (or null for a missing value)",
				where, n, featName(m, n), kindOf(c))
		}
		if n < m.NumFeatures {
			x = append(x, v)
		}
		n++
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i++
			continue
		}
		if i < len(raw) && raw[i] == ']' {
			if n != m.NumFeatures {
				return x[:start], wrongCount(m, n, where)
			}
			return x, nil
		}
		break
	}
	return x[:start], reqErr(http.StatusBadRequest, CodeMalformedJSON, "%smalformed features array", where)
}

func wrongCount(m *Model, n int, where string) *RequestError {
	return reqErr(http.StatusUnprocessableEntity, CodeWrongFeatureCount,
		"%sgot %d features, want %d (%s ... %s)", where, n, m.NumFeatures,
		m.FeatureNames[0], m.FeatureNames[m.NumFeatures-1])
}

func decodeNamed(raw json.RawMessage, m *Model, x []float32, where string) ([]float32, error) {
	var named map[string]json.RawMessage
	if err := json.Unmarshal(raw, &named); err != nil {
		return x, jsonError(err)
	}
	start := len(x)
	for range m.NumFeatures {
		x = append(x, 0)
	}
	row := x[start:]
	set := 0
	for name, v := range named {
		k, ok := m.featIndex[name]
		if !ok {
			return x[:start], reqErr(http.StatusUnprocessableEntity, CodeUnknownFeature,
				"%sunknown feature %q: the model's features are %s ... %s (GET / lists them)",
				where, truncate(name, 64), m.FeatureNames[0], m.FeatureNames[m.NumFeatures-1])
		}
		f, err := parseScalar(v)
		if err != nil {
			err.Message = fmt.Sprintf("%sfeature %q %s", where, name, err.Message)
			return x[:start], err
		}
		row[k] = f
		set++
	}
	if set != m.NumFeatures {
		for k, name := range m.FeatureNames {
			if _, ok := named[name]; !ok {
				return x[:start], reqErr(http.StatusUnprocessableEntity, CodeMissingFeature,
					"%sgot %d of %d named features, %q is missing (use null for a missing value)",
					where, set, m.NumFeatures, m.FeatureNames[k])
			}
		}
	}
	return x, nil
}

// parseScalar reads one JSON value that must be a number or null.
func parseScalar(raw []byte) (float32, *RequestError) {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return float32(math.NaN()), nil
	}
	if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		c := byte(0)
		if len(raw) > 0 {
			c = raw[0]
		}
		return 0, reqErr(http.StatusUnprocessableEntity, CodeNonNumeric,
			"is %s, want a number (or null for a missing value)", kindOf(c))
	}
	f, err := parseNumber(raw)
	if err != nil {
		return 0, reqErr(http.StatusUnprocessableEntity, CodeNonFinite, "%s", err.Error())
	}
	return f, nil
}

// parseNumber converts a JSON number to float32, refusing values beyond float32's range.
func parseNumber(b []byte) (float32, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s is not a finite number within float32 range (±%.4g)",
			truncate(string(b), 32), math.MaxFloat32)
	}
	return float32(f), nil
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func kindOf(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return "not a JSON value"
	}
}

func featName(m *Model, i int) string {
	if i < len(m.FeatureNames) {
		return m.FeatureNames[i]
	}
	return "beyond the model's features"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
