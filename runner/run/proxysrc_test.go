package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/spec"
)

func TestProxySource(t *testing.T) {
	abs, err := filepath.Abs("../../cmd/proxy")
	if err != nil {
		t.Fatal(err)
	}
	// From a scenario folder inside this module (the working directory is too).
	if got, err := ProxySource(filepath.Join("..", "..", "scenarios", "examples")); err != nil || got != abs {
		t.Errorf("proxySource = %q, %v; want %s", got, err, abs)
	}
	t.Setenv("RUNNER_PROXY_SRC", "/some/where/cmd/proxy")
	if got, _ := ProxySource(t.TempDir()); got != "/some/where/cmd/proxy" {
		t.Errorf("RUNNER_PROXY_SRC ignored: %q", got)
	}
	t.Setenv("RUNNER_PROXY_SRC", "")
	// Outside any checkout, with a working directory outside too.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	t.Chdir(other)
	if _, err := ProxySource(other); err == nil || !strings.Contains(err.Error(), "RUNNER_PROXY_SRC") {
		t.Errorf("want an error naming RUNNER_PROXY_SRC, got %v", err)
	}
}

func TestProxyOf(t *testing.T) {
	px := &spec.Proxy{Policy: "least_conn", Image: "runner-x-proxy:latest"}
	if got := ProxyOf([]spec.Scenario{{Balancer: "client"}, {Balancer: "proxy", Proxy: px}}); got != px {
		t.Errorf("proxyOf = %v", got)
	}
	if got := ProxyOf([]spec.Scenario{{Balancer: "client"}}); got != nil {
		t.Errorf("proxyOf without a proxy = %v", got)
	}
	hx := &spec.Proxy{Policy: "round_robin", Image: "haproxy:2.6", Kind: spec.ProxyHAProxy}
	if got := ProxyOf([]spec.Scenario{{Balancer: "proxy", Proxy: hx}}); got != nil {
		t.Errorf("proxyOf with only a haproxy image = %v; nothing is built for it", got)
	}
}
