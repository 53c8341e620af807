package spec_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/infergrid/runner/runner/spec"
)

// A block multiplies its axes; defaults fill the rest.
func ExampleParse() {
	dir, _ := os.MkdirTemp("", "spec-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"features": [0, 1]}`), 0o644)
	src := `
name: demo
service: {image: demo:1, port: 8000}
request: {method: POST, path: /predict, body_file: body.json}
defaults: {duration: 20s, warmup: 5s, memory: 1000M}
grid:
  - name: replicas
    replicas: [2, 4]
    balancer: [none, client]
    load: [{users: 10, spawn_rate: 10}]
  - name: open
    load: [{rate: 200/s}]
`
	f, err := spec.Parse("demo.yaml", dir, []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range f.Scenarios() {
		fmt.Printf("%-44s %d replicas, %s, %s for %s\n", s.ID, s.Replicas, s.Balancer, s.Load, s.Load.Duration)
	}
	// Output:
	// replicas-r2-cpu_unl-mem1000m-none-u10s10     2 replicas, none, 10 users @10/s for 20s
	// replicas-r2-cpu_unl-mem1000m-client-u10s10   2 replicas, client, 10 users @10/s for 20s
	// replicas-r4-cpu_unl-mem1000m-none-u10s10     4 replicas, none, 10 users @10/s for 20s
	// replicas-r4-cpu_unl-mem1000m-client-u10s10   4 replicas, client, 10 users @10/s for 20s
	// open-r1-cpu_unl-mem1000m-client-rate200      1 replicas, client, 200/s for 20s
}

// Every problem is reported at once, with its position and what would be valid.
func ExampleParse_errors() {
	src := `
name: demo
service: {image: demo:1}
grid:
  - name: a
    replicas: [0]
    memory: [10X]
    load: [{users: 10, rate: 5/s}]
`
	_, err := spec.Parse("demo.yaml", os.TempDir(), []byte(src))
	fmt.Println(err)
	// Output:
	// demo.yaml:6:16: grid[0].replicas[0]: 0: replicas must be 1 or more
	// demo.yaml:7:14: grid[0].memory[0]: "10X" is not a size; use a number with a unit such as 700M, 10G or 512MiB, or unlimited
	// demo.yaml:8:12: grid[0].load[0]: give users (closed model: users, spawn_rate, think) or rate (open model), not both
}
