package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func completion(texts ...string) string {
	var b strings.Builder
	for _, t := range texts {
		b.WriteString(`data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":"` + t + `","finish_reason":null}]}` + "\n\n")
	}
	return b.String()
}

func TestRead(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantErr    error
		wantTokens int
		wantOutput int
		wantEvents int
		wantDone   bool
	}{
		{name: "completions", body: completion("a", "b", "c") + "data: [DONE]\n\n",
			wantTokens: 3, wantOutput: 3, wantEvents: 3, wantDone: true},
		{name: "chat, role chunk is not a token",
			body: `data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}` + "\n\n" +
				`data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}` + "\n\n" +
				`data: {"choices":[{"index":0,"delta":{"content":" there"}}]}` + "\n\n" +
				`data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
				"data: [DONE]\n\n",
			wantTokens: 2, wantOutput: 2, wantEvents: 4, wantDone: true},
		{name: "usage wins over the count",
			body:       completion("ab", "cd") + `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}` + "\n\ndata: [DONE]\n\n",
			wantTokens: 2, wantOutput: 4, wantEvents: 3, wantDone: true},
		{name: "usage-only event without choices is not a token",
			body:       completion("x") + `data: {"usage":{"completion_tokens":1}}` + "\n\ndata: [DONE]\n\n",
			wantTokens: 1, wantOutput: 1, wantEvents: 2, wantDone: true},
		{name: "CRLF, comments, event and id fields",
			body:       ": keep-alive\r\nevent: message\r\nid: 1\r\ndata: hello\r\n\r\nretry: 10\r\ndata: world\r\n\r\ndata: [DONE]\r\n\r\n",
			wantTokens: 2, wantOutput: 2, wantEvents: 2, wantDone: true},
		{name: "other shapes count one token each",
			body:       "data: plain text\n\ndata: {\"token\":\"x\"}\n\ndata: [1,2]\n\ndata: [DONE]\n\n",
			wantTokens: 3, wantOutput: 3, wantEvents: 3, wantDone: true},
		{name: "multi-line data is one event",
			body:       "data: a\ndata: b\n\ndata: [DONE]\n\n",
			wantTokens: 1, wantOutput: 1, wantEvents: 1, wantDone: true},
		{name: "empty text is not a token",
			body:       completion("", "x", "") + "data: [DONE]\n\n",
			wantTokens: 1, wantOutput: 1, wantEvents: 3, wantDone: true},
		{name: "[DONE] without trailing blank line still ends",
			body:       completion("x") + "data: [DONE]\n\n",
			wantTokens: 1, wantOutput: 1, wantEvents: 1, wantDone: true},
		{name: "no [DONE]", body: completion("a", "b"), wantErr: ErrNoDone, wantTokens: 2, wantOutput: 2, wantEvents: 2},
		{name: "empty body", body: "", wantErr: ErrNoDone},
		{name: "cut in the middle of an event", body: completion("a") + `data: {"choices":[{"te`, wantErr: ErrCutEvent, wantTokens: 1, wantOutput: 1, wantEvents: 1},
		{name: "cut after a field line", body: completion("a") + "data: b\n", wantErr: ErrCutEvent, wantTokens: 1, wantOutput: 1, wantEvents: 1},
		{name: "malformed JSON", body: completion("a") + "data: {\"choices\":[\n\ndata: [DONE]\n\n", wantErr: ErrMalformed, wantTokens: 1, wantOutput: 1, wantEvents: 2},
		{name: "server error event", body: `data: {"error":{"message":"model overloaded","type":"server_error"}}` + "\n\n", wantErr: ErrServer, wantEvents: 1},
		{name: "line over the cap", body: "data: " + strings.Repeat("x", 5000) + "\n\n", wantErr: ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			st, err := Read(strings.NewReader(tt.body), Options{MaxLineBytes: 4096}, func(time.Time) { calls++ })
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if st.Tokens != tt.wantTokens || calls != tt.wantTokens {
				t.Errorf("tokens %d (callbacks %d), want %d", st.Tokens, calls, tt.wantTokens)
			}
			if st.OutputTokens() != tt.wantOutput {
				t.Errorf("output tokens %d, want %d", st.OutputTokens(), tt.wantOutput)
			}
			if st.Events != tt.wantEvents {
				t.Errorf("events %d, want %d", st.Events, tt.wantEvents)
			}
			if st.Done != tt.wantDone {
				t.Errorf("done %v, want %v", st.Done, tt.wantDone)
			}
			if st.Bytes > int64(len(tt.body)) {
				t.Errorf("read %d bytes of %d", st.Bytes, len(tt.body))
			}
		})
	}
}

func TestServerErrorMessage(t *testing.T) {
	_, err := Read(strings.NewReader(`data: {"error":{"message":"model overloaded"}}`+"\n\n"), Options{}, nil)
	if err == nil || err.Error() != "stream: error event from the server: model overloaded" {
		t.Fatalf("error %v", err)
	}
}

func TestLineCapAcrossBuffer(t *testing.T) {
	// A line longer than the read buffer but under the cap is fine.
	long := strings.Repeat("y", 3*bufferBytes)
	st, err := Read(strings.NewReader("data: "+long+"\n\ndata: [DONE]\n\n"), Options{MaxLineBytes: 4 * bufferBytes}, nil)
	if err != nil || st.Tokens != 1 {
		t.Fatalf("tokens %d, error %v", st.Tokens, err)
	}
	// Over it, the stream fails after reading at most the cap and one buffer.
	endless := io.MultiReader(strings.NewReader("data: "), infinite('z'))
	st, err = Read(endless, Options{MaxLineBytes: 4 * bufferBytes}, nil)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("error %v, want %v", err, ErrLineTooLong)
	}
	if st.Bytes > 6*bufferBytes {
		t.Errorf("read %d bytes of an endless line", st.Bytes)
	}
}

type infinite byte

func (b infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestTokenTimes(t *testing.T) {
	clock := time.Unix(1000, 0)
	now := func() time.Time { clock = clock.Add(10 * time.Millisecond); return clock }
	var got []time.Time
	st, err := Read(strings.NewReader(completion("a", "b", "c")+"data: [DONE]\n\n"), Options{Now: now}, func(at time.Time) { got = append(got, at) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !st.First.Equal(got[0]) || !st.Last.Equal(got[2]) || got[1].Sub(got[0]) != 10*time.Millisecond {
		t.Fatalf("times %v, first %v last %v", got, st.First, st.Last)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		status int
		ct     string
		want   error
	}{
		{200, "text/event-stream", nil},
		{200, "text/event-stream; charset=utf-8", nil},
		{200, "application/json", ErrNotEventStream},
		{200, "", ErrNotEventStream},
		{503, "text/event-stream", ErrStatus},
		{302, "text/event-stream", ErrStatus},
	}
	for _, tt := range tests {
		if err := Check(tt.status, tt.ct); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("Check(%d, %q) = %v, want %v", tt.status, tt.ct, err, tt.want)
		}
	}
}

// stallingBody sends its prefix, then blocks until closed.
type stallingBody struct {
	prefix *strings.Reader
	closed chan struct{}
}

func (s *stallingBody) Read(p []byte) (int, error) {
	if s.prefix.Len() > 0 {
		return s.prefix.Read(p)
	}
	<-s.closed
	return 0, errors.New("read on closed body")
}

func TestStall(t *testing.T) {
	b := &stallingBody{prefix: strings.NewReader(completion("a", "b")), closed: make(chan struct{})}
	st, err := Read(b, Options{Stall: 50 * time.Millisecond, Abort: func() { close(b.closed) }}, nil)
	if !errors.Is(err, ErrStall) {
		t.Fatalf("error %v, want %v", err, ErrStall)
	}
	if st.Tokens != 2 {
		t.Errorf("tokens %d, want 2", st.Tokens)
	}
}

// trickle sends one event every gap, forever (until closed).
type trickle struct {
	gap    time.Duration
	closed chan struct{}
	buf    []byte
}

func (tr *trickle) Read(p []byte) (int, error) {
	if len(tr.buf) == 0 {
		select {
		case <-time.After(tr.gap):
		case <-tr.closed:
			return 0, errors.New("closed")
		}
		tr.buf = []byte(completion("t"))
	}
	n := copy(p, tr.buf)
	tr.buf = tr.buf[n:]
	return n, nil
}

func TestStallNotTriggeredByASteadyStream(t *testing.T) {
	tr := &trickle{gap: 5 * time.Millisecond, closed: make(chan struct{})}
	stalled := make(chan struct{})
	go func() { time.Sleep(300 * time.Millisecond); close(tr.closed) }()
	st, err := Read(tr, Options{Stall: 100 * time.Millisecond, Abort: func() { close(stalled) }}, nil)
	if errors.Is(err, ErrStall) {
		t.Fatalf("a stream with an event every 5ms stalled after %d tokens", st.Tokens)
	}
	if st.Tokens == 0 {
		t.Fatal("no token read")
	}
}

func FuzzRead(f *testing.F) {
	f.Add(completion("a", "b") + "data: [DONE]\n\n")
	f.Add(`data: {"choices":[{"delta":{"role":"assistant","content":null}}]}` + "\n\n")
	f.Add(`data: {"choices":[],"usage":{"completion_tokens":12}}` + "\r\n\r\n")
	f.Add("data: {\"error\":\"x\"}\n\n: c\nevent: e\ndata\n\n")
	f.Add("data: {\"a\":[{\"b\":\"\\\"}\"}]}\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		st, err := Read(strings.NewReader(body), Options{MaxLineBytes: 512}, nil)
		if st.Bytes > int64(len(body)) {
			t.Fatalf("read %d bytes of %d", st.Bytes, len(body))
		}
		if st.Tokens > st.Events {
			t.Fatalf("%d tokens from %d events", st.Tokens, st.Events)
		}
		if err == nil && !st.Done {
			t.Fatal("no error and no [DONE]")
		}
	})
}
