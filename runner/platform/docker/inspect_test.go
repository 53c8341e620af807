package docker

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/api/types/container"
)

// TestHostPortPrefersIPv4: Docker 20.10 can publish a swarm task's port on
// different host ports for IPv4 and IPv6, in either order; 127.0.0.1 reaches only
// the IPv4 one.
func TestHostPortPrefersIPv4(t *testing.T) {
	for _, tc := range []struct {
		ports string
		want  int
	}{
		{`{"8000/tcp":[{"HostIp":"0.0.0.0","HostPort":"32801"},{"HostIp":"::","HostPort":"32800"}]}`, 32801},
		{`{"8000/tcp":[{"HostIp":"::","HostPort":"32800"},{"HostIp":"0.0.0.0","HostPort":"32801"}]}`, 32801},
		{`{"8000/tcp":[{"HostIp":"::","HostPort":"32800"}]}`, 32800},
		{`{"8000/tcp":[{"HostIp":"","HostPort":"18000"}]}`, 18000},
	} {
		var in container.InspectResponse
		if err := json.Unmarshal([]byte(`{"Id":"x","Name":"/c","NetworkSettings":{"Ports":`+tc.ports+`}}`), &in); err != nil {
			t.Fatal(err)
		}
		if got := fromInspect(in).HostPorts[8000]; got != tc.want {
			t.Errorf("%s: host port %d, want %d", tc.ports, got, tc.want)
		}
	}
}
