package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/infergrid/runner/runner/dataset"
	"gopkg.in/yaml.v3"
)

// Defaults of the scenario format, used where neither the block nor the defaults
// section says otherwise.
const (
	DefaultPlatform      = "auto"
	DefaultDuration      = 30 * time.Second
	DefaultWarmup        = 5 * time.Second
	DefaultBalancer      = "client"
	DefaultReplicas      = 1
	DefaultTimeout       = 10 * time.Second
	DefaultPort          = 8000
	DefaultHealth        = "/health"
	DefaultHealthTimeout = 60 * time.Second
	DefaultPath          = "/"
	// DefaultSearchSteps is a capacity search's step budget.
	DefaultSearchSteps = 10
	// DefaultStepDuration is the measured time of each capacity-search step.
	DefaultStepDuration = 10 * time.Second
	// DefaultSearchPrecision is the relative bracket width at which a capacity
	// search stops bisecting.
	DefaultSearchPrecision = 0.05
	// DefaultMinGoodput is the share of a search step's requests that must meet
	// slo.goodput when the search is on goodput.
	DefaultMinGoodput = 0.95
	// MaxSearchSteps bounds a capacity search's step budget.
	MaxSearchSteps = 50
	// DefaultRepeat is how many times each scenario runs.
	DefaultRepeat = 1
	// MaxRepeat bounds repeat: a hundred runs of one scenario is more than any
	// confidence interval needs, and more is likely a typo.
	MaxRepeat = 100
	// MaxScenarios bounds the expansion of one file.
	MaxScenarios = 10_000
	// MaxBodyBytes bounds one request body file.
	MaxBodyBytes = 10 << 20
	// MaxFileBytes bounds a scenario file: a larger one is refused before it is
	// read whole.
	MaxFileBytes = 10 << 20
)

// DefaultHostPorts is the host port range replicas are published from.
var DefaultHostPorts = PortRange{Lo: 18000, Hi: 18999}

// Platforms lists the valid values of platform.
var Platforms = []string{"auto", "compose", "swarm", "local", "external"}

// Balancers lists the valid balancing modes.
var Balancers = []string{"none", "client", "proxy"}

// ProxyPolicies lists the proxy's balancing policies.
var ProxyPolicies = []string{"round_robin", "least_conn"}

// Methods lists the HTTP methods a request may use.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Load reads, validates and resolves the scenario file at path. All problems are
// returned at once, joined; each is an *Error and wraps ErrInvalid.
func Load(path string) (*File, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("cannot resolve scenario folder: %w", err)
	}
	return Parse(path, dir, data)
}

// readCapped reads a scenario file of at most MaxFileBytes. A larger file is an
// *Error wrapping ErrInvalid that gives its size; a pipe or device is read up to
// the cap and refused past it.
func readCapped(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario file: %w", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileBytes {
		return nil, tooBig(path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, tooBig(path, int64(len(data)))
	}
	return data, nil
}

// tooBig is the error for a scenario file over MaxFileBytes; a size read from a
// pipe is a lower bound.
func tooBig(name string, size int64) error {
	return invalid(&decoder{}, &Error{File: name, Msg: fmt.Sprintf(
		"the scenario file is %s (%d bytes); the limit is %s: a scenario file describes a study, so keep request bodies in body_file or body_files",
		units.BytesSize(float64(size)), size, units.BytesSize(MaxFileBytes))})
}

// Parse validates and resolves a scenario file read from data; name is used in error
// messages and dir resolves relative paths.
func Parse(name, dir string, data []byte) (*File, error) {
	f := &File{Path: name, Dir: dir}
	d := &decoder{file: name, pos: positions{}}
	if len(data) > MaxFileBytes {
		return nil, tooBig(name, int64(len(data)))
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid(d, &Error{File: name, Msg: "the file is empty; it needs at least name, service and grid"})
		}
		return nil, invalid(d, yamlError(name, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "only one YAML document is allowed; remove the second ---")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.decode(root, reflect.ValueOf(f).Elem(), "")
	if d.nodes <= maxNodes && !d.bad[""] {
		d.validating = true
		d.validate(f)
	}
	f.pos = d.pos
	if len(d.errs) > 0 {
		return nil, invalid(d)
	}
	return f, nil
}

func invalid(d *decoder, extra ...*Error) error {
	all := append(d.errs, extra...)
	slices.SortStableFunc(all, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	errs := make([]error, len(all))
	for i, e := range all {
		errs[i] = fmt.Errorf("%w%w", e, sentinel{})
	}
	return errors.Join(errs...)
}

// sentinel makes each problem wrap ErrInvalid without changing its message.
type sentinel struct{}

func (sentinel) Error() string        { return "" }
func (sentinel) Is(target error) bool { return target == ErrInvalid }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(name string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &Error{File: name, Line: line, Col: 1, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{File: name, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (d *decoder) has(path string) bool { _, ok := d.pos[path]; return ok }

func oneOf(v string, valid []string) bool { return slices.Contains(valid, v) }

// validate checks the meaning of a file that decoded without type errors, and
// resolves its paths.
func (d *decoder) validate(f *File) {
	switch {
	case f.Name == "":
		d.errAt("name", "name is required: lowercase letters, digits, '-' and '_', e.g. name: workshop5")
	case !namePattern.MatchString(f.Name) || len(f.Name) > 40:
		d.errAt("name", "%q: use at most 40 lowercase letters, digits, '-' and '_', starting with a letter or digit", f.Name)
	}
	if f.Platform == "" {
		f.Platform = DefaultPlatform
	} else if !oneOf(f.Platform, Platforms) {
		d.errAt("platform", "%q is not a platform; use one of %s%s", f.Platform, strings.Join(Platforms, ", "), suggest(f.Platform, Platforms))
	}
	external := f.Platform == "external"
	if external {
		if f.Service != nil {
			d.errAt("service", "platform external runs nothing: the targets are the service; remove service")
		}
		if f.Network != "" {
			d.errAt("network", "platform external runs nothing, so it joins no network; remove network")
		}
		if len(f.Targets) == 0 {
			d.errAt("platform", "platform external needs targets: a list of base URLs such as http://127.0.0.1:8080")
		}
		for i, t := range f.Targets {
			u, err := url.Parse(t)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errAt(fmt.Sprintf("targets[%d]", i), "%q is not a base URL; use http://HOST:PORT", t)
			}
		}
	} else {
		if len(f.Targets) > 0 {
			d.errAt("targets", "targets are for platform external (endpoints already running); with platform %s the runner starts the service", f.Platform)
		}
		if f.Service == nil {
			d.errAt("service", "service is required: service: {build: DIR} or service: {image: NAME:TAG}, with port and health")
		} else {
			d.validateService(f)
		}
		if f.Network != "" && !regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`).MatchString(f.Network) {
			d.errAt("network", "%q is not a Docker network name; use letters, digits, '_', '.' and '-'", f.Network)
		}
	}
	d.validateSwarm(f)
	d.validateRequest(f)
	d.validateDefaults(f)
	d.validateSLO(f)
	d.validateGrid(f, external)
	if f.Platform == "compose" || f.Platform == "local" { // auto may run on --platform swarm
		d.checkGeneratorPlatform(f, f.Platform)
	}
}

// Publish modes of the swarm section.
var SwarmPublish = []string{"auto", "host", "ingress"}

func (d *decoder) validateSwarm(f *File) {
	sw := f.Swarm
	if sw == nil {
		return
	}
	if f.Platform == "external" {
		d.errAt("swarm", "platform external runs nothing, so there is nothing to deploy on a swarm; remove swarm")
	}
	if sw.Publish == "" {
		sw.Publish = "auto"
	} else if !oneOf(sw.Publish, SwarmPublish) {
		d.errAt("swarm.publish", "%q is not a publish mode; use auto, host or ingress%s", sw.Publish, suggest(sw.Publish, SwarmPublish))
	}
	for i, c := range sw.Constraints {
		if !constraintPattern.MatchString(c) {
			d.errAt(fmt.Sprintf("swarm.constraints[%d]", i), "%q is not a placement constraint; write ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.runner==sut", c)
		}
	}
	d.validateGeneratorConstraints(sw)
	names := map[string]bool{}
	for i, n := range sw.Nodes {
		p := fmt.Sprintf("swarm.nodes[%d]", i)
		switch {
		case n.Name == "":
			d.errAt(p+".name", "a node needs its hostname, as docker node ls shows it")
		case names[n.Name]:
			d.errAt(p+".name", "node %q is listed twice", n.Name)
		}
		names[n.Name] = true
		if u, err := url.Parse(n.DockerHost); err != nil || (u.Scheme != "tcp" && u.Scheme != "unix") || (u.Scheme == "tcp" && u.Host == "") {
			d.errAt(p+".docker_host", "%q is not a Docker API address; use tcp://HOST:PORT or unix:///PATH", n.DockerHost)
		}
		if n.Address != "" && strings.ContainsAny(n.Address, "/: ") && net.ParseIP(n.Address) == nil {
			d.errAt(p+".address", "%q is not a host name or IP address", n.Address)
		}
	}
}

// constraintPattern is a swarm placement constraint: an attribute, == or !=, a value.
var constraintPattern = regexp.MustCompile(`^\s*[a-zA-Z][a-zA-Z0-9_.-]*\s*(==|!=)\s*[^\s=!]+\s*$`)

func (d *decoder) validateService(f *File) {
	s := f.Service
	if s.Build == "" && s.Image == "" && len(s.Command) == 0 {
		d.errAt("service", "service needs build (a folder with a Dockerfile or a Go main package), image (NAME:TAG), or for platform local command (the command line that starts it, e.g. [python3, -m, http.server, \"{{.Port}}\"])")
	}
	d.validateCommand(f)
	if s.Build != "" {
		s.Build = f.abs(s.Build)
		// Platform local runs the command and builds nothing: the folder is for
		// compose and swarm, and is not checked there.
		if f.Platform != "local" || len(s.Command) == 0 {
			kind, err := buildKind(s.Build)
			if err != nil {
				d.errAt("service.build", "%s", err)
			}
			s.BuildKind = kind
		}
	}
	if s.Image != "" && !imagePattern.MatchString(s.Image) {
		d.errAt("service.image", "%q is not an image reference; use lowercase NAME:TAG such as myservice:1.0", s.Image)
	}
	d.checkServicePlatform(f, f.Platform)
	if s.Template != "" {
		s.Template = f.abs(s.Template)
		if st, err := os.Stat(s.Template); err != nil || st.IsDir() {
			d.errAt("service.template", "template file %s does not exist; give a compose template path relative to the scenario file", s.Template)
		}
	}
	if !d.has("service.port") {
		s.Port = DefaultPort
	} else if s.Port < 1 || s.Port > 65535 {
		d.errAt("service.port", "%d is not a port; use 1..65535", s.Port)
	}
	if s.Health == "" {
		s.Health = DefaultHealth
	} else if !strings.HasPrefix(s.Health, "/") {
		d.errAt("service.health", "%q must be a path starting with /, e.g. /health", s.Health)
	}
	if !s.HealthTimeout.set {
		s.HealthTimeout = Duration{DefaultHealthTimeout, true}
	} else if s.HealthTimeout.Duration <= 0 {
		d.errAt("service.health_timeout", "must be more than 0, e.g. 60s")
	}
	if s.HostPorts.Lo == 0 {
		s.HostPorts = DefaultHostPorts
	}
	switch s.Address {
	case "":
		s.Address = "published"
	case "published", "container":
	default:
		d.errAt("service.address", "%q is not an address mode; use published (the replicas' host ports on 127.0.0.1) or container (their container addresses)", s.Address)
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			d.errAt("service.env", "%q is not an environment variable name", k)
		}
	}
}

// buildKind tells how a build folder becomes an image.
func buildKind(dir string) (string, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("build folder %s does not exist; give a folder with a Dockerfile or a Go main package, relative to the scenario file", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err == nil {
		return "dockerfile", nil
	}
	pkgs := goPackages(dir)
	if slices.Contains(pkgs, "main") {
		return "go", nil
	}
	if len(pkgs) > 0 {
		return "", fmt.Errorf("build folder %s holds Go package %s, not a main package (or add a Dockerfile)", dir, strings.Join(pkgs, ", "))
	}
	return "", fmt.Errorf("build folder %s has neither a Dockerfile nor Go files", dir)
}

// goPackages lists the Go packages of dir's non-test files.
func goPackages(dir string) []string {
	gos, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var pkgs []string
	for _, g := range gos {
		if strings.HasSuffix(g, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), g, nil, parser.PackageClauseOnly)
		if err == nil && !slices.Contains(pkgs, f.Name.Name) {
			pkgs = append(pkgs, f.Name.Name)
		}
	}
	return pkgs
}

func (f *File) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(f.Dir, p)
}

// Stream modes of request.stream.
var StreamModes = []string{"none", "sse"}

// Arrivals lists the arrival processes of a load entry.
var Arrivals = []string{"constant", "poisson", "gamma"}

// Orders lists the body orders.
var Orders = []string{"cycle", "random"}

func (d *decoder) validateRequest(f *File) {
	if !d.has("requests") {
		d.checkRequest(f, "request", &f.Request)
		for _, k := range []string{"name", "weight"} {
			if d.has("request." + k) {
				d.errAt("request."+k, "%s belongs to an entry of requests (a weighted mix); a single request needs none", k)
			}
		}
		return
	}
	if d.has("request") {
		d.errAt("requests", "give request (one request) or requests (a weighted mix), not both")
	}
	if len(f.Requests) == 0 {
		d.errAt("requests", "the mix is empty; give entries like {name: chat, weight: 9, path: /v1/chat/completions}")
	}
	names := map[string]string{}
	total := 0.0
	for i := range f.Requests {
		r := &f.Requests[i]
		p := fmt.Sprintf("requests[%d]", i)
		d.checkRequest(f, p, r)
		switch {
		case r.Name == "":
			d.errAt(p, "a mix entry needs a name (lowercase letters, digits, '-' and '_'), e.g. name: chat")
		case !namePattern.MatchString(r.Name) || len(r.Name) > 40:
			d.errAt(p+".name", "%q: use at most 40 lowercase letters, digits, '-' and '_', starting with a letter or digit", r.Name)
		default:
			if prev, dup := names[r.Name]; dup {
				d.errAt(p+".name", "request name %q is already used by %s; names must be unique", r.Name, prev)
			}
			names[r.Name] = p
		}
		if r.Weight == nil {
			w := 1.0
			r.Weight = &w
		} else if !(*r.Weight >= 0) || math.IsInf(*r.Weight, 0) {
			d.errAt(p+".weight", "%g: a weight must be 0 or more (a share relative to the other entries)", *r.Weight)
		}
		total += max(*r.Weight, 0)
	}
	if len(f.Requests) > 0 && total <= 0 {
		d.errAt("requests", "every weight is 0; give at least one entry a positive weight")
	}
}

// checkRequest validates one request (request, or an entry of requests at p)
// and reads its bodies.
func (d *decoder) checkRequest(f *File, p string, r *Request) {
	if r.Method == "" {
		r.Method = "GET"
		if r.Body != "" || r.BodyFile != "" || len(r.BodyFiles) > 0 || r.Dataset != "" {
			r.Method = "POST"
		}
	} else if r.Method = strings.ToUpper(r.Method); !oneOf(r.Method, Methods) {
		d.errAt(p+".method", "%q is not a method; use one of %s", r.Method, strings.Join(Methods, ", "))
	}
	if r.Path == "" {
		r.Path = DefaultPath
	} else if !strings.HasPrefix(r.Path, "/") {
		d.errAt(p+".path", "%q must start with /, e.g. /predict", r.Path)
	}
	n := 0
	for _, set := range []bool{r.Body != "", r.BodyFile != "", len(r.BodyFiles) > 0, r.Dataset != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		d.errAt(p, "give only one of body, body_file, body_files and dataset")
	}
	isJSON := false
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Content-Type") && strings.Contains(strings.ToLower(v), "json") {
			isJSON = true
		}
	}
	d.readBodies(f, p, r, isJSON)
	d.checkOrder(p, r)
	switch r.Stream {
	case "":
		r.Stream = "none"
	case "none", "sse":
	default:
		d.errAt(p+".stream", "%q: use none or sse (Server-Sent Events)%s", r.Stream, suggest(r.Stream, StreamModes))
	}
	if r.Seed < 0 {
		d.errAt(p+".seed", "%d: a seed must be 0 (draw one) or more", r.Seed)
	}
	for k := range r.Headers {
		if k == "" || strings.ContainsAny(k, ": \t\r\n") {
			d.errAt(p+".headers", "%q is not a header name", k)
		}
	}
}

// checkOrder validates order and its older name body_order.
func (d *decoder) checkOrder(p string, r *Request) {
	for _, o := range []struct{ key, v string }{{"body_order", r.BodyOrder}, {"order", r.Order}} {
		if o.v != "" && !oneOf(o.v, Orders) {
			d.errAt(p+"."+o.key, "%q: use cycle or random", o.v)
		}
	}
	if r.Order != "" && r.BodyOrder != "" && r.Order != r.BodyOrder {
		d.errAt(p+".order", "order %s and body_order %s disagree; give only order", r.Order, r.BodyOrder)
	}
	r.Order = cmp(r.Order, r.BodyOrder, "cycle")
	r.BodyOrder = r.Order
}

// readBodies reads the inline body, the body files or the dataset of r.
func (d *decoder) readBodies(f *File, p string, r *Request, isJSON bool) {
	checkJSON := func(path string, b []byte) {
		if isJSON && !json.Valid(b) {
			var v any
			err := json.Unmarshal(b, &v)
			d.errAt(path, "the body is not valid JSON but Content-Type says JSON: %v", err)
		}
	}
	check := func(path, file string) {
		st, err := os.Stat(f.abs(file))
		switch {
		case err != nil || st.IsDir():
			d.errAt(path, "body file %s does not exist (paths are relative to the scenario file's folder)", f.abs(file))
		case !st.Mode().IsRegular():
			d.errAt(path, "body file %s is not a regular file", f.abs(file))
		case st.Size() > MaxBodyBytes:
			d.errAt(path, "body file %s is %d bytes; the limit is %d", file, st.Size(), MaxBodyBytes)
		default:
			b, err := os.ReadFile(f.abs(file))
			if err != nil {
				d.errAt(path, "cannot read body file: %s", err)
			}
			checkJSON(path, b)
			r.bodies = append(r.bodies, b)
		}
	}
	if r.Body != "" {
		checkJSON(p+".body", []byte(r.Body))
		r.bodies = [][]byte{[]byte(r.Body)}
	}
	if r.BodyFile != "" {
		check(p+".body_file", r.BodyFile)
	}
	for i, file := range r.BodyFiles {
		check(fmt.Sprintf("%s.body_files[%d]", p, i), file)
	}
	if r.Dataset != "" {
		ds, err := dataset.Read(f.abs(r.Dataset), dataset.Options{JSON: isJSON})
		if err != nil {
			d.errAt(p+".dataset", "%v", err)
		}
		r.data = ds
	}
}

func (d *decoder) validateDefaults(f *File) {
	df := &f.Defaults
	if df.Duration.set && df.Duration.Duration <= 0 {
		d.errAt("defaults.duration", "must be more than 0, e.g. 30s")
	}
	if df.Balancer.Type != "" {
		d.checkBalancer(f, "defaults.balancer", df.Balancer)
	}
	if d.has("defaults.replicas") && df.Replicas < 1 {
		d.errAt("defaults.replicas", "%d: replicas must be 1 or more", df.Replicas)
	}
	if d.has("defaults.spawn_rate") && df.SpawnRate <= 0 {
		d.errAt("defaults.spawn_rate", "must be more than 0 users per second")
	}
	if d.has("defaults.max_workers") && df.MaxWorkers < 1 {
		d.errAt("defaults.max_workers", "must be 1 or more")
	}
	if df.Timeout.set && df.Timeout.Duration <= 0 {
		d.errAt("defaults.timeout", "must be more than 0, e.g. 10s")
	}
	if df.CPUSet != "" {
		d.checkCPUSet("defaults.cpuset", df.CPUSet)
	}
	d.checkRepeat("defaults.repeat", df.Repeat)
	d.checkGenerators("defaults.generators", df.Generators)
	if f.Platform == "external" {
		for _, k := range []string{"replicas", "cpus", "memory", "cpuset"} {
			if d.has("defaults." + k) {
				d.errAt("defaults."+k, "platform external runs no service, so %s cannot apply; remove it", k)
			}
		}
	}
}

func (d *decoder) checkBalancer(f *File, path string, b BalancerSpec) {
	if !oneOf(b.Type, Balancers) {
		d.errAt(path, "%q is not a balancer; use none (all load to the first replica), client (round-robin over every replica) or proxy (a reverse proxy in front of the replicas)%s", b.Type, closest(b.Type, Balancers))
		return
	}
	if b.Type != "proxy" {
		for _, k := range []string{"policy", "cpus", "memory", "image"} {
			if d.has(path + "." + k) {
				d.errAt(path+"."+k, "%s is an option of the proxy; balancer %s has none (use {type: proxy, %s: ...})", k, b.Type, k)
			}
		}
		return
	}
	if b.Policy != "" && !oneOf(b.Policy, ProxyPolicies) {
		d.errAt(path+".policy", "%q is not a proxy policy; use round_robin or least_conn%s", b.Policy, closest(b.Policy, ProxyPolicies))
	}
	if f.Platform == "external" {
		d.errAt(path, "balancer proxy puts a proxy in the stack, and platform external runs no stack; use none or client")
	}
	if b.Image != "" {
		switch {
		case !imagePattern.MatchString(b.Image):
			d.errAt(path+".image", "%q is not an image reference; use lowercase NAME:TAG such as haproxy:2.6 or nginx:1.22", b.Image)
		case ProxyKind(b.Image) == "":
			d.errAt(path+".image", "image %s: the runner generates configs for haproxy and nginx images; use an image whose repository name is haproxy or nginx (haproxy:2.6, registry.example.com/nginx:1.22), or leave image out for the runner's own proxy", b.Image)
		case f.Platform == "local":
			d.errAt(path+".image", "image %s runs in a container, and platform local runs processes; use platform compose or swarm, or leave image out", b.Image)
		}
	}
}

// imagePattern is an image reference as service.image and balancer.image accept it.
var imagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)

// checkRepeat checks a repeat key at path, when the file gives it.
func (d *decoder) checkRepeat(path string, n int) {
	if d.has(path) {
		if err := CheckRepeat(n); err != nil {
			d.errAt(path, "%v", err)
		}
	}
}

// CheckRepeat says why n cannot be a repeat count (the key or --repeat).
func CheckRepeat(n int) error {
	if n < 1 || n > MaxRepeat {
		return fmt.Errorf("%d: repeat must be 1 to %d runs of each scenario (5 or more let runner compare tell a change from noise)", n, MaxRepeat)
	}
	return nil
}

var cpusetPattern = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)

func (d *decoder) checkCPUSet(path, s string) {
	if !cpusetPattern.MatchString(s) {
		d.errAt(path, "%q is not a CPU list; use CPU numbers and ranges such as 1, 0-1 or 0,2", s)
	}
}

func (d *decoder) validateSLO(f *File) {
	if f.SLO == nil {
		return
	}
	s := f.SLO
	for _, k := range []struct {
		name string
		v    Duration
	}{{"p50", s.P50}, {"p95", s.P95}, {"p99", s.P99},
		{"ttft_p50", s.TTFTP50}, {"ttft_p95", s.TTFTP95}, {"ttft_p99", s.TTFTP99},
		{"itl_p95", s.ITLP95}, {"itl_p99", s.ITLP99}, {"tpot_p95", s.TPOTP95}, {"tpot_p99", s.TPOTP99}} {
		if k.v.set && k.v.Duration <= 0 {
			d.errAt("slo."+k.name, "must be more than 0, e.g. 500ms")
		}
		if k.v.set && strings.Contains(k.name, "_") && !f.streams() {
			d.errAt("slo."+k.name, "%s is a streaming objective, and no request streams; add stream: sse to the request", k.name)
		}
	}
	if g := s.Goodput; g != nil {
		if !g.TTFT.set && !g.TPOT.set && !g.Latency.set {
			d.errAt("slo.goodput", "goodput needs at least one per-request limit: ttft, tpot or latency, e.g. goodput: {ttft: 1s, tpot: 100ms}")
		}
		for _, k := range []struct {
			name string
			v    Duration
		}{{"ttft", g.TTFT}, {"tpot", g.TPOT}, {"latency", g.Latency}} {
			if k.v.set && k.v.Duration <= 0 {
				d.errAt("slo.goodput."+k.name, "must be more than 0, e.g. 1s")
			}
			if k.v.set && k.name != "latency" && !f.streams() {
				d.errAt("slo.goodput."+k.name, "%s limits streamed answers, and no request streams; add stream: sse to the request, or use latency", k.name)
			}
		}
	}
}

// streams reports whether the file's request, or an entry of its mix, streams.
func (f *File) streams() bool {
	if f.Request.Stream == "sse" {
		return true
	}
	for _, r := range f.Requests {
		if r.Stream == "sse" {
			return true
		}
	}
	return false
}

// validateArrival checks a load entry's arrival, burstiness and seed.
func (d *decoder) validateArrival(p string, l *LoadEntry) {
	if l.Arrival != "" && !oneOf(l.Arrival, Arrivals) {
		d.errAt(p+".arrival", "%q: use constant, poisson or gamma (with burstiness)%s", l.Arrival, suggest(l.Arrival, Arrivals))
	}
	if l.Arrival != "" && l.Arrival != "constant" && d.has(p+".users") {
		d.errAt(p+".arrival", "arrival applies to an arrival rate (rate: 20/s, a ramp or a capacity search), not to users")
	}
	if d.has(p + ".burstiness") {
		switch {
		case l.Arrival != "gamma":
			d.errAt(p+".burstiness", "burstiness is the shape of gamma arrivals; add arrival: gamma")
		case !(l.Burstiness > 0) || math.IsInf(l.Burstiness, 0):
			d.errAt(p+".burstiness", "%g: must be more than 0 (1 is Poisson, below 1 burstier)", l.Burstiness)
		}
	}
	if l.Seed < 0 {
		d.errAt(p+".seed", "%d: a seed must be 0 (draw one) or more", l.Seed)
	} else if d.has(p+".seed") && l.Arrival != "poisson" && l.Arrival != "gamma" {
		d.errAt(p+".seed", "seed repeats poisson or gamma arrivals; add arrival: poisson or gamma")
	}
}

func (d *decoder) validateGrid(f *File, external bool) {
	if len(f.Grid) == 0 {
		d.errAt("grid", "the grid is empty; add at least one block: grid: [{name: base, load: [{users: 10, spawn_rate: 10}]}]")
		return
	}
	names := map[string]string{}
	for i := range f.Grid {
		b := &f.Grid[i]
		p := fmt.Sprintf("grid[%d]", i)
		switch {
		case b.Name == "":
			d.errAt(p, "a block needs a name (lowercase letters, digits, '-' and '_')")
		case !namePattern.MatchString(b.Name) || len(b.Name) > 40:
			d.errAt(p+".name", "%q: use at most 40 lowercase letters, digits, '-' and '_', starting with a letter or digit", b.Name)
		default:
			if prev, dup := names[b.Name]; dup {
				d.errAt(p+".name", "block name %q is already used by %s; block names must be unique", b.Name, prev)
			}
			names[b.Name] = p
		}
		if external {
			for _, k := range []string{"replicas", "cpus", "memory", "cpuset"} {
				if d.has(p + "." + k) {
					d.errAt(p+"."+k, "platform external runs no service, so %s cannot apply; a block may set only load, balancer, duration and warmup", k)
				}
			}
		}
		for j, r := range b.Replicas {
			rp := fmt.Sprintf("%s.replicas[%d]", p, j)
			if r < 1 {
				d.errAt(rp, "%d: replicas must be 1 or more", r)
			} else if f.Service != nil && r > f.Service.HostPorts.Size() && f.Service.HostPorts.Size() > 0 && !allProxy(f, b) {
				d.errAt(rp, "%d replicas cannot fit the host port range %s (%d ports); widen service.host_ports", r, f.Service.HostPorts, f.Service.HostPorts.Size())
			}
		}
		if d.has(p+".replicas") && len(b.Replicas) == 0 {
			d.errAt(p+".replicas", "the list is empty; give at least one replica count")
		}
		dupAxis(d, p+".replicas", b.Replicas)
		dupAxis(d, p+".cpus", b.CPUs)
		dupAxis(d, p+".memory", b.Memory)
		dupAxis(d, p+".balancer", b.Balancer)
		for j, bal := range b.Balancer {
			d.checkBalancer(f, fmt.Sprintf("%s.balancer[%d]", p, j), bal)
		}
		if b.CPUSet != "" {
			d.checkCPUSet(p+".cpuset", b.CPUSet)
		}
		if b.Duration.set && b.Duration.Duration <= 0 {
			d.errAt(p+".duration", "must be more than 0, e.g. 30s")
		}
		d.checkRepeat(p+".repeat", b.Repeat)
		d.checkGenerators(p+".generators", b.Generators)
		d.validateGenerators(f, p, b)
		if len(b.Load) == 0 {
			d.errAt(p, "block %q has no load; add load: [{users: 10, spawn_rate: 10}] or [{rate: 100/s}]", b.Name)
		}
		for j := range b.Load {
			d.validateLoad(f, fmt.Sprintf("%s.load[%d]", p, j), &b.Load[j])
		}
	}
	n := 0
	for _, b := range f.Grid {
		n += max(len(b.Replicas), 1) * max(len(b.CPUs), 1) * max(len(b.Memory), 1) * max(len(b.Balancer), 1) * len(b.Load)
		if n > MaxScenarios {
			d.errAt("grid", "the grid expands to more than %d scenarios; split it into several files", MaxScenarios)
			return
		}
	}
	if len(d.errs) == 0 {
		seen := map[string]string{}
		for _, s := range f.scenarios() {
			if prev, dup := seen[s.ID]; dup {
				d.errAt(s.path, "this load level repeats %s (scenario %s); remove the duplicate", prev, s.ID)
			}
			seen[s.ID] = s.path
		}
	}
}

func dupAxis[T comparable](d *decoder, path string, vs []T) {
	for i, v := range vs {
		if j := slices.Index(vs, v); j < i {
			d.errAt(fmt.Sprintf("%s[%d]", path, i), "repeats %s[%d]; each value of an axis must differ", path, j)
		}
	}
}

func (d *decoder) validateLoad(f *File, p string, l *LoadEntry) {
	closed, open, search := d.has(p+".users"), l.Rate != nil, d.has(p+".search")
	switch {
	case search && (closed || open):
		d.errAt(p+".search", "a capacity search sets its own constant rates; give search alone, without users or rate")
	case search:
		d.validateSearch(f, p, l)
	case closed && open:
		d.errAt(p, "give users (closed model: users, spawn_rate, think) or rate (open model), not both")
	case !closed && !open:
		d.errAt(p, "a load level needs users (closed model, with spawn_rate), rate (open model, e.g. rate: 200/s) or search (capacity search, e.g. search: {from: 50/s, to: 5000/s})")
	case closed:
		if l.Users < 1 {
			d.errAt(p+".users", "%d: users must be 1 or more", l.Users)
		}
		if d.has(p+".spawn_rate") && l.SpawnRate <= 0 {
			d.errAt(p+".spawn_rate", "must be more than 0 users per second")
		} else if !d.has(p+".spawn_rate") && !d.has("defaults.spawn_rate") {
			d.errAt(p, "users needs spawn_rate (users started per second), here or in defaults")
		}
		if d.has(p + ".max_workers") {
			d.errAt(p+".max_workers", "max_workers caps the open model (rate); a closed model has exactly users workers")
		}
	case open:
		for _, k := range []string{"spawn_rate", "think"} {
			if d.has(p + "." + k) {
				d.errAt(p+"."+k, "%s belongs to the closed model (users); an open model has only rate", k)
			}
		}
		if d.has(p+".max_workers") && l.MaxWorkers < 1 {
			d.errAt(p+".max_workers", "must be 1 or more")
		}
	}
	if l.Duration.set && l.Duration.Duration <= 0 {
		d.errAt(p+".duration", "must be more than 0, e.g. 30s")
	}
	if l.Timeout.set && l.Timeout.Duration <= 0 {
		d.errAt(p+".timeout", "must be more than 0, e.g. 10s")
	}
	d.validateArrival(p, l)
}

// validateSearch checks a capacity-search load entry.
func (d *decoder) validateSearch(f *File, p string, l *LoadEntry) {
	sp := p + ".search"
	for _, k := range []string{"spawn_rate", "think"} {
		if d.has(p + "." + k) {
			d.errAt(p+"."+k, "%s belongs to the closed model (users); a capacity search sends constant open-model rates", k)
		}
	}
	if d.has(p + ".duration") {
		d.errAt(p+".duration", "a capacity search runs several steps; set the time of each with search.step_duration (default %s) instead of duration", DefaultStepDuration)
	}
	if d.has(p+".max_workers") && l.MaxWorkers < 1 {
		d.errAt(p+".max_workers", "must be 1 or more")
	}
	s := l.Search
	if s == nil {
		d.errAt(sp, "a capacity search needs a range, e.g. search: {from: 50/s, to: 5000/s}")
		return
	}
	switch {
	case !d.has(sp+".from") || !d.has(sp+".to"):
		d.errAt(sp, "a capacity search needs both from and to, e.g. search: {from: 50/s, to: 5000/s}")
	case s.From.set && s.To.set && s.To.PerSecond <= s.From.PerSecond:
		d.errAt(sp+".to", "%s/s must be above from (%s/s): the search goes from a low rate up to a high one", num(s.To.PerSecond), num(s.From.PerSecond))
	}
	if d.has(sp+".steps") && (s.Steps < 1 || s.Steps > MaxSearchSteps) {
		d.errAt(sp+".steps", "%d: the step budget must be 1 to %d (default %d)", s.Steps, MaxSearchSteps, DefaultSearchSteps)
	}
	if s.StepDuration.set && s.StepDuration.Duration <= 0 {
		d.errAt(sp+".step_duration", "must be more than 0, e.g. 10s")
	}
	if s.Precision != nil && (s.Precision.Ratio <= 0 || s.Precision.Ratio >= 1) {
		d.errAt(sp+".precision", "must be more than 0%% and less than 100%%, e.g. 5%%")
	}
	switch s.On {
	case "", "slo":
	case "goodput":
		if f.SLO == nil || f.SLO.Goodput == nil {
			d.errAt(sp+".on", "a search on goodput needs per-request limits; add slo: {goodput: {ttft: 1s, tpot: 100ms}}")
		}
		if s.MinGoodput != nil && (s.MinGoodput.Ratio <= 0 || s.MinGoodput.Ratio > 1) {
			d.errAt(sp+".min_goodput", "must be more than 0%% and at most 100%%, e.g. 95%%")
		}
		return
	default:
		d.errAt(sp+".on", "%q: use slo (every objective of slo) or goodput (slo.goodput's per-request limits)", s.On)
	}
	if s.MinGoodput != nil {
		d.errAt(sp+".min_goodput", "min_goodput is for a search on goodput; add on: goodput")
	}
	switch {
	case f.SLO == nil:
		d.errAt(sp, "a capacity search finds the highest rate that meets the SLO, and the file sets none; add one, e.g. slo: {p99: 500ms, error_rate: 1%%}")
	case !f.SLO.P50.set && !f.SLO.P95.set && !f.SLO.P99.set && f.SLO.ErrorRate == nil && !f.SLO.MinThroughput.set:
		d.errAt(sp, "a capacity search finds the highest rate that meets the SLO, and the slo sets no objective; give p50, p95, p99, error_rate or min_throughput")
	}
}

// allProxy reports whether every scenario of block b publishes only a proxy's port.
func allProxy(f *File, b *Block) bool {
	bals := b.Balancer
	if len(bals) == 0 {
		bals = []BalancerSpec{f.Defaults.Balancer}
	}
	for _, x := range bals {
		if x.Type != "proxy" {
			return false
		}
	}
	return true
}

// closest is suggest without the list of valid values (the message gives them).
func closest(v string, valid []string) string {
	if s := suggest(v, valid); strings.HasPrefix(s, " (did you mean") {
		return s
	}
	return ""
}
