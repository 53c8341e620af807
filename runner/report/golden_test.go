package report

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixture copies the fixture run directory into a temporary directory.
func fixture(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "fixture-20261128T120000Z")
	if err := os.CopyFS(dst, os.DirFS("testdata/run")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, diff(string(want), string(got)))
	}
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 10; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			shown++
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n   got: " + g + "\n")
		}
	}
	return b.String()
}

// written is the fixture run directory after Write, shared by the tests that only
// read it: drawing the plots takes seconds under the race detector.
var written = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "report-test-")
	if err != nil {
		return "", err
	}
	writtenTop = dir
	dir = filepath.Join(dir, "fixture-20261128T120000Z")
	if err := os.CopyFS(dir, os.DirFS("testdata/run")); err != nil {
		return "", err
	}
	problems, err := Write(dir)
	writtenProblems = problems
	return dir, err
})

var (
	writtenProblems []string
	writtenTop      string // removed by TestMain
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if writtenTop != "" {
		os.RemoveAll(writtenTop)
	}
	os.Exit(code)
}

func writtenFixture(t *testing.T) string {
	t.Helper()
	dir, err := written()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteGolden(t *testing.T) {
	dir := writtenFixture(t)
	problems := writtenProblems
	wantProblems := []string{
		"scenarios/replicas-r4-c0.5-none-u50/outcome.json: missing; scenario not run or interrupted, left out of the tables",
	}
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("problems:\n got %q\nwant %q", problems, wantProblems)
	}
	for _, name := range []string{ReportFile, ResultsFile, SummaryFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".golden", b)
	}
}

func TestPlotsAreImages(t *testing.T) {
	dir := writtenFixture(t)
	var pngs []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".png") {
			pngs = append(pngs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// 9 scenarios with a series (latency, throughput), 9 with stats (memory), 4
	// blocks, 1 scenario that streams (ttft, tokens) and its block (ttft).
	if want := 9*2 + 9 + 4 + 2 + 1; len(pngs) != want {
		t.Errorf("%d PNGs, want %d: %q", len(pngs), want, pngs)
	}
	// Decode one plot of each kind fully (pixels and checksums); check the
	// header of the rest (full decodes take seconds under the race detector).
	full := map[string]bool{}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		kind := filepath.Base(p)
		if strings.HasPrefix(kind, "block-") {
			kind = "block"
		}
		var size image.Point
		if !full[kind] {
			full[kind] = true
			img, err := png.Decode(f)
			if err != nil {
				t.Errorf("%s: %v", p, err)
			} else {
				size = img.Bounds().Size()
			}
		} else {
			cfg, err := png.DecodeConfig(f)
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			size = image.Pt(cfg.Width, cfg.Height)
		}
		f.Close()
		if size.X < 400 || size.Y < 200 || size.X > 2000 || size.Y > 2000 {
			t.Errorf("%s: size %v", p, size)
		}
	}
	if len(full) != 6 {
		t.Errorf("plot kinds %v, want latency, throughput, memory, ttft, tokens and block", full)
	}
}
