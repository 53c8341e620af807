package inference

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// BenchmarkLLMStream serves streaming completions over loopback HTTP, the path of a
// real client: the engine's steps, the events to the handlers, the chunks' encoding
// and one write per flush. Each op is one stream of 64 tokens; streams=N keeps N in
// flight. The client only splits the lines, so most of the CPU is the service's:
// run it pinned (taskset -c 1) with -cpuprofile to see where a token's time goes.
func BenchmarkLLMStream(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			h := newTestHandler(b, Config{Engine: EngineConfig{MaxRunning: 64, MaxWaiting: 1024}})
			srv := httptest.NewServer(h)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			body := `{"model":"fortune-1.8m","prompt":"The ","max_tokens":64,"ignore_eos":true,"stream":true}`
			jobs := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			tokens := 0
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						k, err := streamOnce(client, srv.URL, body)
						if err != nil {
							b.Error(err)
						}
						mu.Lock()
						tokens += k
						mu.Unlock()
					}
				}()
			}
			b.ResetTimer()
			for range b.N {
				jobs <- struct{}{}
			}
			close(jobs)
			wg.Wait()
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// streamOnce reads one stream and returns its events before [DONE].
func streamOnce(c *http.Client, url, body string) (int, error) {
	res, err := c.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Equal(line, []byte("data: [DONE]")) {
			return n, nil
		}
		if bytes.HasPrefix(line, []byte("data: ")) {
			n++
		}
	}
	return n, fmt.Errorf("stream ended before [DONE] after %d events: %v", n, sc.Err())
}
