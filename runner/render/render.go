package render

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"gopkg.in/yaml.v3"

	composetemplates "github.com/infergrid/runner/compose-templates"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/spec"
)

// Service is the name of the service under test in the default template.
const Service = "app"

// BalancerService is the name of the proxy's service (balancer: proxy), and
// BalancerPort the port it listens on inside its container.
const (
	BalancerService = "balancer"
	BalancerPort    = 8080
)

// Params are the run-time inputs of a rendering that the scenario does not hold.
type Params struct {
	// RunID and Project are written as labels; Project is the compose project name.
	RunID   string
	Project string
	// Ports is the host port range published for the replicas; it must hold at
	// least PortsNeeded ports.
	Ports spec.PortRange
	// Swarm renders for docker stack deploy instead of compose; nil for compose.
	Swarm *Swarm
}

// Swarm is how a stack is deployed on platform swarm.
type Swarm struct {
	// Publish is PublishHost or PublishIngress, never auto: the platform decides.
	Publish string
	// Constraints are placement constraints of every service.
	Constraints []string
}

// Swarm publish modes.
const (
	// PublishHost publishes every task on a host port of its node that Docker
	// picks: one endpoint per replica, as compose's port range gives.
	PublishHost = "host"
	// PublishIngress publishes one port on every node; the routing mesh (IPVS)
	// spreads connections over the tasks.
	PublishIngress = "ingress"
)

// Data is what a compose template sees.
type Data struct {
	// Project is the compose project name; RunID and ScenarioID identify the run
	// and the scenario.
	Project, RunID, ScenarioID string
	// Service is the compose service name of the service under test.
	Service string
	// Image is the service image.
	Image string
	// Port is the service's port inside its container.
	Port int
	// Health is the health path the runner polls.
	Health string
	// Replicas is deploy.replicas.
	Replicas int
	// CPUs is the CPU limit per replica ("1.5"); empty means unlimited.
	CPUs string
	// Memory is the memory limit per replica ("1000M"); empty means unlimited.
	Memory string
	// MemoryBytes is the memory limit in bytes; 0 means unlimited.
	MemoryBytes int64
	// CPUSet pins the replicas to CPUs; empty means no pinning.
	CPUSet string
	// HostPorts is the published host port range, "18089-18094" (or one port).
	HostPorts string
	// Ports is the compose ports entry, "HOSTPORTS:PORT".
	Ports string
	// Env is extra environment for the service.
	Env map[string]string
	// Network is the external network to join; empty for none.
	Network string
	// Labels mark everything the stack creates as the runner's (see runner/label).
	Labels map[string]string
	// Balancer is the reverse proxy in front of the replicas (balancer: proxy); nil
	// when the load generator reaches every replica directly. With a balancer the
	// replicas publish no port: HostPorts and Ports are empty.
	Balancer *BalancerData
	// Swarm is set when the file is for docker stack deploy: ports are then
	// written in the long syntax with Swarm.Publish as their mode (host mode
	// publishes no fixed host port: HostPorts and Ports are empty), CPUSet is
	// empty (swarm cannot pin) and the balancer's Upstream is tasks.SERVICE:PORT.
	Swarm *Swarm
}

// BalancerData is what a template sees of the proxy service.
type BalancerData struct {
	// Service is the compose service name of the proxy.
	Service string
	// Image is the proxy image.
	Image string
	// Kind is runner (the runner's proxy, configured by its environment), haproxy
	// or nginx (configured by the file Config).
	Kind string
	// Config is the name of the balancer's config file, written next to the
	// compose file (see Files) and given to the service as a compose config;
	// empty for the runner's proxy.
	Config string
	// ConfigTarget is where the image reads its config.
	ConfigTarget string
	// Port is the proxy's port inside its container.
	Port int
	// Policy is round_robin or least_conn.
	Policy string
	// Upstream is SERVICE:PORT, the name the proxy resolves to every replica.
	Upstream string
	// Health is the replicas' health path the proxy checks.
	Health string
	// CPUs is the proxy's CPU limit ("0.5"); empty means unlimited.
	CPUs string
	// Memory is the proxy's memory limit ("128M"); empty means unlimited.
	Memory string
	// HostPort is the published host port.
	HostPort int
	// Ports is the compose ports entry, "HOSTPORT:PORT".
	Ports string
}

// NewData fills the template data of scenario s.
func NewData(s spec.Scenario, p Params) (Data, error) {
	if s.Replicas < 1 {
		return Data{}, fmt.Errorf("scenario %s has %d replicas; only scenarios that start a service can be rendered", s.ID, s.Replicas)
	}
	if n := PortsNeeded(s, p.Swarm); p.Ports.Size() < n {
		return Data{}, fmt.Errorf("scenario %s: host port range %s holds %d ports, %d needed", s.ID, p.Ports, p.Ports.Size(), n)
	}
	var hp string
	if s.Replicas == 1 {
		hp = strconv.Itoa(p.Ports.Lo)
	} else {
		hp = spec.PortRange{Lo: p.Ports.Lo, Hi: p.Ports.Lo + s.Replicas - 1}.String()
	}
	d := Data{
		Project:     p.Project,
		RunID:       p.RunID,
		ScenarioID:  s.ID,
		Service:     Service,
		Image:       s.Image,
		Port:        s.Service.Port,
		Health:      s.Service.Health,
		Replicas:    s.Replicas,
		MemoryBytes: s.MemoryBytes,
		Memory:      Bytes(s.MemoryBytes),
		CPUSet:      s.CPUSet,
		HostPorts:   hp,
		Ports:       fmt.Sprintf("%s:%d", hp, s.Service.Port),
		Env:         s.Service.Env,
		Network:     s.Network,
		Labels: map[string]string{
			label.Managed:  "true",
			label.Run:      p.RunID,
			label.Scenario: s.ID,
			label.Project:  p.Project,
		},
	}
	if s.CPUs > 0 {
		d.CPUs = strconv.FormatFloat(s.CPUs, 'f', -1, 64)
	}
	if s.Proxy != nil {
		d.HostPorts, d.Ports = "", ""
		d.Balancer = balancerData(s, p)
	}
	if p.Swarm != nil {
		if err := d.onSwarm(p.Swarm, p.Ports.Lo); err != nil {
			return Data{}, fmt.Errorf("scenario %s: %w", s.ID, err)
		}
	}
	return d, nil
}

// balancerData is the template data of the proxy in front of s's replicas,
// published on the first port of p.Ports.
func balancerData(s spec.Scenario, p Params) *BalancerData {
	px := s.Proxy
	b := &BalancerData{
		Service:  BalancerService,
		Image:    px.Image,
		Kind:     cmp.Or(px.Kind, spec.ProxyRunner),
		Port:     BalancerPort,
		Policy:   px.Policy,
		Upstream: fmt.Sprintf("%s:%d", Service, s.Service.Port),
		Health:   s.Service.Health,
		Memory:   Bytes(px.MemoryBytes),
		HostPort: p.Ports.Lo,
		Ports:    fmt.Sprintf("%d:%d", p.Ports.Lo, BalancerPort),
	}
	if px.CPUs > 0 {
		b.CPUs = strconv.FormatFloat(px.CPUs, 'f', -1, 64)
	}
	switch px.Kind {
	case spec.ProxyHAProxy:
		b.Config, b.ConfigTarget = HAProxyConfig, HAProxyConfigTarget
	case spec.ProxyNginx:
		b.Config, b.ConfigTarget = NginxConfig, NginxConfigTarget
	}
	return b
}

// onSwarm turns d into the data of a docker stack deploy file: no cpuset, the
// balancer reaching every task, and ports published as sw says (host mode:
// Docker picks each task's port; ingress: the mesh's one port, from firstPort).
func (d *Data) onSwarm(sw *Swarm, firstPort int) error {
	if sw.Publish != PublishHost && sw.Publish != PublishIngress {
		return fmt.Errorf("swarm publish mode %q; want host or ingress", sw.Publish)
	}
	d.Swarm = sw
	d.CPUSet = ""
	if d.Balancer != nil {
		d.Balancer.Upstream = fmt.Sprintf("tasks.%s:%d", Service, d.Port) // every task's address; the bare name is one virtual IP
	}
	switch {
	case sw.Publish == PublishHost:
		d.HostPorts, d.Ports = "", ""
		if d.Balancer != nil {
			d.Balancer.HostPort, d.Balancer.Ports = 0, ""
		}
	case d.Balancer == nil:
		d.HostPorts = strconv.Itoa(firstPort) // the mesh's one port
		d.Ports = fmt.Sprintf("%s:%d", d.HostPorts, d.Port)
	}
	return nil
}

// PortsNeeded is the number of host ports scenario s publishes: one per replica,
// or one for the proxy in front of them; on a swarm, one in ingress mode and none
// in host mode, where Docker picks each task's port.
func PortsNeeded(s spec.Scenario, sw *Swarm) int {
	switch {
	case sw != nil && sw.Publish == PublishHost:
		return 0
	case s.Proxy != nil, sw != nil:
		return 1
	}
	return s.Replicas
}

// Bytes writes a memory size the way both compose implementations read it (binary
// units: 1000M is 1000 MiB); empty for 0.
func Bytes(b int64) string {
	switch {
	case b == 0:
		return ""
	case b%(1<<30) == 0:
		return fmt.Sprintf("%dG", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%dM", b>>20)
	case b%(1<<10) == 0:
		return fmt.Sprintf("%dK", b>>10)
	}
	return fmt.Sprintf("%db", b)
}

// Template is a parsed compose template.
type Template struct {
	name string
	t    *template.Template
}

// funcs are the functions templates may use.
var funcs = template.FuncMap{"quote": Quote}

// Quote writes v as a double-quoted YAML string in which compose interpolation
// cannot happen ('$' is doubled) and every character YAML does not allow raw is
// escaped.
func Quote(v any) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s { // invalid UTF-8 arrives as U+FFFD
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '$':
			b.WriteString("$$")
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029,
			r >= 0xe000 && r <= 0xfffd && r != 0xfeff, r >= 0x10000 && r <= 0x10ffff:
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Default returns the embedded default template.
func Default() *Template { return defaultTemplate() }

// defaultTemplate parses the embedded template once.
var defaultTemplate = sync.OnceValue(func() *Template {
	t, err := parse(composetemplates.Default, composetemplates.FS)
	if err != nil {
		panic(err) // the embedded template is tested
	}
	return t
})

func parse(name string, fsys interface{ ReadFile(string) ([]byte, error) }) (*Template, error) {
	src, err := fsys.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read compose template: %w", err)
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("compose template %s: %w", name, err)
	}
	return &Template{name: name, t: t}, nil
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// ParseFile reads a user's compose template.
func ParseFile(path string) (*Template, error) { return parse(path, osFS{}) }

// For returns the template of scenario s: its service.template, else the default.
func For(s spec.Scenario) (*Template, error) {
	if s.Service.Template == "" {
		return Default(), nil
	}
	return ParseFile(s.Service.Template)
}

// Execute renders d and checks that the result is a YAML mapping with services.
func (t *Template) Execute(d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := t.t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("cannot render compose template %s: %w", t.name, err)
	}
	var doc struct {
		Services map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("compose template %s rendered invalid YAML for scenario %s: %w", t.name, d.ScenarioID, err)
	}
	if len(doc.Services) == 0 {
		return nil, fmt.Errorf("compose template %s rendered no services for scenario %s", t.name, d.ScenarioID)
	}
	return b.Bytes(), nil
}

// Render renders the compose file of scenario s with its own template.
func Render(s spec.Scenario, p Params) ([]byte, error) {
	t, err := For(s)
	if err != nil {
		return nil, err
	}
	d, err := NewData(s, p)
	if err != nil {
		return nil, err
	}
	return t.Execute(d)
}

// Files returns the files the compose file of scenario s refers to, by name: the
// config of a HAProxy or nginx balancer (balancer.cfg, balancer.conf); nil for
// every other scenario. p.Ports is not used: no config depends on host ports.
func Files(s spec.Scenario, p Params) (map[string][]byte, error) {
	if s.Proxy == nil || s.Proxy.Runner() {
		return nil, nil
	}
	p.Ports = spec.PortRange{Lo: 1, Hi: max(PortsNeeded(s, p.Swarm), 1)} // any range NewData accepts
	d, err := NewData(s, p)
	if err != nil {
		return nil, err
	}
	b, err := BalancerConfig(d.Balancer.Kind, *d.Balancer, s.Replicas, p.Swarm != nil)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.ID, err)
	}
	return map[string][]byte{d.Balancer.Config: b}, nil
}

// Project is the compose project name of a scenario in a run: "runner-" plus a
// short hash of the run ID plus the scenario ID, lowercase [a-z0-9_-] as both
// compose implementations require, and unique across runs.
func Project(runID, scenarioID string) string {
	h := sha256.Sum256([]byte(runID))
	return "runner-" + hex.EncodeToString(h[:3]) + "-" + scenarioID
}

// Check renders every scenario of f that starts a service with its template, so
// a broken user template is reported before anything runs (runner validate, and
// runner run before it starts). A file of platform external, or a service given
// only by its command, has no compose file.
func Check(f *spec.File) error {
	if f.Platform == "external" || f.Service.CommandOnly() {
		return nil
	}
	for _, s := range f.Scenarios() {
		lo := f.Service.HostPorts.Lo
		p := Params{RunID: f.Name + "-validate", Project: Project(f.Name+"-validate", s.ID),
			Ports: spec.PortRange{Lo: lo, Hi: lo + s.Replicas - 1}}
		if _, err := Render(s, p); err != nil {
			return err
		}
	}
	return nil
}
