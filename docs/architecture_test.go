package docs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/infergrid/runner/"

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Imports    []string
}

// listPackages lists every package of the module with its non-test imports.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages:", err)
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	return pkgs
}

// TestImportInvariants enforces the boundaries that architecture.md draws and the
// package docs state. Each rule names the imports (path prefixes) that only the
// listed packages (of this module, non-test code) may have.
func TestImportInvariants(t *testing.T) {
	rules := []struct {
		imports []string // path prefixes
		only    []string // the packages allowed to import them
		why     string
	}{
		{[]string{"github.com/tsenart/vegeta"}, []string{"runner/load"},
			"only runner/load imports vegeta (package load's doc)"},
		{[]string{"github.com/moby/moby", "github.com/containerd/errdefs"}, []string{"runner/platform/docker"},
			"only runner/platform/docker imports the Docker client (package docker's doc)"},
		{[]string{"gonum.org/v1/plot"}, []string{"runner/report"},
			"only runner/report draws plots"},
		{[]string{"github.com/prometheus/client_golang"}, []string{"inference", "proxy"},
			"the services under test and the proxy expose Prometheus metrics"},
		{[]string{module + "runner/"}, []string{"cmd/runner", "runner/"},
			"the services under test (inference, proxy) import nothing of the runner's"},
		{[]string{module + "runner/platform/"}, []string{"cmd/runner", "runner/platform/"},
			"the run depends on the platform.Platform interface, not on its implementations"},
	}
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			for _, r := range rules {
				if !hasPrefix(imp, r.imports) || allowed(p.ImportPath, r.only) {
					continue
				}
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
			}
		}
	}
}

// TestResultIsALeaf checks that runner/result imports nothing of the module's, so
// every other package can speak it (package result's doc).
func TestResultIsALeaf(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath != "runner/result" {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				t.Errorf("runner/result imports %s; it must import nothing of the runner's", imp)
			}
		}
		return
	}
	t.Error("runner/result not found")
}

// TestPlatformIsAnInterface checks that runner/platform imports none of its
// implementations, and that they do not import one another except through the
// documented exceptions.
func TestPlatformImplementations(t *testing.T) {
	impls := []string{"runner/platform/compose", "runner/platform/swarm", "runner/platform/local"}
	// A swarm stack deploys the compose file compose renders and checks.
	exceptions := map[[2]string]bool{{"runner/platform/swarm", "runner/platform/compose"}: true}
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			imp = strings.TrimPrefix(imp, module)
			if p.ImportPath == "runner/platform" && strings.HasPrefix(imp, "runner/platform/") {
				t.Errorf("runner/platform imports %s: the interface must not know its implementations", imp)
			}
			if slices.Contains(impls, p.ImportPath) && slices.Contains(impls, imp) && !exceptions[[2]string{p.ImportPath, imp}] {
				t.Errorf("%s imports %s: platforms share code through runner/platform", p.ImportPath, imp)
			}
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, strings.TrimSuffix(p, "/")+"/") || strings.HasSuffix(p, "/") && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// allowed says whether package path is one of only (an entry ending in / allows
// the packages under it).
func allowed(path string, only []string) bool {
	for _, o := range only {
		if path == o || strings.HasSuffix(o, "/") && strings.HasPrefix(path, o) {
			return true
		}
	}
	return false
}

// TestCLIIsThin checks that cmd/runner stays flags -> options -> call: at most
// 1,000 lines of non-test Go, what else a command needs living in a package
// that tests, the dashboard and other commands can reach.
func TestCLIIsThin(t *testing.T) {
	files, err := filepath.Glob("../cmd/runner/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in cmd/runner: %v", err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte("\n"))
	}
	if n > 1000 {
		t.Errorf("cmd/runner has %d lines of non-test Go, want at most 1,000: move logic to a package under runner/", n)
	}
}
