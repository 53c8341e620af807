package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader: it must never panic, and what it
// accepts must expand to unique, safe IDs.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../scenarios/*.yaml")
	more, _ := filepath.Glob("../../scenarios/examples/*.yaml")
	for _, p := range append(seeds, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(head + "grid: [{name: a, load: [{rate: {from: 1/s, to: 2/s}}]}]\n"))
	f.Add([]byte(head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 2/s, steps: 3, step_duration: 1s, precision: 5%}}]}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("grid: [{<<: [*x]}]\n"))
	f.Add([]byte("name: t\nplatform: external\ntargets: [http://x]\ngrid: [{name: a, load: [{users: 1, spawn_rate: 1e308}]}]\n"))
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "svc"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "svc", "main.go"), []byte("package main\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", dir, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error without file name: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range file.Scenarios() {
			if !idPattern.MatchString(s.ID) || seen[s.ID] {
				t.Errorf("accepted file gives bad or repeated ID %q", s.ID)
			}
			seen[s.ID] = true
			_ = s.Result()
		}
	})
}
