package render

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// scenarios copies the repository's scenarios folder into a temporary tree with a Go
// main package at cmd/inference, loads name from it and returns its scenarios.
func scenarios(t *testing.T, name string) []spec.Scenario {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "scenarios"), os.DirFS("../../scenarios")); err != nil {
		t.Fatal(err)
	}
	inf := filepath.Join(root, "cmd", "inference")
	if err := os.MkdirAll(inf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inf, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := spec.Load(filepath.Join(root, "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	return f.Scenarios()
}

// fixedParams are deterministic render inputs for golden files.
func fixedParams(s spec.Scenario) Params {
	run := "test-20260101T000000Z"
	return Params{RunID: run, Project: Project(run, s.ID), Ports: spec.PortRange{Lo: 18000, Hi: 18000 + s.Replicas - 1}}
}

func TestRenderGolden(t *testing.T) {
	swarm := &Swarm{Publish: PublishHost, Constraints: []string{"node.labels.runner==sut"}}
	for _, c := range []struct {
		file, golden string
		swarm        *Swarm
	}{
		{"workshop5.yaml", "workshop5", nil},
		{"smoke.yaml", "smoke", nil},
		{"examples/open-ramp.yaml", "open-ramp", nil},
		{"examples/proxy-overhead.yaml", "proxy-overhead", nil},
		{"examples/workshop5-proxy.yaml", "workshop5-proxy", nil},
		{"smoke.yaml", "swarm-smoke", swarm},
		{"examples/proxy-overhead.yaml", "swarm-proxy-overhead", swarm},
		{"examples/proxy-haproxy.yaml", "proxy-haproxy", nil},
		{"examples/proxy-haproxy.yaml", "swarm-proxy-haproxy", swarm},
	} {
		for _, s := range scenarios(t, c.file) {
			t.Run(c.golden+"/"+s.ID, func(t *testing.T) {
				p := fixedParams(s)
				p.Swarm = c.swarm
				got, err := Render(s, p)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "golden", c.golden, s.ID+".yml"), got)
				files, err := Files(s, p)
				if err != nil {
					t.Fatal(err)
				}
				if (files != nil) != (s.Proxy != nil && !s.Proxy.Runner()) {
					t.Errorf("Files returned %d files for balancer %s", len(files), s.BalancerLabel())
				}
				for name, b := range files {
					if !bytes.Contains(got, []byte(`file: "./`+name+`"`)) {
						t.Errorf("the compose file does not refer to %s", name)
					}
					checkGolden(t, filepath.Join("testdata", "golden", c.golden, s.ID+"."+name), b)
				}
			})
		}
	}
}

// checkGolden compares got with the golden file, which -update rewrites.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendered file differs from %s (go test -update rewrites it):\n%s", golden, diff(string(want), string(got)))
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return "(same lines)"
}

func itoa(i int) string { return strconv.Itoa(i) }

func itoaPort(p int) string { return strconv.Itoa(p) }

// compose is the subset of a compose file the tests check.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		CPUSet      string            `yaml:"cpuset"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Labels      map[string]string `yaml:"labels"`
		Networks    []string          `yaml:"networks"`
		Deploy      struct {
			Replicas  int `yaml:"replicas"`
			Resources struct {
				Limits map[string]string `yaml:"limits"`
			} `yaml:"resources"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"deploy"`
	} `yaml:"services"`
	Networks map[string]struct {
		External bool              `yaml:"external"`
		Name     string            `yaml:"name"`
		Labels   map[string]string `yaml:"labels"`
	} `yaml:"networks"`
}

func parseCompose(t *testing.T, b []byte) compose {
	t.Helper()
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("rendered file is not YAML: %v\n%s", err, b)
	}
	return c
}

func TestRenderMeaning(t *testing.T) {
	base := spec.Scenario{
		ID: "b-r3", Replicas: 3, Image: "runner-x:latest",
		Service: spec.Service{Port: 8000, Health: "/health"},
	}
	tests := []struct {
		name       string
		edit       func(*spec.Scenario)
		ports      spec.PortRange
		wantPorts  string
		wantLimits map[string]string
		wantNet    string
		wantCPUSet string
	}{
		{name: "unlimited renders no limits", ports: spec.PortRange{Lo: 18089, Hi: 18091}, wantPorts: "18089-18091:8000"},
		{name: "limits", edit: func(s *spec.Scenario) { s.CPUs, s.MemoryBytes = 1.5, 1000<<20 },
			ports: spec.PortRange{Lo: 20000, Hi: 20009}, wantPorts: "20000-20002:8000",
			wantLimits: map[string]string{"cpus": "1.5", "memory": "1000M"}},
		{name: "memory only", edit: func(s *spec.Scenario) { s.MemoryBytes = 10 << 30 },
			ports: spec.PortRange{Lo: 18000, Hi: 18002}, wantPorts: "18000-18002:8000",
			wantLimits: map[string]string{"memory": "10G"}},
		{name: "one replica publishes one port", edit: func(s *spec.Scenario) { s.Replicas = 1 },
			ports: spec.PortRange{Lo: 18000, Hi: 18999}, wantPorts: "18000:8000"},
		{name: "network and cpuset", edit: func(s *spec.Scenario) { s.Network, s.CPUSet = "my_shared_network", "1" },
			ports: spec.PortRange{Lo: 18000, Hi: 18002}, wantPorts: "18000-18002:8000", wantNet: "my_shared_network", wantCPUSet: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			if tt.edit != nil {
				tt.edit(&s)
			}
			b, err := Render(s, Params{RunID: "run1", Project: "p1", Ports: tt.ports})
			if err != nil {
				t.Fatal(err)
			}
			c := parseCompose(t, b)
			svc, ok := c.Services[Service]
			if !ok {
				t.Fatalf("no service %q in\n%s", Service, b)
			}
			if len(svc.Ports) != 1 || svc.Ports[0] != tt.wantPorts {
				t.Errorf("ports = %v, want [%s]", svc.Ports, tt.wantPorts)
			}
			if svc.Deploy.Replicas != s.Replicas {
				t.Errorf("replicas = %d, want %d", svc.Deploy.Replicas, s.Replicas)
			}
			if len(svc.Deploy.Resources.Limits) != len(tt.wantLimits) {
				t.Errorf("limits = %v, want %v", svc.Deploy.Resources.Limits, tt.wantLimits)
			}
			for k, v := range tt.wantLimits {
				if svc.Deploy.Resources.Limits[k] != v {
					t.Errorf("limit %s = %q, want %q", k, svc.Deploy.Resources.Limits[k], v)
				}
			}
			if svc.CPUSet != tt.wantCPUSet {
				t.Errorf("cpuset = %q, want %q", svc.CPUSet, tt.wantCPUSet)
			}
			wantLabels := map[string]string{label.Managed: "true", label.Run: "run1", label.Scenario: s.ID, label.Project: "p1"}
			for _, got := range []map[string]string{svc.Labels, svc.Deploy.Labels, c.Networks["default"].Labels} {
				if len(got) != len(wantLabels) {
					t.Errorf("labels = %v, want %v", got, wantLabels)
				}
				for k, v := range wantLabels {
					if got[k] != v {
						t.Errorf("label %s = %q, want %q", k, got[k], v)
					}
				}
			}
			shared, hasShared := c.Networks["shared"]
			if (tt.wantNet != "") != hasShared || shared.Name != tt.wantNet || (hasShared && !shared.External) {
				t.Errorf("networks = %+v, want external shared network %q", c.Networks, tt.wantNet)
			}
			if tt.wantNet != "" && strings.Join(svc.Networks, ",") != "default,shared" {
				t.Errorf("service networks = %v, want [default shared]", svc.Networks)
			}
		})
	}
}

// TestQuoteInjection checks that scenario values cannot add YAML keys or compose
// interpolation.
func TestQuoteInjection(t *testing.T) {
	evil := map[string]string{
		"A":       "x\"\n    privileged: true\n#",
		"B":       "${HOME} and $PATH",
		"C":       "'; rm -rf / #: {a: b}",
		"unicode": "é\u2028\t<&>",
	}
	s := spec.Scenario{ID: "x", Replicas: 1, Image: "img:1", Service: spec.Service{Port: 80, Env: evil}}
	b, err := Render(s, Params{RunID: "r", Project: "p", Ports: spec.PortRange{Lo: 18000, Hi: 18000}})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]map[string]map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["services"][Service]["privileged"]; ok {
		t.Fatalf("an env value injected a key:\n%s", b)
	}
	c := parseCompose(t, b)
	for k, v := range evil {
		got := strings.ReplaceAll(c.Services[Service].Environment[k], "$$", "$")
		if got != v {
			t.Errorf("env %s = %q, want %q", k, got, v)
		}
	}
}

func TestNewDataErrors(t *testing.T) {
	s := spec.Scenario{ID: "x", Replicas: 4, Image: "img", Service: spec.Service{Port: 80}}
	if _, err := NewData(s, Params{Ports: spec.PortRange{Lo: 18000, Hi: 18002}}); err == nil {
		t.Error("3 ports for 4 replicas rendered")
	}
	s.Replicas = 0
	if _, err := NewData(s, Params{Ports: spec.PortRange{Lo: 18000, Hi: 18002}}); err == nil {
		t.Error("a scenario without replicas (external) rendered")
	}
}

func TestUserTemplate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, src, wantErr string
	}{
		{"good", "services:\n  web:\n    image: {{quote .Image}}\n    ports: [{{quote .Ports}}]\n", ""},
		{"syntax", "services: {{.Image", "compose template"},
		{"unknown field", "services: {{.Nope}}", "can't evaluate field Nope"},
		{"invalid yaml", "services:\n  a: [\n", "rendered invalid YAML"},
		{"no services", "networks: {}\n", "rendered no services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".tmpl")
			if err := os.WriteFile(p, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			s := spec.Scenario{ID: "x", Replicas: 2, Image: "img:1", Service: spec.Service{Port: 80, Template: p}}
			b, err := Render(s, Params{Ports: spec.PortRange{Lo: 18000, Hi: 18001}})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), `"18000-18001:80"`) {
					t.Errorf("user template output lacks the port range:\n%s", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[int64]string{0: "", 10 << 30: "10G", 700 << 20: "700M", 1500 << 10: "1500K", 6<<20 + 1: "6291457b"} {
		if got := Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestProject(t *testing.T) {
	a, b := Project("run-1", "s1"), Project("run-2", "s1")
	if a == b || a != Project("run-1", "s1") {
		t.Errorf("Project is not stable and run-specific: %s %s", a, b)
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			t.Errorf("project %q has %q", a, c)
		}
	}
}

func TestFreePorts(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if _, err := FreePorts(spec.PortRange{Lo: busy, Hi: busy}, 1); !errors.Is(err, ErrNoPorts) {
		t.Errorf("a taken port was offered: err = %v", err)
	}
	if busy+40 <= 65535 {
		r, err := FreePorts(spec.PortRange{Lo: busy, Hi: busy + 40}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if r.Lo <= busy || r.Size() != 3 {
			t.Errorf("FreePorts = %v, want 3 ports above the taken %d", r, busy)
		}
		for p := r.Lo; p <= r.Hi; p++ {
			l, err := net.Listen("tcp", ":"+itoaPort(p))
			if err != nil {
				t.Errorf("port %d of %v is not free: %v", p, r, err)
				continue
			}
			l.Close()
		}
	}
	if _, err := FreePorts(spec.PortRange{Lo: 18000, Hi: 18010}, 0); err == nil {
		t.Error("0 ports reserved")
	}
}

// FuzzQuote checks that any scenario value written through quote stays one YAML
// string: it never adds keys and reads back unchanged (with '$' doubled).
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"plain", "a\": b", "x\n  privileged: true", "${HOME}", "\u2028", "\x00", "'\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			v = string([]rune(v)) // each invalid byte becomes U+FFFD, as in Quote
		}
		doc := "k: " + Quote(v) + "\n"
		var m map[string]string
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%q does not parse: %v", doc, err)
		}
		if len(m) != 1 || strings.ReplaceAll(m["k"], "$$", "$") != v {
			t.Fatalf("%q read back as %q", v, m)
		}
	})
}

func TestRenderSwarm(t *testing.T) {
	s := spec.Scenario{ID: "s-r3", Replicas: 3, CPUs: 0.5, MemoryBytes: 256 << 20, Image: "svc:1", CPUSet: "1",
		Service: spec.Service{Port: 8000, Health: "/health"}}
	type port struct {
		Target    int    `yaml:"target"`
		Published int    `yaml:"published"`
		Mode      string `yaml:"mode"`
	}
	type stack struct {
		Services map[string]struct {
			CPUSet string `yaml:"cpuset"`
			Ports  []port `yaml:"ports"`
			Deploy struct {
				Replicas  int `yaml:"replicas"`
				Placement struct {
					Constraints []string `yaml:"constraints"`
				} `yaml:"placement"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	for _, tc := range []struct {
		publish string
		ports   spec.PortRange
		want    port
	}{
		{PublishHost, spec.PortRange{}, port{Target: 8000, Mode: "host"}},
		{PublishIngress, spec.PortRange{Lo: 18100, Hi: 18100}, port{Target: 8000, Published: 18100, Mode: "ingress"}},
	} {
		sw := &Swarm{Publish: tc.publish, Constraints: []string{"node.role==worker", `node.labels.x!=a"b`}}
		if n := PortsNeeded(s, sw); n != tc.ports.Size() {
			t.Errorf("%s: PortsNeeded = %d, want %d", tc.publish, n, tc.ports.Size())
		}
		b, err := Render(s, Params{RunID: "r", Project: "p", Ports: tc.ports, Swarm: sw})
		if err != nil {
			t.Fatal(err)
		}
		var st stack
		if err := yaml.Unmarshal(b, &st); err != nil {
			t.Fatalf("%s: %v\n%s", tc.publish, err, b)
		}
		app := st.Services[Service]
		if len(app.Ports) != 1 || app.Ports[0] != tc.want {
			t.Errorf("%s: ports %+v, want %+v", tc.publish, app.Ports, tc.want)
		}
		if app.CPUSet != "" {
			t.Errorf("%s: cpuset %q rendered; swarm cannot pin CPUs", tc.publish, app.CPUSet)
		}
		if c := app.Deploy.Placement.Constraints; !reflect.DeepEqual(c, sw.Constraints) {
			t.Errorf("%s: constraints %q, want %q", tc.publish, c, sw.Constraints)
		}
	}
	if _, err := Render(s, Params{RunID: "r", Project: "p", Swarm: &Swarm{Publish: "auto"}}); err == nil {
		t.Error("publish auto rendered; the platform must decide host or ingress first")
	}
}

func TestRenderProxy(t *testing.T) {
	s := spec.Scenario{ID: "p-r3", Replicas: 3, CPUs: 1, MemoryBytes: 256 << 20, Image: "svc:1", Balancer: "proxy",
		Proxy:   &spec.Proxy{Policy: "least_conn", CPUs: 0.5, MemoryBytes: 128 << 20, Image: "px:1"},
		Service: spec.Service{Port: 8000, Health: "/healthz"}}
	if n := PortsNeeded(s, nil); n != 1 {
		t.Fatalf("PortsNeeded = %d, want 1 for the proxy", n)
	}
	b, err := Render(s, Params{RunID: "r", Project: "p", Ports: spec.PortRange{Lo: 18123, Hi: 18123}})
	if err != nil {
		t.Fatal(err)
	}
	c := parseCompose(t, b)
	app, bal := c.Services[Service], c.Services[BalancerService]
	if len(app.Ports) != 0 {
		t.Errorf("app publishes %v; behind a proxy it must publish nothing", app.Ports)
	}
	if app.Deploy.Replicas != 3 || app.Deploy.Resources.Limits["cpus"] != "1" {
		t.Errorf("app deploy: %+v", app.Deploy)
	}
	if bal.Image != "px:1" || len(bal.Ports) != 1 || bal.Ports[0] != "18123:8080" || bal.Deploy.Replicas != 1 {
		t.Errorf("balancer: image %q ports %v replicas %d", bal.Image, bal.Ports, bal.Deploy.Replicas)
	}
	if l := bal.Deploy.Resources.Limits; l["cpus"] != "0.5" || l["memory"] != "128M" {
		t.Errorf("balancer limits: %v", l)
	}
	wantEnv := map[string]string{"LISTEN": ":8080", "UPSTREAM": "app:8000", "POLICY": "least_conn", "HEALTH": "/healthz"}
	if !reflect.DeepEqual(bal.Environment, wantEnv) {
		t.Errorf("balancer environment %v, want %v", bal.Environment, wantEnv)
	}
	if bal.Labels["dev.infergrid.runner.scenario"] != "p-r3" || bal.Deploy.Labels["dev.infergrid.runner"] != "true" {
		t.Errorf("balancer labels: %v %v", bal.Labels, bal.Deploy.Labels)
	}
	if _, err := Render(s, Params{RunID: "r", Project: "p"}); err == nil {
		t.Error("rendered a proxy stack without a host port")
	}
}
