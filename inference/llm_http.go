package inference

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// streamWriteTimeout bounds one write of a stream to a client that stopped reading.
const streamWriteTimeout = 30 * time.Second

func writeAPIError(w http.ResponseWriter, e *APIError) int {
	type detail struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	d := detail{Message: e.Message, Type: e.Type}
	if e.Param != "" {
		d.Param = &e.Param
	}
	if e.Code != "" {
		d.Code = &e.Code
	}
	b, _ := json.Marshal(map[string]detail{"error": d})
	return writeJSON(w, e.Status, append(b, '\n'))
}

func (h *Handler) models(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return writeAPIError(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: fmt.Sprintf("method %s is not allowed on %s, use GET", truncate(r.Method, 20), r.URL.Path)})
	}
	m := h.engine.Model()
	b, _ := json.Marshal(map[string]any{"object": "list", "data": []any{map[string]any{
		"id": m.Name, "object": "model", "created": h.started.Unix(), "owned_by": "runner",
		"context_length": m.Config.Context, "parameters": m.Params}}})
	return writeJSON(w, http.StatusOK, append(b, '\n'))
}

// complete serves POST /v1/completions and /v1/chat/completions.
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, chat bool) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeAPIError(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: fmt.Sprintf("method %s is not allowed on %s, use POST", truncate(r.Method, 20), r.URL.Path)})
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return writeAPIError(w, &APIError{Status: http.StatusUnsupportedMediaType, Type: "invalid_request_error",
			Message: fmt.Sprintf("content type %q is not supported, send application/json", truncate(ct, 100))})
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), nil)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return writeAPIError(w, &APIError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
				Message: fmt.Sprintf("the body is larger than %d bytes", h.cfg.MaxBodyBytes)})
		}
		return writeAPIError(w, badRequest("", "cannot read the body: %v", err))
	}
	m := h.engine.Model()
	req, apiErr := decodeCompletion(body, chat, m, m.Name)
	if apiErr != nil {
		return writeAPIError(w, apiErr)
	}
	seqs, apiErr := h.submit(req)
	if apiErr != nil {
		if apiErr.Status == http.StatusTooManyRequests || apiErr.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		return writeAPIError(w, apiErr)
	}
	c := newCompletion(h, req, seqs)
	if req.stream {
		return c.stream(r.Context(), w)
	}
	return c.whole(r.Context(), w)
}

// submit queues the request's n sequences; choice i of a seeded request uses seed+i.
func (h *Handler) submit(req *completionRequest) ([]*Sequence, *APIError) {
	seqs := make([]*Sequence, 0, req.n)
	for i := range req.n {
		s := req.sampling
		if req.seeded {
			s.Seed += uint64(i)
		} else {
			var b [8]byte
			_, _ = rand.Read(b[:])
			s.Seed = binary.LittleEndian.Uint64(b[:])
		}
		seq, err := h.engine.Submit(GenRequest{Prompt: req.tokens, MaxTokens: req.maxTokens, Sampling: s, Stop: req.stop,
			IgnoreEOS: req.ignoreEOS, Logprobs: req.logprobs, PromptLogprobs: req.echo && req.logprobs, TopLogprobs: req.topLogprobs})
		if err != nil {
			for _, s := range seqs {
				s.Cancel()
			}
			switch {
			case errors.Is(err, ErrQueueFull):
				return nil, &APIError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: "queue_full",
					Message: fmt.Sprintf("overloaded: %d sequences already wait for the batch, retry later", h.engine.Config().MaxWaiting)}
			case errors.Is(err, ErrDraining):
				return nil, &APIError{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "shutting_down",
					Message: "the service is shutting down, retry on another replica"}
			case errors.Is(err, ErrTooLong):
				return nil, badRequest("max_tokens", "the prompt plus max_tokens need more KV cache than this service has: %v", err)
			}
			return nil, badRequest("", "%v", err)
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil
}

// choiceEvent is an event of choice Index.
type choiceEvent struct {
	GenEvent
	Index int
}

// merge forwards the events of every sequence, tagged with its index, until all end.
func merge(seqs []*Sequence) <-chan choiceEvent {
	if len(seqs) == 1 {
		out := make(chan choiceEvent, 1)
		go func() {
			for ev := range seqs[0].Events {
				out <- choiceEvent{ev, 0}
			}
			close(out)
		}()
		return out
	}
	out := make(chan choiceEvent, len(seqs))
	done := make(chan struct{})
	for i, s := range seqs {
		go func() {
			for ev := range s.Events {
				out <- choiceEvent{ev, i}
			}
			done <- struct{}{}
		}()
	}
	go func() {
		for range seqs {
			<-done
		}
		close(out)
	}()
	return out
}

func cancelAll(seqs []*Sequence) {
	for _, s := range seqs {
		s.Cancel()
	}
}

// drain cancels every sequence and waits for their ends, so their caches are free
// when the handler returns.
func drain(seqs []*Sequence, events <-chan choiceEvent) {
	cancelAll(seqs)
	for range events {
	}
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + strconv.FormatUint(binary.LittleEndian.Uint64(b[:8]), 36) + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8:])), 36)
}

// tokenString is how a token is shown in logprobs: the byte as text when it is
// printable ASCII, else "bytes:\xNN", as OpenAI shows a partial character.
func tokenString(m *LLM, t int) string {
	switch {
	case t == m.Config.EOS:
		return "<|endoftext|>"
	case t < 0x80:
		return string(rune(t))
	}
	return fmt.Sprintf("bytes:\\x%02x", t)
}

func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}
