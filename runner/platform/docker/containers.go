package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Compose's own labels on the containers, networks and volumes it creates.
const (
	ComposeProject = "com.docker.compose.project"
	ComposeService = "com.docker.compose.service"
	ComposeNumber  = "com.docker.compose.container-number"
)

// Container is what the runner needs to know of one container.
type Container struct {
	ID string
	// Name is without the leading slash, e.g. "proj_svc_1" or "proj-svc-1".
	Name string
	// Number is compose's container number (1-based), 0 when absent.
	Number int
	Labels map[string]string
	// Running is false once the container has exited.
	Running   bool
	ExitCode  int
	OOMKilled bool
	// Restarts is the daemon's restart count.
	Restarts int
	// HostPorts maps container TCP ports to their first published host port.
	HostPorts map[int]int
	// IPs maps the names of the networks the container is on to its address there.
	IPs map[string]string
	// MemoryBytes and NanoCPUs are the limits in HostConfig (0: unlimited).
	MemoryBytes int64
	NanoCPUs    int64
}

// Filter is a set of label=value pairs all of which must match (value "" matches
// any value of the key).
type Filter map[string]string

func (f Filter) args() client.Filters {
	args := client.Filters{}
	for k, v := range f {
		if v == "" {
			args.Add("label", k)
		} else {
			args.Add("label", k+"="+v)
		}
	}
	return args
}

// Containers lists the containers (running or not) matching f, inspected, ordered
// by compose number then name.
func (c *Client) Containers(ctx context.Context, f Filter) ([]Container, error) {
	list, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f.args()})
	if err != nil {
		return nil, fmt.Errorf("cannot list containers: %w", err)
	}
	out := make([]Container, 0, len(list.Items))
	for _, s := range list.Items {
		ct, err := c.Inspect(ctx, s.ID)
		if cerrdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ct)
	}
	slices.SortFunc(out, func(a, b Container) int {
		if a.Number != b.Number {
			return a.Number - b.Number
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Inspect reads one container.
func (c *Client) Inspect(ctx context.Context, id string) (Container, error) {
	res, err := c.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Container{}, fmt.Errorf("cannot inspect container %s: %w", id, err)
	}
	return fromInspect(res.Container), nil
}

func fromInspect(in container.InspectResponse) Container {
	ct := Container{ID: in.ID, Name: strings.TrimPrefix(in.Name, "/"), Restarts: in.RestartCount, HostPorts: map[int]int{}, IPs: map[string]string{}}
	if in.Config != nil {
		ct.Labels = in.Config.Labels
		ct.Number, _ = strconv.Atoi(in.Config.Labels[ComposeNumber])
	}
	if in.State != nil {
		ct.Running = in.State.Running || in.State.Restarting
		ct.ExitCode = in.State.ExitCode
		ct.OOMKilled = in.State.OOMKilled
	}
	if in.HostConfig != nil {
		ct.MemoryBytes = in.HostConfig.Memory
		ct.NanoCPUs = in.HostConfig.NanoCPUs
	}
	if in.NetworkSettings != nil {
		for name, ep := range in.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				ct.IPs[name] = ep.IPAddress.String()
			}
		}
		for port, binds := range in.NetworkSettings.Ports {
			if port.Proto() != network.TCP {
				continue
			}
			// The IPv4 binding first: Docker 20.10 can give IPv6 another port,
			// which 127.0.0.1 does not reach.
			for _, b := range binds {
				if hp, err := strconv.Atoi(b.HostPort); err == nil && hp > 0 {
					if _, ok := ct.HostPorts[int(port.Num())]; !ok || !b.HostIP.Is6() {
						ct.HostPorts[int(port.Num())] = hp
					}
					if !b.HostIP.Is6() {
						break
					}
				}
			}
		}
	}
	return ct
}

// Logs returns the last n lines of a container's stdout and stderr.
func (c *Client) Logs(ctx context.Context, id string, n int) (string, error) {
	rc, err := c.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return "", fmt.Errorf("cannot read logs of %s: %w", id, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return buf.String(), fmt.Errorf("cannot read logs of %s: %w", id, err)
	}
	return strings.TrimRight(buf.String(), "\n"), nil
}

// Leftovers lists what matches f: swarm services and configs, containers,
// networks, volumes and dangling images no container uses, as "service NAME",
// "config NAME", "container NAME", "network NAME", "volume NAME", "image ID
// (dangling)". Tagged images are not leftovers: a later run reuses them.
func (c *Client) Leftovers(ctx context.Context, f Filter) ([]string, error) {
	var out []string
	svcs, configs, err := c.swarmObjects(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, name := range svcs {
		out = append(out, "service "+name)
	}
	for _, name := range configs {
		out = append(out, "config "+name)
	}
	slices.Sort(out)
	cs, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f.args()})
	if err != nil {
		return nil, fmt.Errorf("cannot list containers: %w", err)
	}
	for _, s := range cs.Items {
		name := s.ID[:min(12, len(s.ID))]
		if len(s.Names) > 0 {
			name = strings.TrimPrefix(s.Names[0], "/")
		}
		out = append(out, "container "+name)
	}
	ns, err := c.api.NetworkList(ctx, client.NetworkListOptions{Filters: f.args()})
	if err != nil {
		return out, fmt.Errorf("cannot list networks: %w", err)
	}
	for _, n := range ns.Items {
		out = append(out, "network "+n.Name)
	}
	vs, err := c.api.VolumeList(ctx, client.VolumeListOptions{Filters: f.args()})
	if err != nil {
		return out, fmt.Errorf("cannot list volumes: %w", err)
	}
	for _, v := range vs.Items {
		out = append(out, "volume "+v.Name)
	}
	ims, err := c.DanglingImages(ctx, f)
	if err != nil {
		return out, err
	}
	for _, id := range ims {
		out = append(out, "image "+shortID(id)+" (dangling)")
	}
	return out, nil
}

// Sweep removes every swarm service and config matching f (services first, so
// that the swarm starts no new tasks), then force-removes every container,
// network and volume matching f, then removes the dangling images matching f that
// no container uses. Things already gone are not errors.
func (c *Client) Sweep(ctx context.Context, f Filter) error {
	if len(f) == 0 {
		return errors.New("sweep: refusing an empty filter")
	}
	var errs []error
	if err := c.removeServices(ctx, f); err != nil {
		errs = append(errs, err)
	}
	cs, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f.args()})
	if err != nil {
		return fmt.Errorf("cannot list containers: %w", err)
	}
	for _, s := range cs.Items {
		_, err := c.api.ContainerRemove(ctx, s.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("cannot remove container %s: %w", s.ID[:12], err))
		}
	}
	ns, err := c.api.NetworkList(ctx, client.NetworkListOptions{Filters: f.args()})
	if err != nil {
		errs = append(errs, fmt.Errorf("cannot list networks: %w", err))
	} else {
		for _, n := range ns.Items {
			if _, err := c.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("cannot remove network %s: %w", n.Name, err))
			}
		}
	}
	vs, err := c.api.VolumeList(ctx, client.VolumeListOptions{Filters: f.args()})
	if err != nil {
		errs = append(errs, fmt.Errorf("cannot list volumes: %w", err))
	} else {
		for _, v := range vs.Items {
			if _, err := c.api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("cannot remove volume %s: %w", v.Name, err))
			}
		}
	}
	if err := c.removeDangling(ctx, f); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// EnsureNetwork creates the network name with labels unless it exists, and says
// whether it created it. Driver is bridge, or overlay for a swarm (attachable, so
// that plain containers can join it too).
func (c *Client) EnsureNetwork(ctx context.Context, name, driver string, labels map[string]string) (created bool, err error) {
	_, err = c.api.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err == nil {
		return false, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return false, fmt.Errorf("cannot inspect network %s: %w", name, err)
	}
	if _, err := c.api.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: driver, Labels: labels, Attachable: driver == "overlay"}); err != nil {
		if cerrdefs.IsConflict(err) {
			return false, nil // created meanwhile by someone else
		}
		return false, fmt.Errorf("cannot create network %s: %w", name, err)
	}
	return true, nil
}

// RemoveNetwork removes a network; a missing one is not an error.
func (c *Client) RemoveNetwork(ctx context.Context, name string) error {
	if _, err := c.api.NetworkRemove(ctx, name, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("cannot remove network %s: %w", name, err)
	}
	return nil
}
