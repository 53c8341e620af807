package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/client"
)

// CopyImage copies image from this daemon to the daemon of to, as
// `docker save IMAGE | docker -H TO load` does, streaming: no registry and no
// file in between.
func (c *Client) CopyImage(ctx context.Context, image string, to *Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	saved, err := c.api.ImageSave(ctx, []string{image})
	if err != nil {
		return fmt.Errorf("cannot save image %s from %s: %w", image, c.Host(), err)
	}
	defer saved.Close()
	loaded, err := to.api.ImageLoad(ctx, saved, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("cannot load image %s into %s: %w", image, to.Host(), err)
	}
	defer loaded.Close()
	if err := readBuildOutput(loaded); err != nil {
		return fmt.Errorf("cannot load image %s into %s: %w", image, to.Host(), err)
	}
	_, err = io.Copy(io.Discard, loaded)
	return err
}
