package inference

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// completion writes the answer of one request, whole or streamed.
type completion struct {
	h       *Handler
	req     *completionRequest
	seqs    []*Sequence
	m       *LLM
	id      string
	created int64
	choices []choiceState
}

type choiceState struct {
	text   strings.Builder
	finish string
	tokens int
	offset int // text offset of the next token, for completions' logprobs
	lp     logprobState
}

// logprobState accumulates the logprobs object of a choice (completions' or chat's).
type logprobState struct {
	tokens  []string
	values  []any
	tops    []any
	offsets []int
	content []any
}

func newCompletion(h *Handler, req *completionRequest, seqs []*Sequence) *completion {
	prefix := "cmpl-"
	if req.chat {
		prefix = "chatcmpl-"
	}
	return &completion{h: h, req: req, seqs: seqs, m: h.engine.Model(), id: newID(prefix),
		created: time.Now().Unix(), choices: make([]choiceState, len(seqs))}
}

func (c *completion) object() string {
	switch {
	case c.req.chat && c.req.stream:
		return "chat.completion.chunk"
	case c.req.chat:
		return "chat.completion"
	}
	return "text_completion"
}

// add records ev into its choice and returns the logprobs of this event alone (for a
// stream chunk), or nil.
func (c *completion) add(ev choiceEvent) *logprobState {
	ch := &c.choices[ev.Index]
	ch.text.WriteString(ev.Text)
	ch.tokens = ev.Tokens
	if ev.Finish != "" {
		ch.finish = ev.Finish
	}
	if !c.req.logprobs {
		return nil
	}
	var one logprobState
	if ev.Prompt != nil {
		for i, t := range c.req.tokens {
			c.addLogprob(&one, ch, t, ev.Prompt[i], ev.PromptTop[i])
		}
	}
	if ev.Token >= 0 {
		c.addLogprob(&one, ch, ev.Token, ev.Logprob, ev.Top)
	}
	return &one
}

func (c *completion) addLogprob(one *logprobState, ch *choiceState, tok int, lp float64, top []TokenLogprob) {
	s := tokenString(c.m, tok)
	for _, st := range []*logprobState{one, &ch.lp} {
		if c.req.chat {
			tops := make([]any, len(top))
			for i, t := range top {
				tops[i] = map[string]any{"token": tokenString(c.m, t.Token), "logprob": t.Logprob, "bytes": []int{t.Token}}
			}
			st.content = append(st.content, map[string]any{"token": s, "logprob": jsonFloat(lp), "bytes": []int{tok}, "top_logprobs": tops})
			continue
		}
		st.tokens = append(st.tokens, s)
		st.values = append(st.values, jsonFloat(lp))
		st.offsets = append(st.offsets, ch.offset)
		if len(top) == 0 {
			st.tops = append(st.tops, nil)
		} else {
			m := make(map[string]float64, len(top))
			for _, t := range top {
				m[tokenString(c.m, t.Token)] = t.Logprob
			}
			st.tops = append(st.tops, m)
		}
	}
	ch.offset++
}

func (c *completion) logprobsJSON(st *logprobState) any {
	if st == nil {
		return nil
	}
	if c.req.chat {
		return map[string]any{"content": orEmpty(st.content)}
	}
	return map[string]any{"tokens": orEmpty(st.tokens), "token_logprobs": orEmpty(st.values),
		"top_logprobs": orEmpty(st.tops), "text_offset": orEmpty(st.offsets)}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *completion) usage() map[string]int {
	out := 0
	for i := range c.choices {
		out += c.choices[i].tokens
	}
	p := len(c.req.tokens)
	return map[string]int{"prompt_tokens": p, "completion_tokens": out, "total_tokens": p + out}
}

func finishReason(f string) any {
	switch f {
	case "":
		return nil
	case "cancelled":
		return "stop"
	}
	return f
}

// whole waits for every choice and writes one JSON answer.
func (c *completion) whole(ctx context.Context, w http.ResponseWriter) int {
	events := merge(c.seqs)
	if c.req.echo {
		for i := range c.choices {
			c.choices[i].text.WriteString(c.req.prompt)
		}
	}
	for {
		select {
		case <-ctx.Done():
			drain(c.seqs, events)
			return 499 // the client went away: nothing to write
		case ev, ok := <-events:
			if !ok {
				return c.writeWhole(w)
			}
			c.add(ev)
		}
	}
}

func (c *completion) writeWhole(w http.ResponseWriter) int {
	choices := make([]any, len(c.choices))
	for i := range c.choices {
		ch := &c.choices[i]
		var lp any
		if c.req.logprobs {
			lp = c.logprobsJSON(&ch.lp)
		}
		if c.req.chat {
			choices[i] = map[string]any{"index": i, "message": map[string]any{"role": "assistant", "content": ch.text.String()},
				"logprobs": lp, "finish_reason": finishReason(ch.finish)}
		} else {
			choices[i] = map[string]any{"index": i, "text": ch.text.String(), "logprobs": lp, "finish_reason": finishReason(ch.finish)}
		}
	}
	b, _ := json.Marshal(map[string]any{"id": c.id, "object": c.object(), "created": c.created, "model": c.m.Name,
		"choices": choices, "usage": c.usage()})
	return writeJSON(w, http.StatusOK, append(b, '\n'))
}

// stream writes Server-Sent Events in OpenAI's chunk shape, then "data: [DONE]".
func (c *completion) stream(ctx context.Context, w http.ResponseWriter) int {
	events := merge(c.seqs)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush() // the client sees the stream open even while it waits for the batch
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for i := range c.choices {
		first := ""
		if c.req.echo {
			first = c.req.prompt
		}
		if (c.req.chat || first != "") && !write(c.chunk(i, first, nil, "", true)) {
			drain(c.seqs, events)
			return http.StatusOK
		}
	}
	for {
		select {
		case <-ctx.Done():
			drain(c.seqs, events)
			return http.StatusOK
		case ev, ok := <-events:
			if !ok {
				c.endStream(write)
				return http.StatusOK
			}
			lp := c.add(ev)
			if ev.Text == "" && ev.Finish == "" && lp == nil {
				continue // held back: may be a stop string
			}
			if !write(c.chunk(ev.Index, ev.Text, lp, ev.Finish, false)) {
				drain(c.seqs, events)
				return http.StatusOK
			}
		}
	}
}

func (c *completion) endStream(write func([]byte) bool) {
	if c.req.includeUsage {
		b, _ := json.Marshal(map[string]any{"id": c.id, "object": c.object(), "created": c.created, "model": c.m.Name,
			"choices": []any{}, "usage": c.usage()})
		if !write(sse(b)) {
			return
		}
	}
	write([]byte("data: [DONE]\n\n"))
}

func sse(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	out = append(out, "data: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// streamChunk is one stream event in OpenAI's shape. Its fields are in alphabetical
// order, as json.Marshal writes a map's keys, and it is marshalled without maps: this
// runs once per token.
type streamChunk struct {
	Choices []streamChoice  `json:"choices"`
	Created int64           `json:"created"`
	ID      string          `json:"id"`
	Model   string          `json:"model"`
	Object  string          `json:"object"`
	Usage   json.RawMessage `json:"usage,omitempty"` // null with include_usage, else absent
}

type streamChoice struct {
	Delta        *chatDelta `json:"delta,omitempty"` // chat
	FinishReason any        `json:"finish_reason"`
	Index        int        `json:"index"`
	Logprobs     any        `json:"logprobs"`
	Text         *string    `json:"text,omitempty"` // completions
}

type chatDelta struct {
	Content *string `json:"content,omitempty"`
	Role    string  `json:"role,omitempty"`
}

// chunk is one stream event of choice i.
func (c *completion) chunk(i int, text string, lp *logprobState, finish string, first bool) []byte {
	choice := streamChoice{FinishReason: finishReason(finish), Index: i, Logprobs: c.logprobsJSON(lp)}
	switch {
	case !c.req.chat:
		choice.Text = &text
	case first:
		choice.Delta = &chatDelta{Content: &text, Role: "assistant"}
	case text != "":
		choice.Delta = &chatDelta{Content: &text}
	default:
		choice.Delta = &chatDelta{}
	}
	m := streamChunk{Choices: []streamChoice{choice}, Created: c.created, ID: c.id, Model: c.m.Name, Object: c.object()}
	if c.req.includeUsage {
		m.Usage = json.RawMessage("null")
	}
	b, _ := json.Marshal(m)
	return sse(b)
}
