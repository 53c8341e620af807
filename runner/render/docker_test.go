package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/internal/dockertest"
	"github.com/infergrid/runner/runner/label"
	"github.com/infergrid/runner/runner/spec"
)

// composeTools lists the compose implementations installed: docker-compose (v1 or
// v2 standalone) and the docker compose plugin (v2).
func composeTools(t *testing.T) [][]string {
	t.Helper()
	var tools [][]string
	if _, err := exec.LookPath("docker-compose"); err == nil {
		tools = append(tools, []string{"docker-compose"})
	}
	if err := exec.CommandContext(t.Context(), "docker", "compose", "version").Run(); err == nil {
		tools = append(tools, []string{"docker", "compose"})
	}
	if len(tools) == 0 {
		if os.Getenv("RUNNER_REQUIRE_DOCKER") == "1" {
			t.Fatal("neither docker-compose nor docker compose is installed and RUNNER_REQUIRE_DOCKER=1")
		}
		t.Skip("neither docker-compose nor docker compose is installed")
	}
	return tools
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestComposeAcceptsWorkshop checks that every rendered file of workshop5.yaml
// passes `config` of every installed compose implementation.
func TestComposeAcceptsWorkshop(t *testing.T) {
	dockertest.Require(t)
	tools := composeTools(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // docker-compose v1 takes seconds per call
	var all []spec.Scenario
	for _, f := range []string{"workshop5.yaml", "examples/workshop5-proxy.yaml"} {
		all = append(all, scenarios(t, f)...)
	}
	for _, s := range all {
		b, err := Render(s, fixedParams(s))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, s.ID+".yml")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tool := range tools {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				args := append(tool[1:len(tool):len(tool)], "-p", "cfgcheck", "-f", p, "config")
				out, err := exec.CommandContext(t.Context(), tool[0], args...).CombinedOutput()
				if err != nil {
					t.Errorf("%s: %s rejects it: %v\n%s", s.ID, strings.Join(tool, " "), err, out)
					return
				}
				if want := "replicas: " + strconv.Itoa(s.Replicas); !strings.Contains(string(out), want) {
					t.Errorf("%s: %s config lost %q:\n%s", s.ID, strings.Join(tool, " "), want, out)
				}
			})
		}
	}
	wg.Wait()
}

// TestComposeUpAppliesLimits brings a rendered stack up with every installed compose
// implementation and checks with docker inspect that limits, replicas, distinct
// host ports and labels are applied.
func TestComposeUpAppliesLimits(t *testing.T) {
	dockertest.Require(t)
	tools := composeTools(t)
	image := buildTestImage(t)
	for _, tool := range tools {
		t.Run(strings.Join(tool, " "), func(t *testing.T) {
			ports, err := FreePorts(spec.PortRange{Lo: 20000, Hi: 29999}, 2)
			if err != nil {
				t.Fatal(err)
			}
			run := "rendertest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			s := spec.Scenario{ID: "limits-r2", Replicas: 2, CPUs: 0.5, MemoryBytes: 64 << 20, CPUSet: "0", Image: image,
				Service: spec.Service{Port: 8000, Env: map[string]string{"PORT": "8000"}}}
			project := Project(run, s.ID)
			b, err := Render(s, Params{RunID: run, Project: project, Ports: ports})
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "compose.yml")
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := func(args ...string) []string {
				return append(append(tool[1:len(tool):len(tool)], "-p", project, "-f", f), args...)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				exec.CommandContext(ctx, tool[0], cmd("down", "-v", "--remove-orphans")...).Run()
				removeByLabel(t, label.Run+"="+run)
			})
			runT(t, tool[0], cmd("up", "-d")...)
			ids := strings.Fields(runT(t, "docker", "ps", "-q", "--filter", "label="+label.Run+"="+run))
			if len(ids) != 2 {
				t.Fatalf("%d containers with the run label, want 2", len(ids))
			}
			seen := map[string]bool{}
			for _, id := range ids {
				got := strings.TrimSpace(runT(t, "docker", "inspect", "-f",
					`{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpusetCpus}} {{index .Config.Labels "`+label.Managed+`"}} {{(index (index .NetworkSettings.Ports "8000/tcp") 0).HostPort}}`, id))
				f := strings.Fields(got)
				if len(f) != 5 {
					t.Fatalf("inspect: %q", got)
				}
				if f[0] != strconv.Itoa(64<<20) || f[1] != "500000000" || f[2] != "0" || f[3] != "true" {
					t.Errorf("container %s: memory, NanoCpus, cpuset, managed = %v, want 67108864 500000000 0 true", id, f[:4])
				}
				p, _ := strconv.Atoi(f[4])
				if p < ports.Lo || p > ports.Hi || seen[f[4]] {
					t.Errorf("container %s published on %s, want a distinct port in %s", id, f[4], ports)
				}
				seen[f[4]] = true
			}
		})
	}
}

// removeByLabel removes whatever containers and networks carry the label and
// fails the test if compose down had left any.
func removeByLabel(t *testing.T, lbl string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	left := 0
	for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
		out, err := exec.CommandContext(ctx, "docker", append(kind, "--filter", "label="+lbl)...).Output()
		if err != nil {
			t.Errorf("cannot list leftovers: %v", err)
			continue
		}
		for _, id := range strings.Fields(string(out)) {
			left++
			if kind[0] == "ps" {
				exec.CommandContext(ctx, "docker", "rm", "-f", id).Run()
			} else {
				exec.CommandContext(ctx, "docker", "network", "rm", id).Run()
			}
		}
	}
	if left > 0 {
		t.Errorf("compose down left %d containers or networks labelled %s", left, lbl)
	}
}

func runT(t *testing.T, name string, args ...string) string { t.Helper(); return run(t, name, args...) }

// buildTestImage builds a labelled FROM scratch image of a tiny static HTTP server
// and removes it when the test ends.
func buildTestImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	must(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module srv\n\ngo 1.22\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY srv /srv\nENTRYPOINT [\"/srv\"]\n"), 0o644))
	build := exec.CommandContext(t.Context(), "go", "build", "-o", "srv", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	image := "runner-rendertest:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	run(t, "docker", append(append([]string{"build", "-q"}, dockertest.BuildLabels()...), "-t", image, dir)...)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	return image
}

// TestComposeAcceptsBalancerImages checks that the compose files of HAProxy and
// nginx balancers pass `config` of every installed compose implementation (and the
// swarm flavour `docker stack config`, which reads the file without a swarm), with
// the config file next to them mounted where the image reads it.
func TestComposeAcceptsBalancerImages(t *testing.T) {
	dockertest.Require(t)
	tools := composeTools(t)
	stack := exec.CommandContext(t.Context(), "docker", "stack", "config", "--help").Run() == nil
	for _, sw := range []*Swarm{nil, {Publish: PublishHost}} {
		for _, s := range scenarios(t, "examples/proxy-haproxy.yaml") {
			if s.Proxy == nil {
				continue
			}
			name := s.ID
			if sw != nil {
				name = "swarm/" + name
			}
			t.Run(name, func(t *testing.T) {
				p := fixedParams(s)
				p.Swarm = sw
				b, err := Render(s, p)
				if err != nil {
					t.Fatal(err)
				}
				files, err := Files(s, p)
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				file := filepath.Join(dir, "compose.yml")
				if err := os.WriteFile(file, b, 0o644); err != nil {
					t.Fatal(err)
				}
				for n, c := range files {
					if err := os.WriteFile(filepath.Join(dir, n), c, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				cfg, target := HAProxyConfig, HAProxyConfigTarget
				if s.Proxy.Kind == spec.ProxyNginx {
					cfg, target = NginxConfig, NginxConfigTarget
				}
				var cmds [][]string
				if sw == nil {
					for _, tool := range tools {
						cmds = append(cmds, append(tool[:len(tool):len(tool)], "-p", "cfgcheck", "-f", file, "config"))
					}
				} else if stack {
					cmds = append(cmds, []string{"docker", "stack", "config", "-c", file})
				} else {
					t.Skip("docker stack config is not available in this Docker CLI")
				}
				for _, c := range cmds {
					out := run(t, c[0], c[1:]...)
					for _, want := range []string{filepath.Join(dir, cfg), target, "image: " + s.Proxy.Image} {
						if !strings.Contains(out, want) {
							t.Errorf("%s config lost %q:\n%s", strings.Join(c, " "), want, out)
						}
					}
				}
			})
		}
	}
}
