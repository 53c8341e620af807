package result

import "time"

// Percentiles summarises one streaming figure over the measured requests, in
// the same form (and JSON) as Latency.
type Percentiles = Latency

// Stream is what the load engine measured of streamed answers (Server-Sent
// Events), over the measured requests that received at least one token.
type Stream struct {
	// TTFT is the time to first token, from each request's intended send time.
	TTFT Percentiles `json:"ttft"`
	// ITL is every gap between two tokens of one answer.
	ITL Percentiles `json:"itl"`
	// TPOT is each answer's (latency - TTFT) / (tokens - 1), for answers of two
	// tokens or more.
	TPOT Percentiles `json:"tpot"`
	// OutputTokens is the sum of the answers' tokens: usage.completion_tokens
	// when the server sent it, else the count of content events.
	OutputTokens uint64 `json:"output_tokens"`
	// OutputTokensPerS is OutputTokens over the measured window.
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
	// Streams is the number of measured streaming requests with at least one token.
	Streams uint64 `json:"streams"`
	// File is the side file of per-request streaming figures, relative to the
	// scenario's folder (the raw results file stays vegeta's format).
	File string `json:"file,omitempty"`
}

// Goodput is the per-request limits of goodput; zero fields are not checked.
type Goodput struct {
	TTFT    time.Duration `json:"ttft_ns,omitempty"`
	TPOT    time.Duration `json:"tpot_ns,omitempty"`
	Latency time.Duration `json:"latency_ns,omitempty"`
}

// Meets reports whether one successful request with these figures meets g.
// ttft and tpot are ignored when zero (a request that does not stream, or an
// answer of one token for tpot).
func (g Goodput) Meets(latency, ttft, tpot time.Duration, streamed bool) bool {
	if g.Latency > 0 && latency > g.Latency {
		return false
	}
	if g.TTFT > 0 && streamed && ttft > g.TTFT {
		return false
	}
	if g.TPOT > 0 && streamed && tpot > g.TPOT {
		return false
	}
	return true
}

// GoodputResult is how many measured requests met the goodput limits.
type GoodputResult struct {
	// RPS is the requests per second that succeeded and met every limit.
	RPS float64 `json:"rps"`
	// Requests is their number.
	Requests uint64 `json:"requests"`
	// Ratio is Requests over all measured requests, 0..1.
	Ratio float64 `json:"ratio"`
}

// NameCount is one request name's share of a mix.
type NameCount struct {
	// Name is the entry's name in requests:.
	Name string `json:"name"`
	// Requests sent with this name (measured window).
	Requests uint64 `json:"requests"`
	// Errors among them.
	Errors  uint64  `json:"errors"`
	Latency Latency `json:"latency"`
}
