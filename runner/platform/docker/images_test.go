package docker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
)

func TestBaseImages(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		want             []string
	}{
		{"scratch", "FROM scratch\nCOPY app /app\n", nil},
		{"one base", "# comment\nfrom debian:12 \nRUN true\n", []string{"debian:12"}},
		{"platform flag", "FROM --platform=linux/amd64 python-base:local AS build\n", []string{"python-base:local"}},
		{"stages", "FROM golang:1 AS build\nRUN go build\nFROM build AS test\nFROM scratch\nCOPY --from=build /app /app\n", []string{"golang:1"}},
		{"variable", "ARG BASE=debian\nFROM ${BASE}\n", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := baseImages([]byte(tt.dockerfile)); !slices.Equal(got, tt.want) {
				t.Errorf("baseImages = %q, want %q", got, tt.want)
			}
		})
	}
}

// digestOf packs dir and returns its content digest (FROM scratch needs no daemon).
func digestOf(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tarDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	d, ok, err := (&Client{}).contextDigest(t.Context(), buf.Bytes(), "Dockerfile")
	if err != nil || !ok {
		t.Fatalf("contextDigest: %v, %v", ok, err)
	}
	return d
}

func TestContextDigest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY a /a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	first := digestOf(t, dir)
	// Touching a file (what a fresh checkout or a rebuild of a binary does) keeps the digest.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "a"), later, later)
	if got := digestOf(t, dir); got != first {
		t.Errorf("digest changed with a file's time: %s, then %s", first, got)
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("two"), 0o644)
	if got := digestOf(t, dir); got == first {
		t.Error("digest did not change with a file's content")
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	os.Chmod(filepath.Join(dir, "a"), 0o755)
	if got := digestOf(t, dir); got == first {
		t.Error("digest did not change with a file's mode")
	}
}

func TestExtraImageLabel(t *testing.T) {
	for in, want := range map[string]string{"ci.job=42": "ci.job|42", "k=": "k|", "": "", "novalue": "", "=v": "", "a b=c": ""} {
		k, v, ok := ExtraImageLabel(func(string) string { return in })
		got := ""
		if ok {
			got = k + "|" + v
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// imageID is the ID of ref, or "" when there is none.
func imageID(t *testing.T, c *Client, ref string) string {
	t.Helper()
	im, ok, err := c.inspectImage(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return im.ID
}

// TestRebuildLeavesNoDanglingImage builds the same context twice (the second time
// for another run): the image is reused. A changed context replaces the image and
// removes the old one; an old image a container still uses stays, is not listed
// as dangling until the container is gone, and Sweep then removes it.
func TestRebuildLeavesNoDanglingImage(t *testing.T) {
	c := needDocker(t)
	ctx := t.Context()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY a /a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	image := fmt.Sprintf("infergrid-runner-rebuild:%d", os.Getpid())
	run := testRun + "-rebuild"
	t.Cleanup(func() {
		exec.Command("docker", "rmi", image).Run()
		c.Sweep(context.Background(), Filter{label.Run: run})
	})
	build := func(runID string) string {
		t.Helper()
		if err := c.BuildImage(ctx, platform.Build{Dir: dir, Image: image, RunID: runID}); err != nil {
			t.Fatal(err)
		}
		return imageID(t, c, image)
	}
	dangling := func() []string {
		t.Helper()
		ids, err := c.DanglingImages(ctx, Filter{label.Run: run})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	first := build(run)
	if second := build(run + "-2"); second != first {
		t.Errorf("identical context: image %s, then %s; want it reused", first, second)
	}

	os.WriteFile(filepath.Join(dir, "a"), []byte("two"), 0o644)
	changed := build(run)
	if changed == first {
		t.Fatal("a changed context reused the old image")
	}
	if imageID(t, c, first) != "" {
		t.Errorf("the replaced image %s is still there", shortID(first))
	}

	// A container from the current image keeps it when the next build replaces it.
	cr, err := c.api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: changed, Cmd: []string{"/a"}, Labels: map[string]string{label.Run: run}},
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("three"), 0o644)
	build(run)
	if imageID(t, c, changed) == "" {
		t.Fatal("the build removed an image a container uses")
	}
	if ids := dangling(); len(ids) != 0 {
		t.Errorf("DanglingImages lists %v, which a container uses", ids)
	}
	if _, err := c.api.ContainerRemove(ctx, cr.ID, client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if ids := dangling(); !slices.Equal(ids, []string{changed}) {
		t.Errorf("DanglingImages = %v, want the replaced image %s", ids, changed)
	}
	left, err := c.Leftovers(ctx, Filter{label.Run: run})
	if err != nil || !slices.Equal(left, []string{"image " + shortID(changed) + " (dangling)"}) {
		t.Errorf("Leftovers = %v, %v", left, err)
	}
	if err := c.Sweep(ctx, Filter{label.Run: run}); err != nil {
		t.Fatal(err)
	}
	if ids := dangling(); len(ids) != 0 || imageID(t, c, changed) != "" {
		t.Errorf("after Sweep: dangling %v", ids)
	}
}

// TestRebuildGoMainReused builds a Go main package twice: go build -trimpath is
// reproducible, so the second run reuses the image.
func TestRebuildGoMainReused(t *testing.T) {
	c := needDocker(t)
	image := fmt.Sprintf("infergrid-runner-gorebuild:%d", os.Getpid())
	t.Cleanup(func() { exec.Command("docker", "rmi", image).Run() })
	var ids []string
	for _, run := range []string{testRun, testRun + "-2"} {
		if err := c.BuildImage(t.Context(), platform.Build{Dir: "../testdata/testsvc", Image: image, RunID: run}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, imageID(t, c, image))
	}
	if ids[0] != ids[1] {
		t.Errorf("image %s, then %s: want it reused", ids[0], ids[1])
	}
	out, _ := exec.Command("docker", "image", "inspect", "-f", `{{index .Config.Labels "`+label.Context+`"}}`, image).Output()
	if !strings.HasPrefix(string(out), "sha256:") {
		t.Errorf("context label %q", out)
	}
}
