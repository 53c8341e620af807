package render

import (
	"testing"

	"github.com/infergrid/runner/runner/spec"
)

// BenchmarkRender measures rendering one compose file with the default template.
func BenchmarkRender(b *testing.B) {
	s := spec.Scenario{ID: "replicas-r4", Replicas: 4, CPUs: 1.5, MemoryBytes: 1000 << 20, Image: "runner-x:latest",
		Network: "my_shared_network", Service: spec.Service{Port: 8000, Health: "/health", Env: map[string]string{"A": "b"}}}
	p := Params{RunID: "run", Project: "p", Ports: spec.PortRange{Lo: 18000, Hi: 18003}}
	for b.Loop() {
		if _, err := Render(s, p); err != nil {
			b.Fatal(err)
		}
	}
}
