package load

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/load/sse/ssetest"
	"github.com/infergrid/runner/runner/result"
)

// Streaming figures against a server of known timing: first token at 200ms,
// then one every 25ms, 20 tokens. The server cannot be faster than that; the
// bounds leave room for a busy machine.
func TestStreamKnownTiming(t *testing.T) {
	t.Parallel()
	const first, gap, tokens = 200 * time.Millisecond, 25 * time.Millisecond, 20
	for _, tt := range []struct {
		name string
		chat bool
		cfg  Config
	}{
		{"closed completions", false, Config{Users: 3}},
		{"closed chat", true, Config{Users: 3}},
		{"open completions poisson", false, Config{Rate: 8, Arrival: ArrivalPoisson, ArrivalSeed: 1}},
		{"open chat", true, Config{Rate: 8}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &ssetest.Server{First: first, Gap: gap, Tokens: tokens, Chat: tt.chat}
			hs := httptest.NewServer(srv)
			t.Cleanup(hs.Close)
			c := tt.cfg
			c.Targets, c.Duration, c.Timeout, c.Stream = []string{hs.URL}, 1500*time.Millisecond, 5*time.Second, true
			c.Method, c.Path, c.Bodies = http.MethodPost, "/v1/completions", [][]byte{[]byte(`{"prompt":"hi","max_tokens":20,"stream":true}`)}
			c.Goodput = &result.Goodput{TTFT: 2 * time.Second, TPOT: time.Second}
			c.StreamPath = filepath.Join(t.TempDir(), "stream.jsonl")
			l, err := Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if l.Requests == 0 || l.SuccessRatio != 1 {
				t.Fatalf("%d requests, success %.2f, errors %v", l.Requests, l.SuccessRatio, l.Errors)
			}
			st := l.Stream
			if st == nil {
				t.Fatal("no streaming figures")
			}
			within := func(name string, got, lo, hi time.Duration) {
				if got < lo || got > hi {
					t.Errorf("%s %s, want %s..%s", name, got, lo, hi)
				}
			}
			within("ttft p50", st.TTFT.P50, first, first+250*time.Millisecond)
			// A client that was descheduled reads several events at once, so the
			// gaps it sees can be shorter than the server's; their sum cannot.
			within("itl p50", st.ITL.P50, gap/2, gap+40*time.Millisecond)
			within("tpot p50", st.TPOT.P50, gap*8/10, gap+40*time.Millisecond)
			within("latency p50", l.Latency.P50, first+(tokens-1)*gap, first+(tokens-1)*gap+500*time.Millisecond)
			if st.Streams != l.Requests || st.OutputTokens != tokens*l.Requests {
				t.Errorf("%d streams, %d tokens for %d requests", st.Streams, st.OutputTokens, l.Requests)
			}
			if want := float64(st.OutputTokens) / l.Elapsed.Seconds(); st.OutputTokensPerS != want {
				t.Errorf("tokens/s %.1f, want %.1f", st.OutputTokensPerS, want)
			}
			var perSecond uint64
			for _, s := range l.Series {
				perSecond += s.Tokens
			}
			if perSecond != st.OutputTokens {
				t.Errorf("per-second tokens sum to %d, want %d", perSecond, st.OutputTokens)
			}
			if g := l.Goodput; g == nil || g.Requests != l.Requests || g.Ratio != 1 {
				t.Errorf("goodput %+v, want every request", g)
			}
			lines := readLines(t, c.StreamPath)
			if uint64(len(lines)) != l.Requests+l.WarmupRequests {
				t.Errorf("side file has %d lines for %d requests", len(lines), l.Requests+l.WarmupRequests)
			}
		})
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("side file line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// Goodput counts only the requests within its limits.
func TestStreamGoodputLimits(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(&ssetest.Server{First: 100 * time.Millisecond, Gap: 10 * time.Millisecond, Tokens: 5, Usage: true})
	t.Cleanup(hs.Close)
	c := Config{Targets: []string{hs.URL}, Users: 2, Duration: 600 * time.Millisecond, Stream: true,
		Goodput: &result.Goodput{TTFT: 50 * time.Millisecond}}
	l, err := Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if l.Goodput == nil || l.Goodput.Requests != 0 || l.Goodput.RPS != 0 {
		t.Fatalf("goodput %+v with a TTFT limit below the server's first token", l.Goodput)
	}
	if l.Stream.OutputTokens != 5*l.Requests {
		t.Fatalf("%d tokens (usage says 5 each) for %d requests", l.Stream.OutputTokens, l.Requests)
	}
}

// Every failure of a stream is an error with its own message.
func TestStreamErrors(t *testing.T) {
	t.Parallel()
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"text":"all at once"}]}`)
	})
	status := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	malformed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"text\":\n\n")
	})
	huge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+strings.Repeat("x", 2<<20)+"\n\n")
	})
	for _, tt := range []struct {
		name string
		h    http.Handler
		want string
	}{
		{"not an event stream", plain, `stream: answer is not an event stream (Content-Type "application/json")`},
		{"status", status, "503 Service Unavailable"},
		{"no [DONE]", &ssetest.Server{Tokens: 3, NoDone: true}, "stream: ended without [DONE]"},
		{"malformed", malformed, "stream: malformed event: data is not valid JSON"},
		{"line over the cap", huge, "stream: event line too long: over 1048576 bytes"},
		{"hangs mid-stream", &ssetest.Server{Tokens: 10, Gap: time.Millisecond, HangAfter: 3}, "stream: stalled: no byte for 300ms"},
		{"streams forever", &ssetest.Server{Gap: 5 * time.Millisecond, Forever: true}, errStreamTooLong.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(tt.h)
			t.Cleanup(hs.Close)
			c := Config{Targets: []string{hs.URL}, Users: 1, Duration: time.Second, Timeout: 300 * time.Millisecond, Stream: true}
			if tt.name == "line over the cap" {
				c.Timeout = 5 * time.Second // 2 MiB on a busy machine
			}
			l, err := Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if l.Requests == 0 || l.SuccessRatio != 0 {
				t.Fatalf("%d requests, success %.2f", l.Requests, l.SuccessRatio)
			}
			for m := range l.Errors {
				if !strings.Contains(m, tt.want) {
					t.Errorf("error %q, want %q", m, tt.want)
				}
			}
		})
	}
}

// Cancelling a run closes every open stream at once.
func TestStreamCancelClosesStreams(t *testing.T) {
	t.Parallel()
	srv := &ssetest.Server{Gap: 10 * time.Millisecond, Forever: true}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for srv.Open.Load() < 20 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	c := Config{Targets: []string{hs.URL}, Users: 20, Duration: time.Minute, Timeout: time.Minute, Stream: true}
	_, err := Run(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("error %v, want a cancellation", err)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Open.Load() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still open after the run returned", srv.Open.Load())
		}
	}
}

// A mix sends each entry in proportion to its weight, each to its own path,
// and counts each name apart; a dataset's bodies are all sent.
func TestMixAndDataset(t *testing.T) {
	t.Parallel()
	var mu = make(chan struct{}, 1)
	paths, bodies := map[string]int{}, map[string]int{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu <- struct{}{}
		paths[r.URL.Path]++
		bodies[string(b)]++
		<-mu
	}))
	t.Cleanup(hs.Close)
	c := Config{Targets: []string{hs.URL}, Users: 4, Duration: 2 * time.Second, MixSeed: 3,
		Requests: []Request{
			{Name: "a", Weight: 3, Path: "/a", Method: http.MethodPost, Bodies: [][]byte{[]byte("1"), []byte("2")}},
			{Name: "b", Weight: 1, Path: "/b"},
		}}
	l, err := Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	n := paths["/a"] + paths["/b"]
	if n < 150 {
		t.Fatalf("only %d requests", n)
	}
	if share := float64(paths["/a"]) / float64(n); share < 0.65 || share > 0.85 { // 4 SD at n=150
		t.Errorf("share of /a %.3f, want 0.75", share)
	}
	if d := bodies["1"] - bodies["2"]; d < -1 || d > 1 {
		t.Errorf("bodies 1 and 2 sent %d and %d times, want in turn", bodies["1"], bodies["2"])
	}
	if len(l.ByName) != 2 || l.ByName[0].Name != "a" || l.ByName[0].Requests+l.ByName[1].Requests != l.Requests {
		t.Errorf("per-name counts %+v for %d requests", l.ByName, l.Requests)
	}
	if len(l.Endpoints) != 1 || l.Endpoints[0].Requests != l.Requests {
		t.Errorf("endpoints %+v for %d requests", l.Endpoints, l.Requests)
	}
}

// The live progress of a streaming load carries the last second's TTFT, ITL
// and tokens per second; a load that does not stream carries none.
func TestStreamProgress(t *testing.T) {
	t.Parallel()
	const first, gap, tokens = 100 * time.Millisecond, 20 * time.Millisecond, 10
	hs := httptest.NewServer(&ssetest.Server{First: first, Gap: gap, Tokens: tokens})
	t.Cleanup(hs.Close)
	for _, stream := range []bool{true, false} {
		var live []LiveStream
		c := Config{Targets: []string{hs.URL}, Users: 2, Duration: 2500 * time.Millisecond, Timeout: 5 * time.Second, Stream: stream,
			Method: http.MethodPost, Path: "/v1/completions", Bodies: [][]byte{[]byte(`{"prompt":"hi","max_tokens":10,"stream":true}`)},
			Progress: func(p Progress) {
				if p.Stream != nil {
					live = append(live, *p.Stream)
				}
			}}
		if _, err := Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if !stream {
			if len(live) > 0 {
				t.Errorf("a load that does not stream reported live streaming figures: %+v", live)
			}
			continue
		}
		if len(live) == 0 {
			t.Fatal("no live streaming figures in 2.5s of streams of 0.3s")
		}
		for _, l := range live {
			if l.TTFTP50 < first || l.TTFTP99 < l.TTFTP50 || l.ITLP50 <= 0 || l.ITLP99 < l.ITLP50 || l.TokensPerSecond <= 0 {
				t.Errorf("live figures %+v: want TTFT >= %s, ITL > 0, ordered percentiles, tokens/s > 0", l, first)
			}
		}
	}
}
