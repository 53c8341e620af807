package run

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/spec"
)

func renderSpec(t *testing.T, ports, replicas string) *spec.File {
	t.Helper()
	f, err := spec.Parse("r.yaml", t.TempDir(), []byte(fmt.Sprintf(`name: r
platform: compose
service: {image: x:1, port: 8000, host_ports: %s}
request: {path: /}
grid:
  - name: g
    replicas: [%s]
    load: [{rate: 5/s}]
`, ports, replicas)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRenderFiles(t *testing.T) {
	dir := t.TempDir()
	f := renderSpec(t, "30500-30509", "1, 2")
	files, err := RenderFiles(f, RenderOptions{Dir: dir, RunID: "r-1", FixedPorts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("wrote %v, want 2 files", files)
	}
	for i, s := range f.Scenarios() {
		if files[i] != filepath.Join(dir, s.ID, "compose.yml") {
			t.Errorf("file %d is %s", i, files[i])
		}
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		want := "30500"
		if s.Replicas == 2 {
			want = "30500-30501"
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not publish %s:\n%s", s.ID, want, b)
		}
	}
}

func TestRenderFilesNoFreePorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	f := renderSpec(t, fmt.Sprintf("%d-%d", port, port), "1")
	_, err = RenderFiles(f, RenderOptions{Dir: t.TempDir(), RunID: "r-1"})
	if !errors.Is(err, render.ErrNoPorts) {
		t.Fatalf("err = %v, want render.ErrNoPorts", err)
	}
}
