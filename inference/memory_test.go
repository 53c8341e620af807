package inference

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestMemoryProfile checks that the memory knobs hold real, allocated memory: the
// model's for the handler's lifetime, and each request's while it is served.
func TestMemoryProfile(t *testing.T) {
	const modelBytes, requestBytes = 64 << 20, 16 << 20
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	h := newTestHandler(t, Config{ModelMemoryBytes: modelBytes, RequestMemoryBytes: requestBytes})
	// Other garbage may be collected meanwhile: allow 1 MiB of it.
	if grown := int64(heap()) - int64(before); grown < modelBytes-1<<20 {
		t.Errorf("heap grew by %d bytes with a %d-byte model memory", grown, modelBytes)
	}
	body := `{"features":[` + strings.TrimSuffix(strings.Repeat("0,", 64), ",") + `]}`
	var total uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total = ms.TotalAlloc
	if res := do(t, h, http.MethodPost, "/predict", "application/json", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("predict: %s", res.Status)
	}
	runtime.ReadMemStats(&ms)
	if got := ms.TotalAlloc - total; got < requestBytes {
		t.Errorf("a request allocated %d bytes, want at least its %d of working memory", got, requestBytes)
	}
	runtime.KeepAlive(h)

	if _, err := NewHandler(Config{RequestMemoryBytes: -1}); err == nil {
		t.Error("negative request memory: no error")
	}
}
