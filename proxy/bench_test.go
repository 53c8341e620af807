package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkRoundTrip compares one POST sent to a backend directly with the same
// request through the proxy (round_robin and least_conn over 3 backends), over
// loopback with keep-alive connections: the difference is the proxy's cost.
func BenchmarkRoundTrip(b *testing.B) {
	body := strings.Repeat(`{"features":[0,1,2,3,4,5,6,7]}`, 8)
	var backends []string
	for range 3 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, `{"class":2}`)
		}))
		b.Cleanup(s.Close)
		backends = append(backends, strings.TrimPrefix(s.URL, "http://"))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, url string) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("direct", func(b *testing.B) { run(b, "http://"+backends[0]+"/predict") })
	for _, policy := range Policies {
		b.Run("proxy-"+policy, func(b *testing.B) {
			p, err := New(Config{Static: backends, Policy: policy})
			if err != nil {
				b.Fatal(err)
			}
			front := httptest.NewServer(p)
			b.Cleanup(front.Close)
			run(b, front.URL+"/predict")
		})
	}
}

// BenchmarkPick is the cost of choosing an upstream among 6.
func BenchmarkPick(b *testing.B) {
	for _, policy := range Policies {
		b.Run(policy, func(b *testing.B) {
			p, err := New(Config{Static: []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1", "10.0.0.5:1", "10.0.0.6:1"}, Policy: policy})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				p.pick(nil)
			}
		})
	}
}
