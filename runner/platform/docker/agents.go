package docker

import (
	"context"
	"fmt"
	"io"
	"maps"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// JobService is a swarm service whose tasks run once: each of Replicas tasks
// runs its container to its end and is never restarted (a load agent).
type JobService struct {
	// Name is the service's name.
	Name string
	// Image is the image the tasks run, as it is on every node (never pulled).
	Image string
	// Args follow the image's entrypoint.
	Args []string
	// Env is the tasks' environment (KEY=VALUE); a value may use the swarm's
	// templates, e.g. {{.Task.Slot}}.
	Env []string
	// Replicas is the number of tasks.
	Replicas int
	// Labels are put on the service, its containers and its config.
	Labels map[string]string
	// Constraints place the tasks.
	Constraints []string
	// Networks are the networks the tasks join, by name.
	Networks []string
	// File, if set, is mounted read-only in every task at FilePath, from a swarm
	// config named Name.
	File     []byte
	FilePath string
}

// CreateJobService creates s and returns the service's and its config's IDs
// (the config's empty without File). Its containers log to json-file, which
// the Docker API can read back (Follow). On failure nothing is left.
func (c *Client) CreateJobService(ctx context.Context, s JobService) (serviceID, configID string, err error) {
	cs := &swarm.ContainerSpec{Image: s.Image, Args: s.Args, Env: s.Env, Labels: maps.Clone(s.Labels)}
	if s.File != nil {
		res, err := c.api.ConfigCreate(ctx, client.ConfigCreateOptions{Spec: swarm.ConfigSpec{
			Annotations: swarm.Annotations{Name: s.Name, Labels: s.Labels}, Data: s.File,
		}})
		if err != nil {
			return "", "", fmt.Errorf("cannot create config %s: %w", s.Name, err)
		}
		configID = res.ID
		cs.Configs = []*swarm.ConfigReference{{
			File:     &swarm.ConfigReferenceFileTarget{Name: s.FilePath, UID: "0", GID: "0", Mode: 0o444},
			ConfigID: configID, ConfigName: s.Name,
		}}
	}
	replicas := uint64(s.Replicas)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: s.Name, Labels: s.Labels},
		Mode:        swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     &swarm.Placement{Constraints: s.Constraints},
			LogDriver:     &swarm.Driver{Name: "json-file"},
		},
	}
	for _, n := range s.Networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	res, err := c.api.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: spec})
	if err != nil {
		if configID != "" {
			_ = c.RemoveConfig(context.WithoutCancel(ctx), configID)
		}
		return "", "", fmt.Errorf("cannot create service %s: %w", s.Name, err)
	}
	return res.ID, configID, nil
}

// RemoveService removes a swarm service (name or ID); one already gone is no error.
func (c *Client) RemoveService(ctx context.Context, id string) error {
	if _, err := c.api.ServiceRemove(ctx, id, client.ServiceRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("cannot remove service %s: %w", id, err)
	}
	return nil
}

// RemoveConfig removes a swarm config; one already gone is no error.
func (c *Client) RemoveConfig(ctx context.Context, id string) error {
	if _, err := c.api.ConfigRemove(ctx, id, client.ConfigRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("cannot remove config %s: %w", id, err)
	}
	return nil
}

// Follow copies a container's stdout and stderr, from its start, to stdout
// and stderr as it writes them, until the container stops (and its logs are
// read to the end) or ctx is cancelled.
func (c *Client) Follow(ctx context.Context, id string, stdout, stderr io.Writer) error {
	rc, err := c.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("cannot read logs of %s: %w", id, err)
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(stdout, stderr, rc); err != nil {
		return fmt.Errorf("logs of %s: %w", id, err)
	}
	return nil
}
