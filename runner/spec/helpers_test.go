package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// refused loads src as dir/f.yaml and checks that it is refused the way every
// bad file is: an error that wraps ErrInvalid, one problem per line, each
// starting with the file's name, sorted by line and column, exactly one for each
// of want (each a substring of its problem).
func refused(t *testing.T, dir, src string, want ...string) {
	t.Helper()
	f, err := loadString(t, dir, src)
	if err == nil {
		t.Fatalf("loaded without error: %+v", f)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not wrap ErrInvalid: %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("no problem contains %q:\n%v", w, err)
		}
	}
	if !slices.IsSortedFunc(lines, byPosition) {
		t.Errorf("problems are not sorted by line and column:\n%v", err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, filepath.Join(dir, "f.yaml")) {
			t.Errorf("problem %q does not start with the file name", l)
		}
	}
}
