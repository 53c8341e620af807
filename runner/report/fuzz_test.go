package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseResults feeds arbitrary bytes to the results.csv parser: it must
// return rows or an error, never panic.
func FuzzParseResults(f *testing.F) {
	f.Add([]byte(strings.Join(Columns, ",") + "\na,1,,,none,,,,30,0,,,,,,,,0,0,0,,,,b,failed,x,,0,,,false,,,false,,\n"))
	f.Add([]byte("scenario\n\"a\nb\"\n"))
	f.Add([]byte("scenario,p99_ms\na,1\na,2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResults(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		c := Compare(r, r, DefaultCompareOptions)
		if n := c.Regressions(); n != 0 {
			t.Errorf("a file compared with itself: %d regressions", n)
		}
	})
}

// FuzzOutcome writes arbitrary bytes as a scenario's outcome.json: the report must
// render (naming the file as a problem when it is not an outcome), never panic.
func FuzzOutcome(f *testing.F) {
	seed, err := os.ReadFile("testdata/run/scenarios/memory-r1-m700M-u100/outcome.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"status":"ok","scenario":{"replicas":-3,"cpus":-1,"users":-5},"load":{"requests":5,"success_ratio":7,"endpoints":[{"requests":0}],"series":[{"t":-1}]}}`))
	f.Add([]byte(`{"status":"failed","resources":{"containers":[{},{}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, ScenariosDir, "s", OutcomeFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteWith(dir, Options{NoPlots: true}); err != nil {
			t.Fatal(err)
		}
		d, err := Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range d.Scenarios {
			// Build the plots without rasterising them.
			latencyPlot(sc.Outcome)
			throughputPlot(sc.Outcome)
			memoryPlot(sc)
		}
		for _, bl := range blocks(d) {
			blockPlot(bl)
		}
	})
}
