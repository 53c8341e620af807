package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkRequest compares one request's cost through the closed model's pool
// and through net/http's Client (what vegeta uses), on loopback.
func BenchmarkRequest(b *testing.B) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"prediction":[0.4871]}`)
	}))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("pool", func(b *testing.B) {
		dial, _ := newDialer(ctx)
		p, err := newPool(s.URL+"/predict", http.MethodGet, nil, time.Second, 1, dial)
		if err != nil {
			b.Fatal(err)
		}
		defer p.closeIdle()
		for b.Loop() {
			if code, _, _, err := p.exchange(&exchange{}, discardBody); err != nil || code != 200 {
				b.Fatal(code, err)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		c := newClient(ctx, time.Second, 1)
		for b.Loop() {
			resp, err := c.Get(s.URL + "/predict")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	})
}

// BenchmarkCollect is the collector's cost per result: aggregation and the gob
// encoding of the raw file.
func BenchmarkCollect(b *testing.B) {
	start := time.Now()
	a := newAggregator(start, time.Minute, []string{"http://127.0.0.1:1/p"}, []string{"http://127.0.0.1:1"}, true)
	enc := vegeta.NewEncoder(io.Discard)
	r := &vegeta.Result{Attack: AttackMeasure, Code: 200, Method: "GET", URL: "http://127.0.0.1:1/p", BytesIn: 40}
	var i int64
	for b.Loop() {
		i++
		r.Seq = uint64(i)
		r.Timestamp = start.Add(time.Duration(i) * 50 * time.Microsecond % time.Minute)
		r.Latency = time.Duration(i%5000) * time.Microsecond
		a.add(r, r.Latency)
		if err := enc.Encode(r); err != nil {
			b.Fatal(err)
		}
	}
}

// newClient returns a net/http client like vegeta's, whose connections all
// close when stop is cancelled. maxIdle bounds idle connections per host.
func newClient(stop context.Context, timeout time.Duration, maxIdle int) *http.Client {
	dial, _ := newDialer(stop)
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dial,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: maxIdle,
		IdleConnTimeout:     90 * time.Second,
		// Small buffers: a load generator keeps many connections whose request
		// and response headers are small (longer lines are still read whole);
		// 4 KiB each (the default) would dominate its memory with many workers.
		WriteBufferSize: 1 << 10,
		ReadBufferSize:  1 << 10,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}
