// Package inference is the default system under test of the runner: a tree-ensemble
// model (XGBoost's JSON model format) served over HTTP.
//
// The model evaluator ([Model]) reads XGBoost JSON models (gbtree and dart boosters,
// numerical splits, missing values) and predicts with the same float32 arithmetic as
// XGBoost, so its outputs match the training library's to about 1e-6. Two models
// trained on scikit-learn's digits data set are embedded ("default" and "large"); any
// other XGBoost JSON model file can be loaded by path.
//
// [NewHandler] returns the http.Handler of the service (POST /predict, GET /health,
// GET /metrics, GET /), hardened against bad input: every client error is a 4xx JSON
// answer, concurrent predictions are capped (503 with Retry-After when full), and
// request bodies are bounded. [Serve] runs it with server timeouts and graceful
// shutdown; [ApplyMemoryLimit] derives GOMEMLIMIT from the cgroup memory limit.
package inference
