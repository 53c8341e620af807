// Command llmload drives the inference service's /v1/completions with concurrent
// streams and prints one JSON line of measurements: aggregate tokens/s, p50/p99 time to
// first token and between tokens. With -abandon it opens streams, reads one token and
// hangs up, to check that the service frees what they held. It is the client of
// inference/bench/llm.sh; every run is bounded by -requests and -timeout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type result struct {
	ttft   time.Duration
	itl    []time.Duration
	tokens int
	err    error
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8000", "service base URL")
	conc := flag.Int("c", 1, "concurrent streams")
	requests := flag.Int("requests", 8, "streams in all")
	tokens := flag.Int("tokens", 64, "max_tokens of each stream (ignore_eos)")
	prompt := flag.String("prompt", "The ", "prompt")
	abandon := flag.Bool("abandon", false, "read one token of each stream, then hang up")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound of the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	body := fmt.Sprintf(`{"model":"fortune-1.8m","prompt":%q,"max_tokens":%d,"ignore_eos":true,"temperature":0,"stream":true}`, *prompt, *tokens)
	jobs := make(chan int)
	results := make(chan result, *requests)
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			for range jobs {
				results <- stream(ctx, *url+"/v1/completions", body, *abandon)
			}
		})
	}
	start := time.Now()
	for i := range *requests {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(results)
	report(results, time.Since(start), *conc)
}

func stream(ctx context.Context, url, body string, abandon bool) result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return result{err: fmt.Errorf("status %d", res.StatusCode)}
	}
	var r result
	last := sent
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			return r
		}
		var chunk struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &chunk) != nil || len(chunk.Choices) == 0 || chunk.Choices[0].Text == "" {
			continue
		}
		now := time.Now()
		if r.tokens == 0 {
			r.ttft = now.Sub(sent)
		} else {
			r.itl = append(r.itl, now.Sub(last))
		}
		last = now
		r.tokens++
		if abandon {
			return r // the deferred cancel hangs up
		}
	}
	if err := sc.Err(); err != nil {
		r.err = err
	} else {
		r.err = fmt.Errorf("the stream ended without [DONE]")
	}
	return r
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := min(len(d)-1, int(p*float64(len(d))))
	return float64(d[i].Microseconds()) / 1e3
}

func report(results <-chan result, elapsed time.Duration, conc int) {
	var ttft, itl []time.Duration
	tokens, errs, streams := 0, 0, 0
	var firstErr string
	for r := range results {
		streams++
		if r.err != nil {
			errs++
			if firstErr == "" {
				firstErr = r.err.Error()
			}
			continue
		}
		tokens += r.tokens
		ttft = append(ttft, r.ttft)
		itl = append(itl, r.itl...)
	}
	out := map[string]any{"concurrency": conc, "streams": streams, "errors": errs, "tokens": tokens,
		"seconds": elapsed.Seconds(), "tokens_per_s": float64(tokens) / elapsed.Seconds(),
		"ttft_p50_ms": pct(ttft, 0.5), "ttft_p99_ms": pct(ttft, 0.99), "itl_p50_ms": pct(itl, 0.5), "itl_p99_ms": pct(itl, 0.99)}
	if firstErr != "" {
		out["first_error"] = firstErr
	}
	json.NewEncoder(os.Stdout).Encode(out) //nolint:errcheck
}
