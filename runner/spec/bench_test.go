package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseWorkshop measures loading, validating and expanding workshop5.yaml
// (18 scenarios).
func BenchmarkParseWorkshop(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cmd", "inference"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmd", "inference", "main.go"), []byte("package main\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "scenarios"), os.DirFS("../../scenarios")); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, "scenarios", "workshop5.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := Parse(p, filepath.Dir(p), data)
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Scenarios()) != 18 {
			b.Fatal("want 18 scenarios")
		}
	}
}
