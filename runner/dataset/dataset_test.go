package dataset

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		json    bool
		want    []string
		wantErr string
	}{
		{name: "lines", data: "{\"a\":1}\n{\"a\":2}\n", json: true, want: []string{`{"a":1}`, `{"a":2}`}},
		{name: "no final newline, CRLF, blank lines", data: "{\"a\":1}\r\n\n  \n{\"a\":2}", json: true, want: []string{`{"a":1}`, `{"a":2}`}},
		{name: "not JSON is fine without the JSON check", data: "hello\nworld\n", want: []string{"hello", "world"}},
		{name: "bad lines with their numbers", data: "{\"a\":1}\n{\"a\":\n\n[1,]\n", json: true,
			wantErr: "p.jsonl:2: line is not a JSON value: unexpected end of JSON input\np.jsonl:4: line is not a JSON value: invalid character ']' looking for beginning of value"},
		{name: "empty", data: "", wantErr: "p.jsonl: dataset is empty: want one request body per line"},
		{name: "only blank lines", data: "\n \r\n", json: true, wantErr: "p.jsonl: dataset is empty: want one request body per line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("p.jsonl", []byte(tt.data), Options{JSON: tt.json})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range d.Len() {
				got = append(got, string(d.Line(i)))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseListsAtMostTenBadLines(t *testing.T) {
	_, err := Parse("p", []byte(strings.Repeat("x\n", 50)), Options{JSON: true})
	if n := strings.Count(err.Error(), "\n") + 1; n != maxLineErrors+1 {
		t.Fatalf("%d error lines, want %d:\n%v", n, maxLineErrors+1, err)
	}
}

func TestReadCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.jsonl")
	if err := os.WriteFile(path, bytes.Repeat([]byte("{}\n"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path, Options{MaxBytes: 299}); err == nil || !strings.Contains(err.Error(), "over the 299-byte cap") {
		t.Fatalf("error %v, want the cap", err)
	}
	d, err := Read(path, Options{MaxBytes: 300, JSON: true})
	if err != nil || d.Len() != 100 {
		t.Fatalf("len %v, error %v", d, err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestNew(t *testing.T) {
	d := New([][]byte{[]byte("a"), nil, []byte("bc")})
	if d.Len() != 3 || string(d.Line(0)) != "a" || len(d.Line(1)) != 0 || string(d.Line(2)) != "bc" {
		t.Fatal("New lost bodies")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("{\"prompt\":\"hi\",\"max_tokens\":8}\n{\"a\":[1,2]}\r\n\n"), true)
	f.Add([]byte("x\ny"), false)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		orig := bytes.Clone(data)
		d, err := Parse("f", data, Options{JSON: isJSON})
		if err != nil {
			return
		}
		var want [][]byte
		for _, l := range bytes.Split(orig, []byte{'\n'}) {
			l = bytes.TrimSuffix(l, []byte{'\r'})
			if len(bytes.TrimSpace(l)) > 0 {
				want = append(want, l)
			}
		}
		if d.Len() != len(want) {
			t.Fatalf("%d lines, want %d", d.Len(), len(want))
		}
		for i := range want {
			if !bytes.Equal(d.Line(i), want[i]) {
				t.Fatalf("line %d %q, want %q", i, d.Line(i), want[i])
			}
		}
	})
}

// BenchmarkRead1M reads a dataset of 1,000,000 lines of 1 KiB and reports the
// memory its bodies hold (data plus offsets) against the file's size: about
// 4 bytes a line over the file, where a []string would add 16 bytes of header
// and an allocation per line.
func BenchmarkRead1M(b *testing.B) {
	const lines, size = 1_000_000, 1024
	path := filepath.Join(b.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	line := append([]byte(`{"prompt":"`), bytes.Repeat([]byte("a"), size-len(`{"prompt":""}`)-1)...)
	line = append(line, "\"}\n"...)
	for range lines {
		if _, err := f.Write(line); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	var d *Dataset
	for b.Loop() {
		d, err = Read(path, Options{JSON: true})
		if err != nil || d.Len() != lines {
			b.Fatal(d.Len(), err)
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(d.Bytes())/(1<<20), "held-MiB")
	b.ReportMetric(float64(d.Bytes()-lines*size)/lines, "overhead-B/line")
	b.ReportMetric(float64(ms.HeapObjects), "heap-objects")
	runtime.KeepAlive(d)
}

func TestWeightedProportions(t *testing.T) {
	w := NewWeighted([]float64{9, 1, 0, 10}, 1)
	counts := make([]int, 4)
	const n = 200000
	for range n {
		counts[w.Next()]++
	}
	for i, want := range []float64{0.45, 0.05, 0, 0.5} {
		if got := float64(counts[i]) / n; got < want-0.01 || got > want+0.01 {
			t.Errorf("index %d: share %.3f, want %.2f", i, got, want)
		}
	}
	a, b := NewWeighted([]float64{1, 2, 3}, 5), NewWeighted([]float64{1, 2, 3}, 5)
	for range 1000 {
		if a.Next() != b.Next() {
			t.Fatal("same seed, different picks")
		}
	}
}

func TestOrder(t *testing.T) {
	c := NewOrder(3, false, 0)
	var got []int
	for range 7 {
		got = append(got, c.Next())
	}
	if fmt.Sprint(got) != "[0 1 2 0 1 2 0]" {
		t.Fatalf("cycle %v", got)
	}
	r1, r2 := NewOrder(10, true, 9), NewOrder(10, true, 9)
	counts := make([]int, 10)
	for range 100000 {
		i := r1.Next()
		if i != r2.Next() {
			t.Fatal("same seed, different picks")
		}
		counts[i]++
	}
	for i, n := range counts {
		if n < 9500 || n > 10500 {
			t.Errorf("index %d picked %d times of 100000", i, n)
		}
	}
	if NewOrder(1, true, 0).Next() != 0 || NewOrder(0, false, 0).Next() != 0 {
		t.Fatal("a single item is not index 0")
	}
}
