package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixture is a folder with a Go main package (svc), a Dockerfile build folder (dsvc)
// and a body file, next to which test scenario files are written.
func fixture(t *testing.T) string {
	return write(t, map[string]string{
		"svc/main.go":     "package main\n\nfunc main() {}\n",
		"dsvc/Dockerfile": "FROM scratch\n",
		"empty/README":    "nothing to build\n",
		"body.json":       `{"features": [1, 2]}`,
		"body2.json":      `{"features": [3, 4]}`,
		"compose.tmpl":    "services: {}\n",
		"notjson.txt":     "hello\n",
		"lib/lib.go":      "package lib\n",
	})
}

func loadString(t *testing.T, dir, src string) (*File, error) {
	t.Helper()
	p := filepath.Join(dir, "f.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p)
}

const head = `name: t
service: {build: svc}
`

func TestValidation(t *testing.T) {
	dir := fixture(t)
	tests := []struct {
		name string
		src  string
		// want lists one substring per expected problem; each must appear in a
		// line of the joined error.
		want []string
	}{
		{"empty file", "", []string{"f.yaml: the file is empty"}},
		{"syntax", "name: [a\n", []string{"f.yaml:1:1: YAML syntax:"}},
		{"not a mapping", "- a\n", []string{"f.yaml:1:1: want a mapping with keys name, platform"}},
		{"two documents", head + "grid: [{name: a, load: [{rate: 1/s}]}]\n---\nname: x\n", []string{"f.yaml:4:1: only one YAML document"}},
		{"unknown key with suggestion", head + "gird: []\n", []string{`f.yaml:3:1: gird: unknown key "gird" (did you mean "grid"?)`, "grid: the grid is empty"}},
		{"unknown key lists valid keys", head + "zzzzzzzz: 1\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:1: zzzzzzzz: unknown key "zzzzzzzz"; valid keys: defaults, grid,`}},
		{"swarm section", head + "swarm:\n  publish: mesh\n  constraints: [node.role=worker]\n  nodes:\n    - {name: a, docker_host: ssh://me@a}\n    - {name: a, docker_host: tcp://10.0.0.2:2375, address: 'x y'}\n    - {docker_host: 'tcp://'}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{
			`f.yaml:4:12: swarm.publish: "mesh" is not a publish mode; use auto, host or ingress`,
			`f.yaml:5:17: swarm.constraints[0]: "node.role=worker" is not a placement constraint`,
			`swarm.nodes[0].docker_host: "ssh://me@a" is not a Docker API address`,
			`swarm.nodes[1].name: node "a" is listed twice`,
			`swarm.nodes[1].address: "x y" is not a host name`,
			`swarm.nodes[2].name: a node needs its hostname`,
			`swarm.nodes[2].docker_host: "tcp://" is not a Docker API address`,
		}},
		{"unknown nested key", head + "grid: [{name: a, replica: [1], load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:18: grid[0].replica: unknown key "replica" (did you mean "replicas"?)`}},
		{"search needs an slo", head + "grid: [{name: a, load: [{search: {from: 1/s, to: 2/s}}]}]\n", []string{`f.yaml:3:34: grid[0].load[0].search: a capacity search finds the highest rate that meets the SLO, and the file sets none; add one`}},
		{"search needs an slo objective", head + "slo: {}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 2/s}}]}]\n", []string{`grid[0].load[0].search: a capacity search finds the highest rate that meets the SLO, and the slo sets no objective`}},
		{"search with users or rate", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 2/s}, rate: 5/s}, {users: 2, spawn_rate: 1, search: {from: 1/s, to: 2/s}}]}]\n",
			[]string{"f.yaml:4:34: grid[0].load[0].search: a capacity search sets its own constant rates; give search alone, without users or rate", "f.yaml:4:102: grid[0].load[1].search: a capacity search sets its own"}},
		{"search range", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 50/s, to: 50/s}}, {search: {from: 5/s}}, {search: {from: 9/s, to: 60/m}}]}]\n",
			[]string{"grid[0].load[0].search.to: 50/s must be above from (50/s)", "grid[0].load[1].search: a capacity search needs both from and to", "grid[0].load[2].search.to: 1/s must be above from (9/s)"}},
		{"search bad rate and unknown key", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: fast, to: 2/s, step: 3}}]}]\n",
			[]string{`grid[0].load[0].search.from: "fast" is not a rate`, `grid[0].load[0].search.step: unknown key "step" (did you mean "steps"?)`}},
		{"search options", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 2/s, steps: 0, step_duration: 0s, precision: 100%}}]}]\n",
			[]string{"grid[0].load[0].search.steps: 0: the step budget must be 1 to 50", "grid[0].load[0].search.step_duration: must be more than 0", "grid[0].load[0].search.precision: must be more than 0% and less than 100%"}},
		{"search with closed-model keys and duration", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 2/s}, think: 1s, duration: 5s}]}]\n",
			[]string{"grid[0].load[0].think: think belongs to the closed model (users); a capacity search sends constant open-model rates", "grid[0].load[0].duration: a capacity search runs several steps; set the time of each with search.step_duration (default 10s)"}},
		{"search is a mapping", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: 50/s}]}]\n", []string{`grid[0].load[0].search: want a mapping with keys from, to, steps, step_duration, precision, on, min_goodput, got "50/s"`}},
		{"duplicate key", head + "name: u\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:1: name: key "name" is given twice`}},
		{"wrong type", head + "grid: [{name: a, replicas: [two], load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:29: grid[0].replicas[0]: want a whole number, got "two"`}},
		{"mapping for a number", head + "grid: [{name: a, replicas: {a: 1}, load: [{rate: 1/s}]}]\n", []string{`grid[0].replicas[0]: want a whole number, got a mapping`}},
		{"bad size", head + "grid: [{name: a, memory: [10X], load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:27: grid[0].memory[0]: "10X" is not a size; use a number with a unit such as 700M`}},
		{"size below docker minimum", head + "grid: [{name: a, memory: [1M], load: [{rate: 1/s}]}]\n", []string{`"1M" is below Docker's minimum`}},
		{"bad cpus", head + "grid: [{name: a, cpus: [lots, 0, -1], load: [{rate: 1/s}]}]\n", []string{`grid[0].cpus[0]: "lots" is not a CPU count`, "grid[0].cpus[1]: 0 CPUs: must be more than 0", "grid[0].cpus[2]: -1 CPUs"}},
		{"bad duration", head + "defaults: {duration: 30}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:22: defaults.duration: "30" is not a duration; use a number with a unit`}},
		{"zero duration", head + "defaults: {duration: 0s}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`defaults.duration: must be more than 0`}},
		{"negative warmup", head + "grid: [{name: a, warmup: -1s, load: [{rate: 1/s}]}]\n", []string{`grid[0].warmup: "-1s" is negative`}},
		{"bad rate", head + "grid: [{name: a, load: [{rate: fast}, {rate: 10/d}, {rate: 0/s}]}]\n", []string{`grid[0].load[0].rate: "fast" is not a rate`, `grid[0].load[1].rate: "10/d" is not a rate`, `grid[0].load[2].rate: rate "0/s" must be more than 0`}},
		{"ramp needs both ends", head + "grid: [{name: a, load: [{rate: {from: 1/s}}]}]\n", []string{"grid[0].load[0].rate: a ramp needs both from and to"}},
		{"ramp unknown key", head + "grid: [{name: a, load: [{rate: {from: 1/s, too: 2/s}}]}]\n", []string{`grid[0].load[0].rate.too: unknown key "too" (did you mean "to"?)`, "a ramp needs both"}},
		{"zero replicas", head + "grid: [{name: a, replicas: [0, -2], load: [{rate: 1/s}]}]\n", []string{"grid[0].replicas[0]: 0: replicas must be 1 or more", "grid[0].replicas[1]: -2: replicas must be 1 or more"}},
		{"zero default replicas", head + "defaults: {replicas: 0}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"defaults.replicas: 0: replicas must be 1 or more"}},
		{"users without spawn_rate", head + "grid: [{name: a, load: [{users: 10}]}]\n", []string{"f.yaml:3:25: grid[0].load[0]: users needs spawn_rate"}},
		{"users and rate", head + "grid: [{name: a, load: [{users: 10, spawn_rate: 1, rate: 1/s}]}]\n", []string{"grid[0].load[0]: give users (closed model: users, spawn_rate, think) or rate (open model), not both"}},
		{"neither users nor rate", head + "grid: [{name: a, load: [{duration: 1s}]}]\n", []string{"grid[0].load[0]: a load level needs users"}},
		{"zero users", head + "grid: [{name: a, load: [{users: 0, spawn_rate: 1}]}]\n", []string{"grid[0].load[0].users: 0: users must be 1 or more"}},
		{"zero spawn rate", head + "grid: [{name: a, load: [{users: 1, spawn_rate: 0}]}]\n", []string{"grid[0].load[0].spawn_rate: must be more than 0"}},
		{"think with rate", head + "grid: [{name: a, load: [{rate: 1/s, think: 1s, spawn_rate: 2}]}]\n", []string{"grid[0].load[0].spawn_rate: spawn_rate belongs to the closed model", "grid[0].load[0].think: think belongs to the closed model"}},
		{"bad think", head + "grid: [{name: a, load: [{users: 1, spawn_rate: 1, think: 3s..1s}]}]\n", []string{`grid[0].load[0].think: think "3s..1s": the range's end is below its start`}},
		{"max_workers with users", head + "grid: [{name: a, load: [{users: 1, spawn_rate: 1, max_workers: 3}]}]\n", []string{"grid[0].load[0].max_workers: max_workers caps the open model"}},
		{"missing body_file", head + "request: {body_file: nope.json}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"f.yaml:3:22: request.body_file: body file " + filepath.Join(dir, "nope.json") + " does not exist"}},
		{"missing body_files entry", head + "request: {body_files: [body.json, nope.json]}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"request.body_files[1]: body file"}},
		{"two bodies", head + "request: {body: x, body_file: body.json}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"request: give only one of body, body_file, body_files and dataset"}},
		{"bad body order", head + "request: {body_files: [body.json], body_order: shuffle}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`request.body_order: "shuffle": use cycle or random`}},
		{"body not JSON though declared JSON", head + "request: {headers: {content-type: application/json}, body_files: [body.json, notjson.txt]}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"request.body_files[1]: the body is not valid JSON but Content-Type says JSON: invalid character 'h'"}},
		{"inline body not JSON", head + "request: {headers: {Content-Type: application/json}, body: '{'}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"request.body: the body is not valid JSON but Content-Type says JSON: unexpected end of JSON input"}},
		{"bad method and path", head + "request: {method: FETCH, path: predict}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`request.method: "FETCH" is not a method`, `request.path: "predict" must start with /`}},
		{"empty grid", head + "grid: []\n", []string{"f.yaml:3:7: grid: the grid is empty"}},
		{"no grid", head, []string{"f.yaml: grid: the grid is empty"}},
		{"duplicate block names", head + "grid:\n  - {name: a, load: [{rate: 1/s}]}\n  - {name: a, load: [{rate: 2/s}]}\n", []string{`f.yaml:5:12: grid[1].name: block name "a" is already used by grid[0]`}},
		{"block without name or load", head + "grid: [{replicas: 1}]\n", []string{"grid[0]: a block needs a name", `grid[0]: block "" has no load`}},
		{"bad block name", head + "grid: [{name: My Block, load: [{rate: 1/s}]}]\n", []string{`grid[0].name: "My Block": use at most 40 lowercase letters`}},
		{"port range cannot fit replicas", "name: t\nservice: {build: svc, host_ports: 18000-18003}\ngrid: [{name: a, replicas: [2, 6], load: [{rate: 1/s}]}]\n", []string{"f.yaml:3:32: grid[0].replicas[1]: 6 replicas cannot fit the host port range 18000-18003 (4 ports); widen service.host_ports"}},
		{"bad port range", "name: t\nservice: {build: svc, host_ports: 80-90}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`service.host_ports: "80-90": ports must satisfy 1024`}},
		{"duplicate axis value", head + "grid: [{name: a, replicas: [1, 1], load: [{rate: 1/s}]}]\n", []string{"grid[0].replicas[1]: repeats grid[0].replicas[0]"}},
		{"duplicate load level", head + "grid: [{name: a, load: [{rate: 1/s}, {rate: 60/m}]}]\n", []string{"grid[0].load[1]: this load level repeats grid[0].load[0]"}},
		{"bad balancer", head + "grid: [{name: a, balancer: [roundrobin, proxy], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0]: "roundrobin" is not a balancer; use none`}},
		{"balancer typo", head + "grid: [{name: a, balancer: [proxi], load: [{rate: 1/s}]}]\n", []string{`"proxi" is not a balancer; use none (all load to the first replica), client (round-robin over every replica) or proxy (a reverse proxy in front of the replicas) (did you mean "proxy"?)`}},
		{"bad proxy policy", head + "grid: [{name: a, balancer: [{type: proxy, policy: random}], load: [{rate: 1/s}]}]\n", []string{`f.yaml:3:51: grid[0].balancer[0].policy: "random" is not a proxy policy; use round_robin or least_conn`}},
		{"proxy option on client", head + "grid: [{name: a, balancer: [{type: client, cpus: 1}], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0].cpus: cpus is an option of the proxy; balancer client has none`}},
		{"balancer mapping without type", head + "grid: [{name: a, balancer: [{policy: least_conn}], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0]: a balancer mapping needs type`}},
		{"balancer unknown key", head + "grid: [{name: a, balancer: [{type: proxy, polcy: least_conn}], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0].polcy: unknown key "polcy" (did you mean "policy"?)`}},
		{"bad proxy memory", head + "defaults: {balancer: {type: proxy, memory: 1M}}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`defaults.balancer.memory: "1M" is below Docker's minimum memory limit of 6M`}},
		{"balancer list of lists", head + "grid: [{name: a, balancer: [[proxy]], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0]: want a balancer (none, client, proxy)`}},
		{"proxy on external", "name: t\nplatform: external\ntargets: [http://127.0.0.1:1]\ngrid: [{name: a, balancer: proxy, load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0]: balancer proxy puts a proxy in the stack, and platform external runs no stack`}},
		{"proxy image", head + "grid: [{name: a, balancer: [{type: proxy, image: envoyproxy/envoy:v1.30}, {type: proxy, image: 'HAProxy:2.6'}, {type: client, image: nginx:1.22}], load: [{rate: 1/s}]}]\n", []string{
			`f.yaml:3:50: grid[0].balancer[0].image: image envoyproxy/envoy:v1.30: the runner generates configs for haproxy and nginx images; use an image whose repository name is haproxy or nginx`,
			`grid[0].balancer[1].image: "HAProxy:2.6" is not an image reference; use lowercase NAME:TAG such as haproxy:2.6 or nginx:1.22`,
			`grid[0].balancer[2].image: image is an option of the proxy; balancer client has none`,
		}},
		{"proxy image on local", "name: t\nplatform: local\nservice: {build: svc}\ngrid: [{name: a, balancer: {type: proxy, image: haproxy:2.6}, load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[0].image: image haproxy:2.6 runs in a container, and platform local runs processes`}},
		{"duplicate proxy", head + "grid: [{name: a, balancer: [proxy, {type: proxy}], load: [{rate: 1/s}]}]\n", []string{`grid[0].balancer[1]: repeats grid[0].balancer[0]`}},
		{"bad platform", head + "platform: kubernetes\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`platform: "kubernetes" is not a platform; use one of auto, compose, swarm, local, external`}},
		{"platform typo", head + "platform: compse\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`(did you mean "compose"?)`}},
		{"missing name", "service: {build: svc}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"f.yaml: name: name is required"}},
		{"missing service", "name: t\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"service: service is required"}},
		{"service without build or image", "name: t\nservice: {port: 80}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"f.yaml:2:10: service: service needs build"}},
		{"command alone on compose", "name: t\nplatform: compose\nservice: {command: [python3, -m, http.server, '{{.Port}}']}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:20: service.command: platform compose runs containers, and command alone gives it no image to run"}},
		{"command alone on swarm", "name: t\nplatform: swarm\nservice: {command: [python3]}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:20: service.command: platform swarm runs containers"}},
		{"image alone on local", "name: t\nplatform: local\nservice: {image: 'x:1'}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:18: service.image: image x:1 runs in a container, and platform local runs processes; add command"}},
		{"Dockerfile alone on local", "name: t\nplatform: local\nservice: {build: dsvc}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:18: service.build: " + filepath.Join(dir, "dsvc") + " holds a Dockerfile, and platform local runs processes, not images; add command"}},
		{"bad command templates", "name: t\nplatform: local\nservice: {command: [app, '{{.Prot}}', '--port={{.Port']}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{`f.yaml:3:26: service.command[1]: "{{.Prot}}": can't evaluate field Prot; the fields are {{.Port}}, {{.Addr}} and {{.Replica}}`, `f.yaml:3:39: service.command[2]: "--port={{.Port" is not a valid template: unclosed action`}},
		{"empty command", "name: t\nservice: {image: 'x:1', command: [], workdir: svc}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"service.command: command is empty", "service.workdir: workdir is the folder command runs in, and there is no command"}},
		{"empty program", "name: t\nservice: {command: ['', x]}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"service.command[0]: the program to run is empty"}},
		{"missing workdir", "name: t\nservice: {command: [app], workdir: nope}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"service.workdir: folder " + filepath.Join(dir, "nope") + " does not exist"}},
		{"missing build folder", "name: t\nservice: {build: nope}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"service.build: build folder " + filepath.Join(dir, "nope") + " does not exist"}},
		{"build folder without sources", "name: t\nservice: {build: empty}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"has neither a Dockerfile nor Go files"}},
		{"build folder without a main package", "name: t\nservice: {build: lib}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"service.build: build folder " + filepath.Join(dir, "lib") + " holds Go package lib, not a main package"}},
		{"missing template", "name: t\nservice: {image: x:1, template: nope.tmpl}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"service.template: template file"}},
		{"bad address", "name: t\nservice: {image: x:1, address: docker}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`service.address: "docker" is not an address mode; use published`}},
		{"bad port and health", "name: t\nservice: {image: x:1, port: 70000, health: health}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"service.port: 70000 is not a port", `service.health: "health" must be a path`}},
		{"bad image", "name: t\nservice: {image: 'Bad Image'}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`service.image: "Bad Image" is not an image reference`}},
		{"bad cpuset", head + "defaults: {cpuset: 'a-b'}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`defaults.cpuset: "a-b" is not a CPU list`}},
		{"bad error rate", head + "slo: {error_rate: 150%, p95: 0s}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{`slo.error_rate: "150" is outside`, "slo.p95: must be more than 0"}},
		{"targets without external", head + "targets: [http://127.0.0.1:1]\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"targets: targets are for platform external"}},
		{"external without targets", "name: t\nplatform: external\ngrid: [{name: a, load: [{rate: 1/s}]}]\n", []string{"platform: platform external needs targets"}},
		{"external with service and resource axes", "name: t\nplatform: external\nservice: {build: svc}\ntargets: [ftp://x, http://127.0.0.1:8080]\ndefaults: {memory: 1G}\ngrid: [{name: a, replicas: [2], cpus: [1], load: [{rate: 1/s}]}]\n",
			[]string{"service: platform external runs nothing", `targets[0]: "ftp://x" is not a base URL`, "defaults.memory: platform external runs no service", "f.yaml:6:28: grid[0].replicas: platform external runs no service, so replicas cannot apply; a block may set only load, balancer, duration and warmup", "grid[0].cpus: platform external"}},
		{"every problem at once", head + "grid:\n  - {name: a, replicas: [0], memory: [10X], load: [{users: 5}]}\n  - {name: a, load: []}\n",
			[]string{"f.yaml:4:39: grid[0].memory[0]: \"10X\" is not a size", "f.yaml:4:26: grid[0].replicas[0]: 0: replicas must be 1 or more",
				"f.yaml:4:52: grid[0].load[0]: users needs spawn_rate", `f.yaml:5:12: grid[1].name: block name "a" is already used`, `f.yaml:5:5: grid[1]: block "a" has no load`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { refused(t, dir, tt.src, tt.want...) })
	}
}

// byPosition orders "FILE:LINE:COL: ..." lines (FILE without position first).
func byPosition(a, b string) int {
	pos := func(l string) (int, int) {
		var line, col int
		parts := strings.SplitN(strings.TrimPrefix(l, "/"), ":", 4)
		if len(parts) == 4 {
			line, _ = strconv.Atoi(parts[1])
			col, _ = strconv.Atoi(parts[2])
		}
		return line, col
	}
	al, ac := pos(a)
	bl, bc := pos(b)
	if al != bl {
		return al - bl
	}
	return ac - bc
}

func TestLoadResolves(t *testing.T) {
	dir := fixture(t)
	f, err := loadString(t, dir, `name: res
service: {build: dsvc, env: {A: b}}
request: {body_files: [body.json, body2.json], body_order: random, headers: {X-A: b}}
defaults: {timeout: 2s, max_workers: 7, cpuset: "1"}
slo: {p50: 100ms, p95: 1s, p99: 2s, error_rate: 0.5%, min_throughput: 600/m}
grid:
  - name: a
    load: [{rate: 5/s}]
`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Platform != "auto" || f.Service.Port != DefaultPort || f.Service.Health != DefaultHealth ||
		f.Service.HealthTimeout.Duration != DefaultHealthTimeout || f.Service.HostPorts != DefaultHostPorts {
		t.Errorf("service defaults not applied: %+v", f.Service)
	}
	if f.Service.Build != filepath.Join(dir, "dsvc") || f.Service.BuildKind != "dockerfile" {
		t.Errorf("build = %s (%s), want %s (dockerfile)", f.Service.Build, f.Service.BuildKind, filepath.Join(dir, "dsvc"))
	}
	if f.Image() != "runner-res:latest" {
		t.Errorf("Image() = %s", f.Image())
	}
	s := f.Scenarios()[0]
	if s.Request.Method != "POST" || s.Request.Path != "/" || !s.Request.Random || len(s.Request.Bodies) != 2 ||
		string(s.Request.Bodies[1]) != `{"features": [3, 4]}` || s.Request.Headers["X-A"] != "b" {
		t.Errorf("request = %+v", s.Request)
	}
	if s.Load.Timeout != 2*time.Second || s.Load.MaxWorkers != 7 || s.CPUSet != "1" || s.Service.Env["A"] != "b" {
		t.Errorf("defaults not applied: %+v", s)
	}
	slo := f.SLO.Result()
	if slo.P50 != 100*time.Millisecond || slo.P95 != time.Second || slo.P99 != 2*time.Second ||
		slo.ErrorRate == nil || *slo.ErrorRate != 0.005 || slo.MinThroughputRPS != 10 {
		t.Errorf("SLO = %+v", slo)
	}
	var none *SLO
	if none.Result() != nil {
		t.Error("no SLO converted to one")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || errors.Is(err, ErrInvalid) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a not-exist error that is not ErrInvalid", err)
	}
}

func TestRepositoryScenariosValidate(t *testing.T) {
	dir := repoScenarios(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(dir, "examples", "*.yaml"))
	files = append(files, more...)
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Scenarios()) == 0 {
				t.Error("no scenarios")
			}
		})
	}
}

func TestFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	// A sparse file: 50 MiB of size without 50 MiB of disk or memory.
	if err := os.WriteFile(big, []byte(head), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 50<<20); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func() error
		want string
	}{
		{"regular file", func() error { _, err := Load(big); return err },
			big + ": the scenario file is 50MiB (52428800 bytes); the limit is 10MiB"},
		{"parsed bytes", func() error { _, err := Parse("x.yaml", dir, make([]byte, MaxFileBytes+1)); return err },
			"x.yaml: the scenario file is 10MiB (10485761 bytes); the limit is 10MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to start with %q", err, tt.want)
			}
		})
	}
}

func TestFileSizeCapPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		chunk := make([]byte, 1<<20)
		for range 12 {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		w.Close()
	}()
	defer r.Close()
	path := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no /dev/fd here: %v", err)
	}
	_, err = Load(path)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the limit is 10MiB") {
		t.Errorf("err = %v, want the size cap", err)
	}
}
