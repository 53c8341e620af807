package cli

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args, pos []string
		out       string
	}{
		{args: []string{"a.yaml", "--out", "x"}, pos: []string{"a.yaml"}, out: "x"},
		{args: []string{"--out", "x", "a", "b"}, pos: []string{"a", "b"}, out: "x"},
		{args: []string{"a", "--out=x", "b"}, pos: []string{"a", "b"}, out: "x"},
		{args: []string{"a", "--", "--out", "b"}, pos: []string{"a", "--out", "b"}},
		{args: nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		out := fs.String("out", "", "")
		pos, err := Interspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || *out != tt.out {
			t.Errorf("%q: %q, --out %q, %v; want %q, %q", tt.args, pos, *out, err, tt.pos, tt.out)
		}
	}
}

func TestNewFlagsAndParse(t *testing.T) {
	var stdout, stderr strings.Builder
	fs := NewFlags("demo", "Usage: runner demo FILE\n\nOptions:\nOPTIONS\nExamples:\n  runner demo a.yaml\n", &stdout)
	fs.Bool("json", false, "print JSON")
	if _, code, ok := Parse(fs, []string{"-h"}, &stderr); ok || code != ExitOK {
		t.Fatalf("-h: ok %v, exit %d", ok, code)
	}
	if got := stdout.String(); !strings.Contains(got, "Options:\n  -json\n") || !strings.HasSuffix(got, "Examples:\n  runner demo a.yaml\n") {
		t.Errorf("-h printed %q", got)
	}
	if _, code, ok := Parse(fs, []string{"--bogus"}, &stderr); ok || code != ExitUsage ||
		stderr.String() != "runner demo: flag provided but not defined: -bogus\nRun 'runner demo -h' for usage.\n" {
		t.Errorf("--bogus: ok %v, exit %d, stderr %q", ok, code, stderr.String())
	}
	stderr.Reset()
	if _, ok := OneFile(fs, []string{"a", "b"}, &stderr); ok || !strings.Contains(stderr.String(), "want one scenario FILE, got 2 arguments") {
		t.Errorf("OneFile of two: %v, %q", ok, stderr.String())
	}
}

func TestFixedFlags(t *testing.T) {
	var stdout, stderr strings.Builder
	fs := FixedFlags("demo", "Usage: runner demo\n", &stderr)
	if _, code, ok := ParseFixed(fs, []string{"--help"}, &stdout); ok || code != ExitOK || stdout.String() != "Usage: runner demo\n" {
		t.Errorf("--help: ok %v, exit %d, stdout %q", ok, code, stdout.String())
	}
	stderr.Reset()
	fs = FixedFlags("demo", "Usage: runner demo\n", &stderr)
	if _, code, ok := ParseFixed(fs, []string{"--bogus"}, &stdout); ok || code != ExitUsage || !strings.HasSuffix(stderr.String(), "Usage: runner demo\n") {
		t.Errorf("--bogus: ok %v, exit %d, stderr %q", ok, code, stderr.String())
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("name: x\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if f, code := LoadFile(path, &stderr); f != nil || code != ExitUsage || !strings.Contains(stderr.String(), "; nothing was started\n") {
		t.Errorf("LoadFile of an invalid file: exit %d, stderr %q", code, stderr.String())
	}
	if f, code := LoadFile("../../scenarios/smoke.yaml", &stderr); f == nil || code != ExitOK {
		t.Errorf("LoadFile of smoke.yaml: exit %d", code)
	}
	if Plural(1) != "" || Plural(2) != "s" {
		t.Error("Plural")
	}
}
