package inference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// Limits of the OpenAI-compatible requests.
const (
	maxChoices     = 16
	maxStopStrings = 4
	maxStopBytes   = 64
	maxTopLogprobs = 5
	maxMessages    = 256
)

// APIError is an error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
type APIError struct {
	Status  int
	Message string
	Type    string
	Param   string
	Code    string
}

func (e *APIError) Error() string { return e.Message }

func badRequest(param, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: param, Message: fmt.Sprintf(format, args...)}
}

// completionBody is the JSON of POST /v1/completions and /v1/chat/completions; which
// fields each accepts is checked by decodeCompletion.
type completionBody struct {
	Model               *string         `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	N                   *int            `json:"n"`
	Stream              *bool           `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Echo                *bool           `json:"echo"`
	Logprobs            json.RawMessage `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	IgnoreEOS           *bool           `json:"ignore_eos"`
	User                *string         `json:"user"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// completionRequest is a validated request.
type completionRequest struct {
	chat      bool
	prompt    string
	tokens    []int
	maxTokens int
	// restOfContext: no max tokens given to chat, which then runs to the context's end
	restOfContext bool
	sampling      Sampling
	seeded        bool
	n             int
	stream        bool
	includeUsage  bool
	stop          []string
	echo          bool
	logprobs      bool // completions: logprobs given; chat: logprobs true
	topLogprobs   int
	ignoreEOS     bool
}

// decodeCompletion decodes and validates a request body. Every problem is an APIError
// with status 400 (404 for an unknown model).
func decodeCompletion(body []byte, chat bool, m *LLM, modelName string) (*completionRequest, *APIError) {
	var b completionBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, apiJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("", "the body holds more than one JSON value")
	}
	if b.Model == nil || *b.Model == "" {
		return nil, badRequest("model", "you must provide a model parameter")
	}
	if *b.Model != modelName {
		return nil, &APIError{Status: http.StatusNotFound, Type: "invalid_request_error", Param: "model", Code: "model_not_found",
			Message: fmt.Sprintf("the model %q does not exist; GET /v1/models lists %q", truncate(*b.Model, 100), modelName)}
	}
	r := &completionRequest{chat: chat, n: 1, maxTokens: 16, sampling: Sampling{Temperature: 1, TopP: 1}}
	var e *APIError
	if chat {
		e = r.chatFields(&b)
	} else {
		e = r.completionFields(&b)
	}
	if e != nil {
		return nil, e
	}
	if e := r.common(&b, m); e != nil {
		return nil, e
	}
	return r, nil
}

func apiJSONError(err error) *APIError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return badRequest(te.Field, "%s: want %s, not a JSON %s", fieldName(te.Field), te.Type, te.Value)
	case errors.As(err, &se):
		return badRequest("", "the body is not valid JSON: %v (at byte %d)", err, se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(f, "unrecognized request argument supplied: %s", truncate(f, 100))
	case errors.Is(err, io.EOF):
		return badRequest("", "the body is empty: send a JSON object")
	}
	return badRequest("", "the body is not valid JSON: %v", err)
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func (r *completionRequest) completionFields(b *completionBody) *APIError {
	if b.Messages != nil || b.MaxCompletionTokens != nil || b.TopLogprobs != nil {
		return badRequest("messages", "messages, max_completion_tokens and top_logprobs belong to /v1/chat/completions")
	}
	var s string
	var list []string
	switch {
	case len(b.Prompt) == 0 || string(b.Prompt) == "null":
		return badRequest("prompt", "you must provide a prompt")
	case json.Unmarshal(b.Prompt, &s) == nil:
	case json.Unmarshal(b.Prompt, &list) == nil && len(list) == 1:
		s = list[0]
	default:
		return badRequest("prompt", "prompt: want a string, or an array of one string")
	}
	r.prompt = s
	r.echo = b.Echo != nil && *b.Echo
	if len(b.Logprobs) > 0 && string(b.Logprobs) != "null" {
		var k int
		if err := json.Unmarshal(b.Logprobs, &k); err != nil || k < 0 || k > maxTopLogprobs {
			return badRequest("logprobs", "logprobs: want an integer from 0 to %d", maxTopLogprobs)
		}
		r.logprobs, r.topLogprobs = true, k
	}
	if b.MaxTokens != nil {
		r.maxTokens = *b.MaxTokens
	}
	return nil
}

func (r *completionRequest) chatFields(b *completionBody) *APIError {
	if b.Prompt != nil || b.Echo != nil {
		return badRequest("prompt", "prompt and echo belong to /v1/completions; send messages")
	}
	if len(b.Messages) == 0 || len(b.Messages) > maxMessages {
		return badRequest("messages", "messages: want from 1 to %d messages", maxMessages)
	}
	var sb strings.Builder
	for i, m := range b.Messages {
		switch m.Role {
		case "system", "developer":
			sb.WriteString(m.Content + "\n")
		case "user":
			sb.WriteString("Q:\t" + m.Content + "\n")
		case "assistant":
			sb.WriteString("A:\t" + m.Content + "\n")
		default:
			return badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role %q: want system, user or assistant", i, truncate(m.Role, 50))
		}
	}
	sb.WriteString("A:\t")
	r.prompt = sb.String()
	r.restOfContext = true
	switch {
	case b.MaxCompletionTokens != nil:
		r.maxTokens, r.restOfContext = *b.MaxCompletionTokens, false
	case b.MaxTokens != nil:
		r.maxTokens, r.restOfContext = *b.MaxTokens, false
	}
	if len(b.Logprobs) > 0 && string(b.Logprobs) != "null" {
		if err := json.Unmarshal(b.Logprobs, &r.logprobs); err != nil {
			return badRequest("logprobs", "logprobs: want true or false")
		}
	}
	if b.TopLogprobs != nil {
		if *b.TopLogprobs < 0 || *b.TopLogprobs > maxTopLogprobs || !r.logprobs {
			return badRequest("top_logprobs", "top_logprobs: want an integer from 0 to %d, with logprobs true", maxTopLogprobs)
		}
		r.topLogprobs = *b.TopLogprobs
	}
	return nil
}

// common validates the fields both endpoints share.
func (r *completionRequest) common(b *completionBody, m *LLM) *APIError {
	ctx := m.Config.Context
	r.tokens = m.Encode(r.prompt)
	if len(r.tokens) == 0 {
		return badRequest("prompt", "the prompt is empty")
	}
	if len(r.tokens) > ctx {
		return badRequest("prompt", "this model's maximum context length is %d tokens, but the prompt has %d", ctx, len(r.tokens))
	}
	if r.restOfContext {
		r.maxTokens = ctx - len(r.tokens)
	}
	if r.maxTokens < 0 || len(r.tokens)+r.maxTokens > ctx {
		return badRequest("max_tokens", "max_tokens %d: want from 0 to %d (the context is %d tokens, the prompt has %d)",
			r.maxTokens, ctx-len(r.tokens), ctx, len(r.tokens))
	}
	if r.maxTokens == 0 && !(r.echo && r.logprobs) {
		return badRequest("max_tokens", "max_tokens 0 only scores a prompt: it needs echo and logprobs")
	}
	if v := b.Temperature; v != nil {
		if math.IsNaN(*v) || *v < 0 || *v > 2 {
			return badRequest("temperature", "temperature %g: want from 0 to 2", *v)
		}
		r.sampling.Temperature = *v
	}
	if v := b.TopP; v != nil {
		if math.IsNaN(*v) || *v <= 0 || *v > 1 {
			return badRequest("top_p", "top_p %g: want more than 0 and at most 1", *v)
		}
		r.sampling.TopP = *v
	}
	if b.N != nil {
		if *b.N < 1 || *b.N > maxChoices {
			return badRequest("n", "n %d: want from 1 to %d", *b.N, maxChoices)
		}
		r.n = *b.N
	}
	if b.Seed != nil {
		r.sampling.Seed, r.seeded = uint64(*b.Seed), true
	}
	r.stream = b.Stream != nil && *b.Stream
	if b.StreamOptions != nil {
		if !r.stream {
			return badRequest("stream_options", "stream_options is only allowed when stream is true")
		}
		r.includeUsage = b.StreamOptions.IncludeUsage
	}
	if e := r.stops(b.Stop); e != nil {
		return e
	}
	for name, v := range map[string]*float64{"presence_penalty": b.PresencePenalty, "frequency_penalty": b.FrequencyPenalty} {
		if v != nil && *v != 0 {
			return badRequest(name, "%s is not supported by this model: send 0 or leave it out", name)
		}
	}
	r.ignoreEOS = b.IgnoreEOS != nil && *b.IgnoreEOS
	return nil
}

func (r *completionRequest) stops(raw json.RawMessage) *APIError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		r.stop = []string{one}
	} else if err := json.Unmarshal(raw, &r.stop); err != nil {
		return badRequest("stop", "stop: want a string or an array of up to %d strings", maxStopStrings)
	}
	if len(r.stop) > maxStopStrings {
		return badRequest("stop", "stop: at most %d strings, not %d", maxStopStrings, len(r.stop))
	}
	for _, s := range r.stop {
		if s == "" || len(s) > maxStopBytes {
			return badRequest("stop", "stop: every string must have from 1 to %d bytes", maxStopBytes)
		}
	}
	return nil
}
