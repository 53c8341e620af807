package inference

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

type completionAnswer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int    `json:"index"`
		Text    string `json:"text"`
		Message *struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Delta *struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		Logprobs *struct {
			Tokens        []string             `json:"tokens"`
			TokenLogprobs []*float64           `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
			TextOffset    []int                `json:"text_offset"`
		} `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func llmServer(t *testing.T, ec EngineConfig) (*Handler, *httptest.Server) {
	t.Helper()
	h := newTestHandler(t, Config{Engine: ec})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func post(t *testing.T, ctx context.Context, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decodeAnswer(t *testing.T, res *http.Response) completionAnswer {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	var a completionAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return a
}

// readStream reads the SSE events of res: the chunks, and whether [DONE] ended them.
func readStream(t *testing.T, res *http.Response) ([]completionAnswer, bool) {
	t.Helper()
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d, %q: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	var out []completionAnswer
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if data == "[DONE]" {
			for sc.Scan() {
				if sc.Text() != "" {
					return out, false
				}
			}
			return out, true
		}
		var a completionAnswer
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		out = append(out, a)
	}
	return out, false
}

func streamText(chunks []completionAnswer, chat bool) (string, string) {
	var sb strings.Builder
	finish := ""
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if chat && ch.Delta != nil && ch.Delta.Content != nil {
				sb.WriteString(*ch.Delta.Content)
			} else if !chat {
				sb.WriteString(ch.Text)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	return sb.String(), finish
}

func TestLLMModels(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	res, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || list.Object != "list" || len(list.Data) != 1 ||
		list.Data[0].ID != DefaultLLM || list.Data[0].Object != "model" {
		t.Fatalf("%v %+v", err, list)
	}
}

// TestLLMCompletion: greedy text equals PyTorch's greedy continuation, whole and streamed.
func TestLLMCompletion(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	v := readLLMVectors(t)
	c := v.Cases[1]
	want := greedyText(c.Greedy, testLLM(t).Config.EOS)
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":%d,"temperature":0}`, DefaultLLM, c.Prompt, len(c.Greedy))
	a := decodeAnswer(t, post(t, t.Context(), srv.URL+"/v1/completions", body))
	if a.Object != "text_completion" || len(a.Choices) != 1 || a.Choices[0].Text != want || a.Usage == nil ||
		a.Usage.PromptTokens != len(c.Tokens) || a.Usage.TotalTokens != a.Usage.PromptTokens+a.Usage.CompletionTokens {
		t.Fatalf("got %+v, want text %q", a, want)
	}
	stream := strings.TrimSuffix(body, "}") + `,"stream":true,"stream_options":{"include_usage":true}}`
	chunks, done := readStream(t, post(t, t.Context(), srv.URL+"/v1/completions", stream))
	text, finish := streamText(chunks, false)
	last := chunks[len(chunks)-1]
	if !done || text != want || finish == "" || last.Usage == nil || len(last.Choices) != 0 ||
		last.Usage.CompletionTokens != a.Usage.CompletionTokens {
		t.Fatalf("stream: done %v, text %q (want %q), finish %q, last %+v", done, text, want, finish, last)
	}
	if chunks[0].Object != "text_completion" || chunks[0].ID != last.ID {
		t.Errorf("chunk shape: %+v", chunks[0])
	}
}

func greedyText(tokens []int, eos int) string {
	var b []byte
	for _, t := range tokens {
		if t == eos {
			break
		}
		b = append(b, byte(t))
	}
	return string(b)
}

func TestLLMChatStream(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is a computer?"}],
		"max_tokens":20,"seed":7,"stream":true}`, DefaultLLM)
	chunks, done := readStream(t, post(t, t.Context(), srv.URL+"/v1/chat/completions", body))
	if !done || len(chunks) < 2 || chunks[0].Object != "chat.completion.chunk" || chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Fatalf("done %v, chunks %+v", done, chunks)
	}
	text, finish := streamText(chunks, true)
	whole := decodeAnswer(t, post(t, t.Context(), srv.URL+"/v1/chat/completions", strings.Replace(body, `"stream":true`, `"stream":false`, 1)))
	if whole.Object != "chat.completion" || whole.Choices[0].Message == nil || whole.Choices[0].Message.Content != text ||
		*whole.Choices[0].FinishReason != finish {
		t.Errorf("the same seed streamed %q (%s), whole %+v", text, finish, whole.Choices[0])
	}
}

// TestLLMStop: the text ends before the stop string, which may span tokens.
func TestLLMStop(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	v := readLLMVectors(t)
	c := v.Cases[0]
	full := greedyText(c.Greedy, testLLM(t).Config.EOS)
	if len(full) < 8 {
		t.Skipf("greedy text %q too short", full)
	}
	stop := full[4:7]
	want := full[:strings.Index(full, stop)]
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":%d,"temperature":0,"stop":[%q,"zzzzzz"]}`, DefaultLLM, c.Prompt, len(c.Greedy), stop)
	a := decodeAnswer(t, post(t, t.Context(), srv.URL+"/v1/completions", body))
	if a.Choices[0].Text != want || *a.Choices[0].FinishReason != "stop" {
		t.Errorf("stop %q: %q %v, want %q", stop, a.Choices[0].Text, *a.Choices[0].FinishReason, want)
	}
	chunks, _ := readStream(t, post(t, t.Context(), srv.URL+"/v1/completions", strings.TrimSuffix(body, "}")+`,"stream":true}`))
	if text, finish := streamText(chunks, false); text != want || finish != "stop" {
		t.Errorf("stream with stop %q: %q %q, want %q", stop, text, finish, want)
	}
}

// TestLLMGeneratedLogprobs: a generated token's logprob is the log-softmax of PyTorch's
// logits, with "logprobs":0 (no alternatives) as with more; without logprobs there is
// no logprobs object.
func TestLLMGeneratedLogprobs(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	c := readLLMVectors(t).Cases[0]
	row := c.Logits[len(c.Tokens)-1]
	mx, s := math.Inf(-1), 0.0
	for _, x := range row {
		mx = max(mx, x)
	}
	for _, x := range row {
		s += math.Exp(x - mx)
	}
	want := row[c.Greedy[0]] - mx - math.Log(s)
	for _, lp := range []string{`,"logprobs":0`, `,"logprobs":2`, ``} {
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":1,"temperature":0%s}`, DefaultLLM, c.Prompt, lp)
		a := decodeAnswer(t, post(t, t.Context(), srv.URL+"/v1/completions", body))
		got := a.Choices[0].Logprobs
		if lp == "" {
			if got != nil {
				t.Errorf("no logprobs asked: %+v", got)
			}
			continue
		}
		if got == nil || len(got.TokenLogprobs) != 1 || got.TokenLogprobs[0] == nil || math.Abs(*got.TokenLogprobs[0]-want) > 1e-3 {
			t.Errorf("%s: logprobs %+v, want the token's %g", lp, got, want)
		}
	}
}

// TestLLMEchoLogprobs: max_tokens 0 with echo and logprobs scores the prompt with the
// log-softmax of PyTorch's logits.
func TestLLMEchoLogprobs(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	c := readLLMVectors(t).Cases[1]
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":0,"echo":true,"logprobs":2}`, DefaultLLM, c.Prompt)
	a := decodeAnswer(t, post(t, t.Context(), srv.URL+"/v1/completions", body))
	lp := a.Choices[0].Logprobs
	if a.Choices[0].Text != c.Prompt || lp == nil || len(lp.TokenLogprobs) != len(c.Tokens) || lp.TokenLogprobs[0] != nil {
		t.Fatalf("%+v", a.Choices[0])
	}
	for i := 1; i < len(c.Tokens); i++ {
		row := c.Logits[i-1]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = max(mx, x)
		}
		var s float64
		for _, x := range row {
			s += math.Exp(x - mx)
		}
		want := row[c.Tokens[i]] - mx - math.Log(s)
		if got := *lp.TokenLogprobs[i]; math.Abs(got-want) > 1e-3 {
			t.Errorf("token %d: logprob %g, PyTorch %g", i, got, want)
		}
		if len(lp.TopLogprobs[i]) != 2 || lp.TextOffset[i] != i {
			t.Errorf("token %d: top %v offset %d", i, lp.TopLogprobs[i], lp.TextOffset[i])
		}
	}
	if a.Usage.CompletionTokens != 0 {
		t.Errorf("usage %+v", a.Usage)
	}
}

func TestLLMBadInput(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{})
	long := strings.Repeat("x", 200)
	m := fmt.Sprintf(`"model":%q`, DefaultLLM)
	tests := []struct {
		name, path, body string
		status           int
		param            string
	}{
		{"bad JSON", "/v1/completions", `{`, 400, ""},
		{"empty body", "/v1/completions", ``, 400, ""},
		{"two values", "/v1/completions", `{` + m + `,"prompt":"a"} {}`, 400, ""},
		{"no model", "/v1/completions", `{"prompt":"a"}`, 400, "model"},
		{"unknown model", "/v1/completions", `{"model":"gpt-9","prompt":"a"}`, 404, "model"},
		{"no prompt", "/v1/completions", `{` + m + `}`, 400, "prompt"},
		{"empty prompt", "/v1/completions", `{` + m + `,"prompt":""}`, 400, "prompt"},
		{"prompt type", "/v1/completions", `{` + m + `,"prompt":5}`, 400, "prompt"},
		{"two prompts", "/v1/completions", `{` + m + `,"prompt":["a","b"]}`, 400, "prompt"},
		{"prompt too long", "/v1/completions", `{` + m + `,"prompt":"` + long + `"}`, 400, "prompt"},
		{"max_tokens type", "/v1/completions", `{` + m + `,"prompt":"a","max_tokens":"5"}`, 400, "max_tokens"},
		{"max_tokens fraction", "/v1/completions", `{` + m + `,"prompt":"a","max_tokens":1.5}`, 400, "max_tokens"},
		{"negative max_tokens", "/v1/completions", `{` + m + `,"prompt":"a","max_tokens":-1}`, 400, "max_tokens"},
		{"huge max_tokens", "/v1/completions", `{` + m + `,"prompt":"a","max_tokens":100000}`, 400, "max_tokens"},
		{"max_tokens 0 without echo", "/v1/completions", `{` + m + `,"prompt":"a","max_tokens":0}`, 400, "max_tokens"},
		{"temperature", "/v1/completions", `{` + m + `,"prompt":"a","temperature":3}`, 400, "temperature"},
		{"negative temperature", "/v1/completions", `{` + m + `,"prompt":"a","temperature":-0.1}`, 400, "temperature"},
		{"top_p zero", "/v1/completions", `{` + m + `,"prompt":"a","top_p":0}`, 400, "top_p"},
		{"top_p big", "/v1/completions", `{` + m + `,"prompt":"a","top_p":1.5}`, 400, "top_p"},
		{"n zero", "/v1/completions", `{` + m + `,"prompt":"a","n":0}`, 400, "n"},
		{"n huge", "/v1/completions", `{` + m + `,"prompt":"a","n":1000}`, 400, "n"},
		{"seed type", "/v1/completions", `{` + m + `,"prompt":"a","seed":"x"}`, 400, "seed"},
		{"stop type", "/v1/completions", `{` + m + `,"prompt":"a","stop":5}`, 400, "stop"},
		{"too many stops", "/v1/completions", `{` + m + `,"prompt":"a","stop":["a","b","c","d","e"]}`, 400, "stop"},
		{"empty stop", "/v1/completions", `{` + m + `,"prompt":"a","stop":""}`, 400, "stop"},
		{"logprobs big", "/v1/completions", `{` + m + `,"prompt":"a","logprobs":9}`, 400, "logprobs"},
		{"stream_options without stream", "/v1/completions", `{` + m + `,"prompt":"a","stream_options":{"include_usage":true}}`, 400, "stream_options"},
		{"unknown field", "/v1/completions", `{` + m + `,"prompt":"a","best_of":2}`, 400, "best_of"},
		{"penalty", "/v1/completions", `{` + m + `,"prompt":"a","presence_penalty":1}`, 400, "presence_penalty"},
		{"messages on completions", "/v1/completions", `{` + m + `,"prompt":"a","messages":[]}`, 400, "messages"},
		{"no messages", "/v1/chat/completions", `{` + m + `}`, 400, "messages"},
		{"bad role", "/v1/chat/completions", `{` + m + `,"messages":[{"role":"robot","content":"x"}]}`, 400, "messages[0].role"},
		{"content type", "/v1/chat/completions", `{` + m + `,"messages":[{"role":"user","content":5}]}`, 400, "messages.content"},
		{"prompt on chat", "/v1/chat/completions", `{` + m + `,"prompt":"a","messages":[{"role":"user","content":"x"}]}`, 400, "prompt"},
		{"top_logprobs without logprobs", "/v1/chat/completions", `{` + m + `,"messages":[{"role":"user","content":"x"}],"top_logprobs":2}`, 400, "top_logprobs"},
		{"chat too long", "/v1/chat/completions", `{` + m + `,"messages":[{"role":"user","content":"` + long + `"}]}`, 400, "prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, t.Context(), srv.URL+tt.path, tt.body)
			defer res.Body.Close()
			var e openAIError
			if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			param := ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if res.StatusCode != tt.status || e.Error.Message == "" || e.Error.Type == "" || param != tt.param {
				t.Errorf("status %d, error %+v (param %q); want %d with param %q", res.StatusCode, e.Error, param, tt.status, tt.param)
			}
		})
	}
	res, err := http.Get(srv.URL + "/v1/completions")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
		t.Errorf("GET /v1/completions: %d", res.StatusCode)
	}
}

// TestLLMBatching: concurrent streams with seeds get exactly the text each gets alone.
func TestLLMBatching(t *testing.T) {
	_, srv := llmServer(t, EngineConfig{MaxRunning: 8})
	const n = 12
	body := func(i int) string {
		return fmt.Sprintf(`{"model":%q,"prompt":%q,"max_tokens":%d,"seed":%d,"temperature":0.9,"top_p":0.95,"ignore_eos":true,"stream":true}`,
			DefaultLLM, []string{"The ", "Q:\tWhy", "A man"}[i%3], 20+i, i)
	}
	alone := make([]string, n)
	for i := range n {
		chunks, _ := readStream(t, post(t, t.Context(), srv.URL+"/v1/completions", body(i)))
		alone[i], _ = streamText(chunks, false)
	}
	together := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			chunks, _ := readStream(t, post(t, t.Context(), srv.URL+"/v1/completions", body(i)))
			together[i], _ = streamText(chunks, false)
		})
	}
	wg.Wait()
	for i := range n {
		if together[i] != alone[i] || len(alone[i]) == 0 {
			t.Errorf("stream %d: batched %q, alone %q", i, together[i], alone[i])
		}
	}
}

// TestLLMDisconnect: a client that goes away frees its cache and its sequence, and no
// goroutine is left.
func TestLLMDisconnect(t *testing.T) {
	h, srv := llmServer(t, EngineConfig{MaxRunning: 4})
	before := runtime.NumGoroutine()
	for range 5 {
		ctx, cancel := context.WithCancel(t.Context())
		res := post(t, ctx, srv.URL+"/v1/completions",
			fmt.Sprintf(`{"model":%q,"prompt":"The ","max_tokens":120,"ignore_eos":true,"stream":true,"n":2}`, DefaultLLM))
		br := bufio.NewReader(res.Body)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		cancel()
		res.Body.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, w, kv := h.Engine().Stats()
		if r == 0 && w == 0 && kv == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after disconnects: %d running, %d waiting, %d KV bytes", r, w, kv)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.CloseClientConnections()
	for time.Now().Before(deadline) && runtime.NumGoroutine() > before+2 {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines, %d before", g, before)
	}
}

// TestLLMQueueFull: beyond the batch and the queue, a request gets 429 with
// Retry-After; a request that can never fit the KV cache gets 400.
func TestLLMQueueFull(t *testing.T) {
	m := testLLM(t)
	h, srv := llmServer(t, EngineConfig{MaxRunning: 1, MaxWaiting: 1, KVCacheBytes: m.KVBytes(m.Config.Context)})
	long := fmt.Sprintf(`{"model":%q,"prompt":"The ","max_tokens":120,"ignore_eos":true,"stream":true}`, DefaultLLM)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var open []*http.Response
	for range 2 {
		res := post(t, ctx, srv.URL+"/v1/completions", long) // headers come before the first token
		open = append(open, res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r, w, _ := h.Engine().Stats(); r+w < 2; r, w, _ = h.Engine().Stats() {
		if time.Now().After(deadline) {
			t.Fatal("the two streams were not queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := post(t, t.Context(), srv.URL+"/v1/completions", long)
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("third stream: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	cancel()
	for _, r := range open {
		r.Body.Close()
	}
	h2, srv2 := llmServer(t, EngineConfig{KVCacheBytes: m.KVBytes(10)})
	res = post(t, t.Context(), srv2.URL+"/v1/completions", long)
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("a sequence larger than the cache: %d", res.StatusCode)
	}
	_ = h2
}

// FuzzDecodeCompletion: the request decoder never panics, and what it accepts fits the
// model's context and the sampling ranges.
func FuzzDecodeCompletion(f *testing.F) {
	m := testLLM(f)
	for _, s := range []string{
		`{"model":"fortune-1.8m","prompt":"The ","max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"fortune-1.8m","prompt":["a"],"echo":true,"logprobs":3,"max_tokens":0,"stop":["x","y"],"seed":-4}`,
		`{"model":"fortune-1.8m","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":2,"n":3}`,
		`{"model":"fortune-1.8m","prompt":"a","temperature":1e309}`, `[]`, `null`, `{"model":null}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		r, e := decodeCompletion(body, chat, m, DefaultLLM)
		if e != nil {
			if e.Status < 400 || e.Status >= 500 || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		if len(r.tokens) == 0 || len(r.tokens)+r.maxTokens > m.Config.Context || r.maxTokens < 0 || r.n < 1 || r.n > maxChoices ||
			r.sampling.Temperature < 0 || r.sampling.Temperature > 2 || r.sampling.TopP <= 0 || r.sampling.TopP > 1 {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// TestLLMGracefulShutdown: on shutdown an open stream runs to its end ([DONE]), new
// requests get 503 with Retry-After, and Serve returns cleanly; a stream still open at
// the end of the grace period is cut and its cache freed.
func TestLLMGracefulShutdown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		done  bool
	}{{"finishes", 30 * time.Second, true}, {"cut at the grace period", time.Millisecond, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, Config{})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			served := make(chan error, 1)
			go func() { served <- Serve(ctx, ln, h, ServerConfig{ShutdownTimeout: tc.grace}) }()
			base := "http://" + ln.Addr().String()
			// To be cut: 16 choices of the whole context, 124 steps of 16 rows, a
			// hundred times the grace period.
			tokens, n := 124, 16
			if tc.done {
				tokens, n = 40, 1
			}
			res := post(t, t.Context(), base+"/v1/completions",
				fmt.Sprintf(`{"model":%q,"prompt":"The ","max_tokens":%d,"n":%d,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`,
					DefaultLLM, tokens, n))
			for r, _, _ := h.Engine().Stats(); r == 0; r, _, _ = h.Engine().Stats() {
				time.Sleep(time.Millisecond)
			}
			stop()
			for !h.draining.Load() {
				time.Sleep(time.Millisecond)
			}
			if _, err := h.Engine().Submit(GenRequest{Prompt: []int{'a'}, MaxTokens: 1}); err != ErrDraining {
				t.Errorf("submit while draining: %v", err)
			}
			if tc.done {
				// Counted in the usage, not in chunks: a character of several bytes
				// (tokens) is one chunk.
				chunks, done := readStream(t, res)
				if last := chunks[len(chunks)-1]; !done || last.Usage == nil || last.Usage.CompletionTokens != tokens {
					t.Errorf("the open stream: [DONE] %v, last chunk %+v; want the usage of %d tokens and [DONE]", done, last, tokens)
				}
			} else {
				io.Copy(io.Discard, res.Body) //nolint:errcheck
				res.Body.Close()
			}
			err = <-served
			if tc.done != (err == nil) {
				t.Errorf("Serve: %v", err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for r, w, kv := h.Engine().Stats(); r+w > 0 || kv > 0; r, w, kv = h.Engine().Stats() {
				if time.Now().After(deadline) {
					t.Fatalf("after shutdown: %d running, %d waiting, %d KV bytes", r, w, kv)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
