package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/proxy"
)

func TestParse(t *testing.T) {
	env := map[string]string{"UPSTREAM": "svc:9000", "POLICY": "least_conn", "RETRY_AFTER": "3s", "UPSTREAMS": "10.0.0.1:1, 10.0.0.2:1"}
	o, err := parse([]string{"-listen", "127.0.0.1:0", "-health", "/h"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.listen != "127.0.0.1:0" || o.cfg.Upstream != "svc:9000" || o.cfg.Policy != proxy.LeastConn || o.cfg.Health != "/h" ||
		o.cfg.RetryAfter != 3*time.Second || strings.Join(o.cfg.Static, ",") != "10.0.0.1:1,10.0.0.2:1" || o.shutdown != 8*time.Second {
		t.Errorf("options %+v", o)
	}
	o, err = parse([]string{"-policy", "round_robin"}, func(k string) string { return map[string]string{"POLICY": "least_conn"}[k] }, io.Discard)
	if err != nil || o.cfg.Policy != proxy.RoundRobin || o.listen != ":8080" {
		t.Errorf("a flag must win over the environment: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"-nope"}, {"extra"}} {
		if _, err := parse(bad, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("parse(%v) accepted it", bad)
		}
	}
	if _, err := parse(nil, func(k string) string { return map[string]string{"RETRY_AFTER": "soon"}[k] }, io.Discard); err == nil {
		t.Error("a bad duration in the environment was accepted")
	}
	if code := Main([]string{"-policy", "random", "-listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard); code != 1 {
		t.Errorf("Main with a bad policy exited %d, want 1", code)
	}
	if code := Main([]string{"-h"}, func(string) string { return "" }, io.Discard); code != 0 {
		t.Errorf("Main -h exited %d", code)
	}
}

func TestServeAndShutdown(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer up.Close()
	o := options{listen: "127.0.0.1:0", shutdown: 5 * time.Second,
		cfg: proxy.Config{Static: []string{strings.TrimPrefix(up.URL, "http://")}}}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, slog.New(slog.DiscardHandler), ready) }()
	addr := <-ready
	resp, err := http.Get("http://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Errorf("proxied body %q", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
	if _, err := http.Get("http://" + addr + "/x"); err == nil {
		t.Error("the proxy still answers after shutdown")
	}
}
