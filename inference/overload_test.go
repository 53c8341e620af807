package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/infergrid/runner/runner/load"
)

// auditor passes every request to the real handler and checks each 503 /predict
// answer as it goes on the wire: the JSON error code and Retry-After. It counts
// every other 5xx, on any path.
type auditor struct {
	h        *Handler
	shed     atomic.Int64 // well-formed 503 overloaded answers
	badShed  atomic.Int64 // 503 answers without the overload code or Retry-After
	other5xx atomic.Int64
	mu       sync.Mutex
	problems []string // the first few bad answers, for the failure message
}

func (a *auditor) Drain() { a.h.Drain() }

func (a *auditor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	a.h.ServeHTTP(rec, r)
	switch {
	case rec.code == http.StatusServiceUnavailable && r.URL.Path == "/predict":
		var e apiError
		err := json.Unmarshal(rec.body.Bytes(), &e)
		if ra := w.Header().Get("Retry-After"); err != nil || e.Code != CodeOverloaded || ra == "" {
			a.badShed.Add(1)
			a.note(fmt.Sprintf("503 with body %q, Retry-After %q", rec.body.String(), ra))
			return
		}
		a.shed.Add(1)
	case rec.code >= 500:
		a.other5xx.Add(1)
		a.note(fmt.Sprintf("%s %s: %d %q", r.Method, r.URL.Path, rec.code, rec.body.String()))
	}
}

func (a *auditor) note(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.problems) < 5 {
		a.problems = append(a.problems, s)
	}
}

// recorder keeps the status and the start of the body of an answer it passes on.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.body.Len() < 1024 {
		r.body.Write(b[:min(len(b), 1024-r.body.Len())])
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// liveHeap returns the bytes of live heap objects after a full collection (two, so
// that sync.Pool's victim cache is emptied too).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestOverloadShedsAndRecovers measures the real server's capacity with a small
// in-flight limit, then sends twice that rate, twice: the excess is shed with 503
// overloaded and Retry-After, nothing else fails, /health answers throughout, the
// service serves again at once afterwards with no request left in flight, and the
// second burst leaves no more live heap than the first (a per-request leak would).
func TestOverloadShedsAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("sends load for about 10 s; skipped with -short")
	}
	const (
		burstTime  = 3 * time.Second
		maxWorkers = 32
		// The live heap varies by a few tens of KiB between bursts; a leak of a
		// few KiB per request (a body, a buffer, a goroutine's state) over a burst
		// of hundreds (-race) to thousands of requests exceeds this.
		heapSlack = 1 << 20
	)
	// The server and the load generator share this process: a limit of half the
	// CPUs (1 on 2 CPUs) leaves the other half to the generator, so that it can
	// send twice what the server serves.
	maxInFlight := max(1, min(4, runtime.GOMAXPROCS(0)/2))
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := &auditor{h: newTestHandler(t, Config{Model: "large", MaxInFlight: maxInFlight, Logger: log})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idle := runtime.NumGoroutine() + 2 // with Serve and http.Server.Serve
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, a, ServerConfig{Logger: log}) }()
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-served:
			t.Fatalf("%s: the server stopped: %v", when, err)
		default:
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	// A batch of 10 instances of the large model: milliseconds of CPU per request,
	// so that the capacity is hundreds of requests per second and the generator
	// spends little CPU next to the server's.
	body := []byte(testdata(t, "predict-batch.json"))
	cfg := load.Config{
		Targets: []string{base},
		Method:  http.MethodPost,
		Path:    "/predict",
		Header:  http.Header{"Content-Type": {"application/json"}},
		Bodies:  [][]byte{body},
		Timeout: 10 * time.Second,
	}

	// Capacity: as many closed-model users as the limit, without think time, keep
	// it full without ever exceeding it.
	cc := cfg
	cc.Users, cc.Warmup, cc.Duration = maxInFlight, 500*time.Millisecond, 1500*time.Millisecond
	capacity, err := load.Run(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	if capacity.SuccessRatio != 1 || capacity.ThroughputRPS <= 0 {
		t.Fatalf("at the in-flight limit: success %.3f, %.0f/s, codes %v, errors %v",
			capacity.SuccessRatio, capacity.ThroughputRPS, capacity.StatusCodes, capacity.Errors)
	}
	rate := 2 * capacity.ThroughputRPS
	t.Logf("capacity at %d in flight: %.0f requests/s; overload at %.0f/s", maxInFlight, capacity.ThroughputRPS, rate)
	alive("capacity")
	// settle waits (a while at most) for the server to end the goroutines of the
	// connections the generator closed, then measures the live heap.
	settle := func() (uint64, int) {
		client.CloseIdleConnections()
		for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > idle && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		return liveHeap(), runtime.NumGoroutine()
	}
	heap0, goroutines0 := settle()

	var shedByClient uint64
	burst := func(n int) {
		// /health is polled through the whole burst.
		stop := make(chan struct{})
		var healthOK, healthBad int
		var healthErr string
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			for {
				res, err := client.Get(base + "/health")
				switch {
				case err != nil:
					healthBad++
					healthErr = err.Error()
				case res.StatusCode != http.StatusOK:
					healthBad++
					healthErr = res.Status
				default:
					healthOK++
				}
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		oc := cfg
		oc.Rate, oc.Duration, oc.MaxWorkers = rate, burstTime, maxWorkers
		l, err := load.Run(ctx, oc)
		close(stop)
		<-polled
		if err != nil {
			t.Fatalf("burst %d: %v", n, err)
		}
		t.Logf("burst %d: %d requests at %.0f/s (asked %.0f/s), codes %v, errors %v; /health %d ok",
			n, l.Requests, l.RateRPS, rate, l.StatusCodes, l.Errors, healthOK)
		alive(fmt.Sprintf("burst %d", n))
		shed := l.StatusCodes["503"]
		shedByClient += shed
		if shed == 0 || l.StatusCodes["200"] == 0 {
			t.Errorf("burst %d at twice the capacity: %d shed with 503, %d served, want both", n, shed, l.StatusCodes["200"])
		}
		if got := l.StatusCodes["200"] + shed; got != l.Requests {
			t.Errorf("burst %d: %d of %d requests got neither 200 nor 503: codes %v, errors %v",
				n, l.Requests-got, l.Requests, l.StatusCodes, l.Errors)
		}
		if healthBad > 0 || healthOK == 0 {
			t.Errorf("burst %d: /health answered 200 %d times, failed %d times (last: %s)", n, healthOK, healthBad, healthErr)
		}

		// Recovery: the next prediction is served, and nothing is left in flight.
		res, err := client.Post(base+"/predict", "application/json", strings.NewReader(testdata(t, "predict.json")))
		if err != nil {
			t.Fatalf("after burst %d: %v", n, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("after burst %d: a single prediction got %s, want 200", n, res.Status)
		}
		m := scrape(t, client, base)
		if m["inference_predict_requests_in_flight"] != 0 || m["inference_http_requests_in_flight"] != 1 {
			t.Errorf("after burst %d: %v predictions and %v requests in flight, want 0 and 1 (the scrape)", n,
				m["inference_predict_requests_in_flight"], m["inference_http_requests_in_flight"])
		}
		for series, v := range m {
			if strings.HasPrefix(series, "inference_http_requests_total{") && v > 0 {
				code, _ := strconv.Atoi(series[strings.Index(series, `code="`)+6 : strings.LastIndex(series, `"`)])
				if code >= 500 && !(code == 503 && strings.Contains(series, `handler="/predict"`)) {
					t.Errorf("after burst %d: %s = %v", n, series, v)
				}
			}
		}
		if got := m[`inference_http_requests_total{code="503",handler="/predict"}`]; got < float64(shedByClient) {
			t.Errorf("after burst %d: the server counts %v answers 503, the load generator got %d", n, got, shedByClient)
		}
	}

	burst(1)
	heap1, goroutines1 := settle()
	burst(2)
	heap2, goroutines2 := settle()
	t.Logf("live heap %.2f MiB before, %.2f MiB after burst 1, %.2f MiB after burst 2; goroutines %d, %d, %d",
		mib(heap0), mib(heap1), mib(heap2), goroutines0, goroutines1, goroutines2)
	if heap2 > heap1+heapSlack {
		t.Errorf("the live heap grew by %.2f MiB over the second burst, want at most %.0f MiB: memory grows with requests",
			mib(heap2-heap1), mib(heapSlack))
	}
	if goroutines2 > goroutines1+8 { // a goroutine per request would be thousands
		t.Errorf("goroutines grew from %d to %d over the second burst", goroutines1, goroutines2)
	}

	if n := a.badShed.Load(); n > 0 {
		t.Errorf("%d answers 503 lack the overload code or Retry-After: %v", n, a.problems)
	}
	if n := a.other5xx.Load(); n > 0 {
		t.Errorf("%d answers 5xx other than 503 overloaded: %v", n, a.problems)
	}
	if a.shed.Load() < int64(shedByClient) {
		t.Errorf("the server shed %d requests, the load generator saw %d answers 503", a.shed.Load(), shedByClient)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the service logged errors:\n%s", logs.String())
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// scrape returns the samples of GET /metrics by series, labels sorted by name.
func scrape(t *testing.T, client *http.Client, base string) map[string]float64 {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			series := name
			if len(m.Label) > 0 {
				var ls []string
				for _, l := range m.Label {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				slices.Sort(ls)
				series += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[series] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[series] = m.Gauge.GetValue()
			}
		}
	}
	return out
}
