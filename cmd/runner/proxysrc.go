package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/infergrid/runner/runner/spec"
)

// modulePath is the runner's module; the load balancer is built from its cmd/proxy.
const modulePath = "github.com/infergrid/runner"

// proxyOf returns the proxy of the first scenario that uses the runner's own
// proxy (balancer: proxy without image); HAProxy and nginx images are not built.
func proxyOf(scenarios []spec.Scenario) *spec.Proxy {
	for _, s := range scenarios {
		if s.Proxy != nil && s.Proxy.Runner() {
			return s.Proxy
		}
	}
	return nil
}

// proxySource finds the load balancer's Go main package: $RUNNER_PROXY_SRC, else
// cmd/proxy of the runner's module found above the scenario file's folder or
// the working directory.
func proxySource(scenarioDir string) (string, error) {
	if d := os.Getenv("RUNNER_PROXY_SRC"); d != "" {
		return filepath.Abs(d)
	}
	wd, _ := os.Getwd()
	for _, start := range []string{scenarioDir, wd} {
		start, err := filepath.Abs(start)
		if err != nil {
			continue
		}
		for d := start; d != ""; {
			b, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module "+modulePath+"\n") {
				if st, err := os.Stat(filepath.Join(d, "cmd", "proxy")); err == nil && st.IsDir() {
					return filepath.Join(d, "cmd", "proxy"), nil
				}
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", fmt.Errorf("balancer proxy builds its image from the runner's source (%s/cmd/proxy), found neither above %s nor above the working directory; run from a checkout of the runner or set RUNNER_PROXY_SRC to its cmd/proxy folder", modulePath, scenarioDir)
}
