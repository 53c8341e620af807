package docker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// StackNamespace is the label docker stack deploy puts on the services, tasks'
// containers and networks of a stack.
const StackNamespace = "com.docker.stack.namespace"

// GatewayBridge is the bridge network through which swarm tasks on a node reach
// the outside, and through which the node itself reaches them.
const GatewayBridge = "docker_gwbridge"

// SwarmState is the daemon's membership of a swarm.
type SwarmState struct {
	// Active is true when the daemon is part of a swarm.
	Active bool
	// Manager is true when it can manage it (deploy stacks, list tasks).
	Manager bool
	// State is the local node state as Docker says it: inactive, active, pending...
	State string
	// NodeID and NodeAddr identify the daemon's node.
	NodeID, NodeAddr string
	// Nodes is the number of nodes in the swarm (managers only).
	Nodes int
}

// Swarm reads the daemon's swarm state.
func (c *Client) Swarm(ctx context.Context) (SwarmState, error) {
	res, err := c.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return SwarmState{}, fmt.Errorf("docker info: %w", err)
	}
	sw := res.Info.Swarm
	return SwarmState{
		Active:   sw.LocalNodeState == swarm.LocalNodeStateActive,
		Manager:  sw.ControlAvailable,
		State:    string(sw.LocalNodeState),
		NodeID:   sw.NodeID,
		NodeAddr: sw.NodeAddr,
		Nodes:    sw.Nodes,
	}, nil
}

// SwarmInit makes the daemon the only node (and manager) of a new swarm that
// advertises addr.
func (c *Client) SwarmInit(ctx context.Context, addr string) error {
	if _, err := c.api.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: addr + ":2377", AdvertiseAddr: addr}); err != nil {
		return fmt.Errorf("docker swarm init: %w", err)
	}
	return nil
}

// SwarmLeave makes the daemon leave its swarm, even as its last manager.
func (c *Client) SwarmLeave(ctx context.Context) error {
	if _, err := c.api.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
		return fmt.Errorf("docker swarm leave: %w", err)
	}
	return nil
}

// NetworkExists tells whether a network of that name exists.
func (c *Client) NetworkExists(ctx context.Context, name string) (bool, error) {
	_, err := c.api.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("cannot inspect network %s: %w", name, err)
}

// Service is a swarm service as the runner needs it.
type Service struct {
	ID, Name string
	// Replicas is the desired task count of a replicated service.
	Replicas int
	// NanoCPUs and MemoryBytes are the task resource limits (0: none).
	NanoCPUs, MemoryBytes int64
	// IngressPorts maps target ports to the ports the routing mesh publishes.
	IngressPorts map[int]int
}

// Services lists the swarm services matching f, by name.
func (c *Client) Services(ctx context.Context, f Filter) ([]Service, error) {
	res, err := c.api.ServiceList(ctx, client.ServiceListOptions{Filters: f.args()})
	if err != nil {
		return nil, fmt.Errorf("cannot list services: %w", err)
	}
	out := make([]Service, 0, len(res.Items))
	for _, s := range res.Items {
		sv := Service{ID: s.ID, Name: s.Spec.Name}
		if r := s.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
			sv.Replicas = int(*r.Replicas)
		}
		if r := s.Spec.TaskTemplate.Resources; r != nil && r.Limits != nil {
			sv.NanoCPUs, sv.MemoryBytes = r.Limits.NanoCPUs, r.Limits.MemoryBytes
		}
		for _, p := range s.Endpoint.Ports {
			if p.PublishMode == swarm.PortConfigPublishModeIngress && p.PublishedPort != 0 {
				if sv.IngressPorts == nil {
					sv.IngressPorts = map[int]int{}
				}
				sv.IngressPorts[int(p.TargetPort)] = int(p.PublishedPort)
			}
		}
		out = append(out, sv)
	}
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Task is one swarm task (one replica's attempt) as the runner needs it.
type Task struct {
	ID string
	// Name is SERVICE.SLOT, the replica the task runs.
	Name    string
	Service string
	Slot    int
	NodeID  string
	// State and DesiredState are Docker's: new, pending, running, failed,
	// shutdown, rejected...
	State, DesiredState string
	// Err and Message say why a task failed or waits.
	Err, Message string
	// ContainerID and ExitCode are the task's container, once it has one.
	ContainerID string
	ExitCode    int
	// HostPorts maps container ports to host ports published in host mode, the
	// first the swarm lists. Docker 20.10 may publish IPv4 and IPv6 on different
	// ports and list both in any order: the container's own bindings
	// (Container.HostPorts) tell which is IPv4.
	HostPorts map[int]int
	// IPs maps the names of the task's networks to its address there.
	IPs map[string]string
	// Time is when the task last changed state.
	Time time.Time
}

// Running reports whether the task runs and is meant to.
func (t Task) Running() bool { return t.State == "running" && t.DesiredState == "running" }

// Ended reports whether the task has stopped for good: it failed, was rejected,
// completed, or was shut down.
func (t Task) Ended() bool {
	switch swarm.TaskState(t.State) {
	case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
		return true
	}
	return false
}

// Tasks lists the tasks of the service (name or ID), by slot then time.
func (c *Client) Tasks(ctx context.Context, service string) ([]Task, error) {
	f := client.Filters{}
	f.Add("service", service)
	res, err := c.api.TaskList(ctx, client.TaskListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("cannot list the tasks of %s: %w", service, err)
	}
	out := make([]Task, 0, len(res.Items))
	for _, t := range res.Items {
		tk := Task{
			ID: t.ID, Service: service, Slot: t.Slot, NodeID: t.NodeID,
			Name:  service + "." + strconv.Itoa(t.Slot),
			State: string(t.Status.State), DesiredState: string(t.DesiredState),
			Err: t.Status.Err, Message: t.Status.Message, Time: t.Status.Timestamp,
		}
		if cs := t.Status.ContainerStatus; cs != nil {
			tk.ContainerID, tk.ExitCode = cs.ContainerID, cs.ExitCode
		}
		for _, na := range t.NetworksAttachments {
			for _, a := range na.Addresses {
				if a.IsValid() {
					if tk.IPs == nil {
						tk.IPs = map[string]string{}
					}
					tk.IPs[na.Network.Spec.Name] = a.Addr().String()
					break
				}
			}
		}
		for _, p := range t.Status.PortStatus.Ports {
			if p.PublishMode == swarm.PortConfigPublishModeHost && (p.Protocol == "" || p.Protocol == "tcp") {
				if tk.HostPorts == nil {
					tk.HostPorts = map[int]int{}
				}
				if _, ok := tk.HostPorts[int(p.TargetPort)]; !ok {
					tk.HostPorts[int(p.TargetPort)] = int(p.PublishedPort)
				}
			}
		}
		out = append(out, tk)
	}
	slices.SortFunc(out, func(a, b Task) int {
		if a.Slot != b.Slot {
			return a.Slot - b.Slot
		}
		return a.Time.Compare(b.Time)
	})
	return out, nil
}

// Node is a swarm node.
type Node struct {
	ID, Hostname string
	// Addr is the address the swarm reaches the node at.
	Addr string
	// Ready is the node's status; Active its availability for new tasks.
	Ready, Active bool
	// NanoCPUs and MemoryBytes are what the node offers.
	NanoCPUs, MemoryBytes int64
	// Labels are the node labels placement constraints refer to.
	Labels map[string]string
}

// Nodes lists the swarm's nodes by hostname.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	res, err := c.api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot list the swarm's nodes: %w", err)
	}
	out := make([]Node, 0, len(res.Items))
	for _, n := range res.Items {
		out = append(out, Node{
			ID: n.ID, Hostname: n.Description.Hostname, Addr: n.Status.Addr,
			Ready:    n.Status.State == swarm.NodeStateReady,
			Active:   n.Spec.Availability == swarm.NodeAvailabilityActive,
			NanoCPUs: n.Description.Resources.NanoCPUs, MemoryBytes: n.Description.Resources.MemoryBytes,
			Labels: n.Spec.Labels,
		})
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Hostname, b.Hostname) })
	return out, nil
}

// GatewayIPs maps the IDs of the containers on this node's gateway bridge (its
// swarm tasks) to their address there, which this node can reach.
func (c *Client) GatewayIPs(ctx context.Context) (map[string]string, error) {
	res, err := c.api.NetworkInspect(ctx, GatewayBridge, client.NetworkInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot inspect network %s: %w", GatewayBridge, err)
	}
	out := map[string]string{}
	for id, ep := range res.Network.Containers {
		if ep.IPv4Address.IsValid() {
			out[id] = ep.IPv4Address.Addr().String()
		}
	}
	return out, nil
}

// removeServices removes the swarm services matching f, then the swarm configs
// (a balancer's config file), when the daemon manages a swarm; on a daemon outside
// any swarm there is nothing to remove.
func (c *Client) removeServices(ctx context.Context, f Filter) error {
	services, configs, err := c.swarmObjects(ctx, f)
	if err != nil {
		return err
	}
	for id, name := range services {
		if _, err := c.api.ServiceRemove(ctx, id, client.ServiceRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("cannot remove service %s: %w", name, err)
		}
	}
	for id, name := range configs {
		// A config still used by a service going away is removed on a later sweep.
		if _, err := c.api.ConfigRemove(ctx, id, client.ConfigRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("cannot remove config %s: %w", name, err)
		}
	}
	return nil
}

// swarmObjects maps the IDs of the services and configs matching f to their
// names; both empty when the daemon is no swarm manager.
func (c *Client) swarmObjects(ctx context.Context, f Filter) (services, configs map[string]string, err error) {
	st, err := c.Swarm(ctx)
	if err != nil || !st.Manager {
		return nil, nil, err
	}
	sl, err := c.api.ServiceList(ctx, client.ServiceListOptions{Filters: f.args()})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list services: %w", err)
	}
	services = map[string]string{}
	for _, s := range sl.Items {
		services[s.ID] = s.Spec.Name
	}
	cl, err := c.api.ConfigList(ctx, client.ConfigListOptions{Filters: f.args()})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list configs: %w", err)
	}
	configs = map[string]string{}
	for _, s := range cl.Items {
		configs[s.ID] = s.Spec.Name
	}
	return services, configs, nil
}
