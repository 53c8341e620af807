package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/platform"
)

// Client is a connection to one Docker daemon.
type Client struct {
	api *client.Client
	// Version and Arch describe the daemon (e.g. "20.10.24", "amd64"); APIVersion is
	// the negotiated API version.
	Version, Arch, APIVersion string
}

// New connects to the daemon named by the environment (DOCKER_HOST etc., else the
// local socket), negotiates the API version and checks that the daemon answers
// within a few seconds. Any failure wraps platform.ErrUnavailable.
func New(ctx context.Context) (*Client, error) { return NewAt(ctx, "") }

// NewAt connects like New to the daemon at host (tcp://HOST:PORT,
// unix:///PATH); an empty host means the environment's.
func NewAt(ctx context.Context, host string) (*Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: docker client: %w", platform.ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, fmt.Errorf("%w: no Docker daemon answers at %s: %w", platform.ErrUnavailable, api.DaemonHost(), err)
	}
	v, err := api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		api.Close()
		return nil, fmt.Errorf("%w: docker version: %w", platform.ErrUnavailable, err)
	}
	return &Client{api: api, Version: v.Version, Arch: v.Arch, APIVersion: api.ClientVersion()}, nil
}

// Ping checks that the daemon still answers.
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.api.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w: docker daemon: %w", platform.ErrUnavailable, err)
	}
	return nil
}

// Host is the daemon's address, e.g. unix:///var/run/docker.sock.
func (c *Client) Host() string { return c.api.DaemonHost() }

// LostPing bounds the ping with which Lost checks that the daemon still answers.
const LostPing = 3 * time.Second

// Lost returns err wrapped in platform.ErrUnavailable, naming the daemon, when the
// daemon no longer answers: err (or gone) says the connection failed, or a ping
// bounded by LostPing fails. Otherwise, and for a nil err, it returns err as is.
func (c *Client) Lost(err error, gone bool) error {
	if err == nil || errors.Is(err, platform.ErrUnavailable) {
		return err
	}
	if !gone && !client.IsErrConnectionFailed(err) {
		ctx, cancel := context.WithTimeout(context.Background(), LostPing)
		defer cancel()
		if _, perr := c.api.Ping(ctx, client.PingOptions{}); perr == nil {
			return err
		}
	}
	return c.lost(err)
}

// lost wraps err, a failure caused by the daemon no longer answering.
func (c *Client) lost(err error) error {
	return fmt.Errorf("%w: the Docker daemon at %s stopped answering: %w", platform.ErrUnavailable, c.Host(), err)
}

// Close releases the connection.
func (c *Client) Close() error { return c.api.Close() }
