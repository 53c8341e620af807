// Package ssetest serves OpenAI-style streamed completions of known timing, for
// tests and benchmarks of streaming clients: the first token after First, then
// one every Gap, Tokens in all, then usage and [DONE].
package ssetest

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Server is the behaviour of a streaming endpoint. The zero value streams 20
// completion tokens at once.
type Server struct {
	// First is the time from the request to the first token.
	First time.Duration
	// Gap is the time between tokens.
	Gap time.Duration
	// Tokens is the number of content events; 0 means 20.
	Tokens int
	// Chat sends chat.completion.chunk events (a role-only chunk first) instead
	// of text_completion ones.
	Chat bool
	// Usage sends a final usage event with completion_tokens = Tokens.
	Usage bool
	// HangAfter stops sending after that many tokens and holds the connection
	// until the client leaves; 0 means never.
	HangAfter int
	// Forever streams tokens until the client leaves.
	Forever bool
	// NoDone ends the answer without [DONE].
	NoDone bool

	// Open is the number of answers being streamed now.
	Open atomic.Int64
	// Served counts the answers started.
	Served atomic.Int64
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Open.Add(1)
	defer s.Open.Add(-1)
	s.Served.Add(1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	flush := func() {
		if fl != nil {
			fl.Flush()
		}
	}
	flush()
	n := s.Tokens
	if n == 0 {
		n = 20
	}
	wait := func(d time.Duration) bool {
		if d <= 0 {
			return r.Context().Err() == nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	}
	if s.Chat {
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}`+"\n\n")
		flush()
	}
	for i := 0; s.Forever || i < n; i++ {
		// The first token after First, each next one Gap after the previous:
		// a late token delays the rest, so no gap is ever shorter than Gap.
		d := s.Gap
		if i == 0 {
			d = s.First
		}
		if !wait(d) {
			return
		}
		if s.HangAfter > 0 && i == s.HangAfter {
			<-r.Context().Done()
			return
		}
		if _, err := fmt.Fprint(w, Event(s.Chat, fmt.Sprintf("t%d ", i))); err != nil {
			return
		}
		flush()
	}
	if s.Usage {
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n", n, n+5)
	}
	if !s.NoDone {
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
	flush()
}

// Event is one content event of a completion (or a chat completion) carrying text.
func Event(chat bool, text string) string {
	text = strings.ReplaceAll(text, `"`, `\"`)
	if chat {
		return `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"` + text + `"},"finish_reason":null}]}` + "\n\n"
	}
	return `data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":"` + text + `","finish_reason":null}]}` + "\n\n"
}
