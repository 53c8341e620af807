package load

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestResultsTruncated: a raw results file cut at any byte (a crash mid-write)
// still decodes every record before the cut, and no more.
func TestResultsTruncated(t *testing.T) {
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	var ends []int
	t0 := time.Now()
	for i := range 8 {
		r := vegeta.Result{Attack: "a", Seq: uint64(i), Code: 200, Timestamp: t0.Add(time.Duration(i) * time.Millisecond), Latency: time.Millisecond, URL: "http://127.0.0.1/predict", Method: "POST"}
		if i%3 == 0 {
			r.Code, r.Error = 0, "connection refused"
		}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, buf.Len())
	}
	full := buf.Bytes()
	path := filepath.Join(t.TempDir(), "results.gob")
	for cut := 0; cut <= len(full); cut++ {
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, e := range ends {
			if e <= cut {
				want++
			}
		}
		n, err := CountResults(path)
		if n != want {
			t.Fatalf("cut at byte %d of %d: %d records, want %d (err %v)", cut, len(full), n, want, err)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at byte %d: %v, want a clean end or io.ErrUnexpectedEOF", cut, err)
		}
	}
}
