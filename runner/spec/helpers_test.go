package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// repoScenarios copies the repository's scenarios folder into a temporary tree that
// also holds a Go main package at cmd/inference, so the scenario files validate
// whether or not the real service is checked out next to them.
func repoScenarios(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "scenarios"), os.DirFS("../../scenarios")); err != nil {
		t.Fatal(err)
	}
	inf := filepath.Join(root, "cmd", "inference")
	if err := os.MkdirAll(inf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inf, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "scenarios")
}

// write puts files (name -> content) into a new temporary folder and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
