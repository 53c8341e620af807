package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/platform"
)

// ScratchDockerfile is the Dockerfile generated for a Go main package: the static
// binary alone, as /app.
const ScratchDockerfile = "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"

// ImageExists reports whether the daemon has the image.
func (c *Client) ImageExists(ctx context.Context, image string) (bool, error) {
	_, err := c.api.ImageInspect(ctx, image)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// BuildImage makes b.Image available: with b.Dir empty the image must exist (no
// registry is assumed); a b.Dir with a Dockerfile is built as is; a b.Dir holding a
// Go main package is compiled statically for the daemon's architecture and built
// FROM scratch. Built images carry label.Managed, label.Run, label.Context (the
// content digest of the build) and the label EnvImageLabel names, if set.
//
// An image of that name with the same content digest is reused as it is, so that
// repeated runs do not pile up images; a rebuild removes the image it replaced
// when the runner built it and nothing uses it any more.
func (c *Client) BuildImage(ctx context.Context, b platform.Build) error {
	if b.Image == "" {
		return errors.New("build: no image name")
	}
	if b.Dir == "" {
		ok, err := c.ImageExists(ctx, b.Image)
		if err != nil {
			return fmt.Errorf("cannot inspect image %s: %w", b.Image, err)
		}
		if !ok {
			return fmt.Errorf("image %s does not exist and no build folder is given (images are never pulled)", b.Image)
		}
		return nil
	}
	tarball, err := c.buildContext(ctx, b.Dir)
	if err != nil {
		return err
	}
	digest, reusable, err := c.contextDigest(ctx, tarball, "Dockerfile")
	if err != nil {
		return err
	}
	old, had, err := c.inspectImage(ctx, b.Image)
	if err != nil {
		return err
	}
	if had && reusable && old.Labels[label.Managed] == "true" && old.Labels[label.Context] == digest {
		return nil
	}
	labels := map[string]string{label.Managed: "true"}
	if b.RunID != "" {
		labels[label.Run] = b.RunID
	}
	if reusable {
		labels[label.Context] = digest
	}
	if k, v, ok := ExtraImageLabel(os.Getenv); ok {
		labels[k] = v
	}
	if err := c.build(ctx, tarball, b, labels); err != nil {
		return err
	}
	if had {
		if _, err := c.removeReplaced(ctx, old); err != nil {
			return fmt.Errorf("built image %s, but %w", b.Image, err)
		}
	}
	return nil
}

// buildContext packs dir as a build context: as it is when it has a Dockerfile,
// else the static binary of its Go main package FROM scratch.
func (c *Client) buildContext(ctx context.Context, dir string) ([]byte, error) {
	ctxDir := dir
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		if !platform.IsGoMain(dir) {
			return nil, fmt.Errorf("cannot build %s: it has no Dockerfile and is not a Go main package", dir)
		}
		tmp, err := os.MkdirTemp("", "runner-build-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := platform.BuildGo(ctx, dir, filepath.Join(tmp, "app"), "linux", c.Arch); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, "Dockerfile"), []byte(ScratchDockerfile), 0o644); err != nil {
			return nil, err
		}
		ctxDir = tmp
	}
	var buf bytes.Buffer
	if err := tarDir(&buf, ctxDir); err != nil {
		return nil, fmt.Errorf("cannot pack build context %s: %w", dir, err)
	}
	return buf.Bytes(), nil
}

// build sends the context to the daemon and tags the result b.Image. A build
// whose cached layer another client removed under it (docker rmi of an image
// sharing those layers, which prunes its untagged parents) fails with a missing
// digest; it is retried, and the daemon then rebuilds what it no longer has.
func (c *Client) build(ctx context.Context, tarball []byte, b platform.Build, labels map[string]string) error {
	err := retryVanished(buildAttempts, func() error { return c.buildOnce(ctx, tarball, b, labels) })
	if err != nil {
		return fmt.Errorf("cannot build image %s from %s: %w", b.Image, b.Dir, err)
	}
	return nil
}

// buildAttempts bounds the tries of a build whose cache vanished: a retry
// rebuilds the removed layers, so only another removal during that build makes
// it fail again.
const buildAttempts = 3

// retryVanished calls f up to attempts times while it fails because a layer it
// used vanished.
func retryVanished(attempts int, f func() error) error {
	var err error
	for range attempts {
		if err = f(); err == nil || !layerVanished(err) {
			return err
		}
	}
	return err
}

// layerVanished reports whether a build failed because an image it built on was
// removed meanwhile: the classic builder then cannot read the parent's digest.
func layerVanished(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to get digest") || strings.Contains(msg, "No such image: sha256:")
}

func (c *Client) buildOnce(ctx context.Context, tarball []byte, b platform.Build, labels map[string]string) error {
	res, err := c.api.ImageBuild(ctx, bytes.NewReader(tarball), client.ImageBuildOptions{
		Tags:        []string{b.Image},
		Labels:      labels,
		Remove:      true,
		ForceRemove: true,
		Dockerfile:  "Dockerfile",
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return readBuildOutput(res.Body)
}

// readBuildOutput drains the daemon's JSON build stream and returns its error, with
// the last output lines.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading build output: %w", err)
		}
		for _, line := range strings.Split(strings.TrimRight(m.Stream, "\n"), "\n") {
			if line != "" {
				tail = append(tail, line)
			}
		}
		if len(tail) > 20 {
			tail = tail[len(tail)-20:]
		}
		if m.Error != nil {
			return fmt.Errorf("%s\n%s", m.Error.Message, strings.Join(tail, "\n"))
		}
	}
}

// tarDir writes dir as a tar stream (the build context), leaving out .git.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		} else if !info.Mode().IsRegular() && !info.IsDir() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
