package docker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/label"
)

// EnvImageLabel names an environment variable holding KEY=VALUE: a label added to
// every image the runner builds, so that a CI job (or a test suite) can find and
// count the images it built among those of other jobs sharing the daemon.
const EnvImageLabel = "RUNNER_IMAGE_LABEL"

// ExtraImageLabel parses EnvImageLabel from getenv; ok is false when it is unset
// or not KEY=VALUE.
func ExtraImageLabel(getenv func(string) string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(getenv(EnvImageLabel), "=")
	if !ok || key == "" || strings.ContainsAny(key, " \t\n") {
		return "", "", false
	}
	return key, value, true
}

// contextDigest is the content digest of a build: every entry of the context tar
// (name, type, mode, link and bytes, not times or owners), the Dockerfile's name,
// and the IDs of the images it builds FROM. ok is false when a base image cannot
// be resolved locally (a FROM with a variable, or an image not present): such a
// build is never reused.
func (c *Client) contextDigest(ctx context.Context, tarball []byte, dockerfile string) (digest string, ok bool, err error) {
	h := sha256.New()
	fmt.Fprintf(h, "runner-context-v1\x00%s\x00", dockerfile)
	tr := tar.NewReader(bytes.NewReader(tarball))
	var df []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false, fmt.Errorf("cannot read the build context: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%c\x00%o\x00%s\x00%d\x00", hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, hdr.Size)
		var w io.Writer = h
		var buf bytes.Buffer
		if hdr.Name == dockerfile {
			w = io.MultiWriter(h, &buf)
		}
		if _, err := io.Copy(w, tr); err != nil {
			return "", false, fmt.Errorf("cannot read the build context: %w", err)
		}
		if hdr.Name == dockerfile {
			df = buf.Bytes()
		}
	}
	for _, base := range baseImages(df) {
		if base == "" {
			return "", false, nil
		}
		in, err := c.api.ImageInspect(ctx, base)
		if err != nil {
			return "", false, nil
		}
		fmt.Fprintf(h, "FROM %s %s\x00", base, in.ID)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), true, nil
}

// baseImages lists the images a Dockerfile builds FROM, leaving out scratch and
// earlier stages; "" stands for one it cannot name (a variable).
func baseImages(dockerfile []byte) []string {
	var out, stages []string
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		f = f[1:]
		for len(f) > 1 && strings.HasPrefix(f[0], "--") {
			f = f[1:]
		}
		ref := strings.ToLower(f[0])
		switch {
		case strings.Contains(ref, "$"):
			out = append(out, "")
		case ref == "scratch" || slices.Contains(stages, ref):
		default:
			out = append(out, f[0])
		}
		if len(f) >= 3 && strings.EqualFold(f[1], "AS") {
			stages = append(stages, strings.ToLower(f[2]))
		}
	}
	return out
}

// image is what the runner needs of an image: its ID, tags and labels.
type image struct {
	ID     string
	Tags   []string
	Labels map[string]string
}

// inspectImage returns the image ref names; ok is false when there is none.
func (c *Client) inspectImage(ctx context.Context, ref string) (image, bool, error) {
	in, err := c.api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return image{}, false, nil
	}
	if err != nil {
		return image{}, false, fmt.Errorf("cannot inspect image %s: %w", ref, err)
	}
	im := image{ID: in.ID, Tags: in.RepoTags}
	if in.Config != nil {
		im.Labels = in.Config.Labels
	}
	return im, true, nil
}

// removeReplaced removes the image a build replaced under its tag, when the
// runner built it, it has no tag left and no container uses it. It says whether
// it removed it.
func (c *Client) removeReplaced(ctx context.Context, old image) (bool, error) {
	now, ok, err := c.inspectImage(ctx, old.ID)
	if err != nil || !ok {
		return false, err
	}
	if now.Labels[label.Managed] != "true" || len(now.Tags) > 0 {
		return false, nil
	}
	used, err := c.usedImages(ctx)
	if err != nil || used[now.ID] {
		return false, err
	}
	return c.removeImage(ctx, now.ID)
}

// removeImage removes an image by ID without force, with its untagged parents; an
// image gone or in use meanwhile is not an error, and not removed.
func (c *Client) removeImage(ctx context.Context, id string) (bool, error) {
	_, err := c.api.ImageRemove(ctx, id, client.ImageRemoveOptions{PruneChildren: true})
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err), cerrdefs.IsConflict(err):
		return false, nil
	}
	return false, fmt.Errorf("cannot remove image %s: %w", shortID(id), err)
}

// usedImages is the set of image IDs some container (running or not) was created from.
func (c *Client) usedImages(ctx context.Context) (map[string]bool, error) {
	cs, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("cannot list containers: %w", err)
	}
	used := map[string]bool{}
	for _, s := range cs.Items {
		used[s.ImageID] = true
	}
	return used, nil
}

// DanglingImages lists the IDs of untagged images matching f that no container
// uses: what rebuilds left behind.
func (c *Client) DanglingImages(ctx context.Context, f Filter) ([]string, error) {
	args := f.args()
	args.Add("dangling", "true")
	ims, err := c.api.ImageList(ctx, client.ImageListOptions{Filters: args})
	if err != nil {
		return nil, fmt.Errorf("cannot list images: %w", err)
	}
	if len(ims.Items) == 0 {
		return nil, nil
	}
	used, err := c.usedImages(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range ims.Items {
		if !used[im.ID] {
			out = append(out, im.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// removeDangling removes the images DanglingImages lists.
func (c *Client) removeDangling(ctx context.Context, f Filter) error {
	ids, err := c.DanglingImages(ctx, f)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if _, err := c.removeImage(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// shortID is an image or container ID as docker prints it: 12 hex digits.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	return id[:min(12, len(id))]
}
