package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/infergrid/runner/inference"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, o inference.Options, lc logConfig)
		err   string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, o inference.Options, lc logConfig) {
				if o.Addr != ":8000" || o.Handler.Model != "default" || o.Handler.MaxInFlight != inference.DefaultMaxInFlight ||
					o.Handler.MaxBodyBytes != 1<<20 || o.MemoryLimitRatio != 0.9 || o.Server.ShutdownTimeout != inference.DefaultShutdownTimeout || lc.json {
					t.Errorf("unexpected defaults %+v %+v", o, lc)
				}
			},
		},
		{
			name: "environment",
			env: map[string]string{"PORT": "9001", "INFERENCE_MODEL": "large", "INFERENCE_MAX_INFLIGHT": "0",
				"INFERENCE_MAX_BODY": "64KiB", "INFERENCE_SHUTDOWN_TIMEOUT": "3s", "INFERENCE_LOG_FORMAT": "json",
				"INFERENCE_MEMORY_LIMIT_RATIO": "0.5"},
			check: func(t *testing.T, o inference.Options, lc logConfig) {
				if o.Addr != ":9001" || o.Handler.Model != "large" || o.Handler.MaxInFlight != -1 ||
					o.Handler.MaxBodyBytes != 64<<10 || o.Server.ShutdownTimeout != 3*time.Second || !lc.json || o.MemoryLimitRatio != 0.5 {
					t.Errorf("environment not applied: %+v %+v", o, lc)
				}
			},
		},
		{
			name: "flags win over the environment",
			args: []string{"-addr", "127.0.0.1:0", "-model", "x.json", "-max-batch", "7", "-log-level", "debug"},
			env:  map[string]string{"PORT": "9001", "INFERENCE_MODEL": "large", "INFERENCE_MAX_BATCH": "5"},
			check: func(t *testing.T, o inference.Options, lc logConfig) {
				if o.Addr != "127.0.0.1:0" || o.Handler.Model != "x.json" || o.Handler.MaxBatch != 7 || lc.level.String() != "DEBUG" {
					t.Errorf("flags not applied: %+v %+v", o, lc)
				}
			},
		},
		{
			name: "memory profile",
			args: []string{"-request-memory", "2MiB"},
			env:  map[string]string{"INFERENCE_MODEL_MEMORY": "300MiB"},
			check: func(t *testing.T, o inference.Options, lc logConfig) {
				if o.Handler.ModelMemoryBytes != 300<<20 || o.Handler.RequestMemoryBytes != 2<<20 {
					t.Errorf("memory profile not applied: %+v", o.Handler)
				}
			},
		},
		{
			name: "generative model",
			args: []string{"-llm", "off", "-kv-cache", "64MiB", "-llm-max-running", "8"},
			env:  map[string]string{"INFERENCE_LLM_MAX_WAITING": "3", "INFERENCE_KV_CACHE_RATIO": "0.25"},
			check: func(t *testing.T, o inference.Options, lc logConfig) {
				e := o.Handler.Engine
				if o.Handler.LLM != "off" || e.KVCacheBytes != 64<<20 || e.MaxRunning != 8 || e.MaxWaiting != 3 || o.KVCacheRatio != 0.25 {
					t.Errorf("generative model options not applied: %+v %+v", o.Handler, o)
				}
			},
		},
		{name: "bad kv cache", env: map[string]string{"INFERENCE_KV_CACHE": "big"}, err: "INFERENCE_KV_CACHE"},
		{name: "zero running", args: []string{"-llm-max-running", "0"}, err: "llm-max-running"},
		{name: "bad memory", args: []string{"-model-memory", "much"}, err: "-model-memory"},
		{name: "bad env integer", env: map[string]string{"INFERENCE_MAX_BATCH": "many"}, err: "INFERENCE_MAX_BATCH"},
		{name: "bad env duration", env: map[string]string{"INFERENCE_READ_TIMEOUT": "5"}, err: "INFERENCE_READ_TIMEOUT"},
		{name: "bad size", args: []string{"-max-body", "lots"}, err: "-max-body"},
		{name: "bad ratio", args: []string{"-memory-limit-ratio", "2"}, err: "memory-limit-ratio"},
		{name: "bad level", args: []string{"-log-level", "loud"}, err: "log-level"},
		{name: "bad format", args: []string{"-log-format", "xml"}, err: "log-format"},
		{name: "zero batch", args: []string{"-max-batch", "0"}, err: "max-batch"},
		{name: "negative timeout", args: []string{"-write-timeout", "-1s"}, err: "write-timeout"},
		{name: "unknown flag", args: []string{"-nope"}, err: "not defined"},
		{name: "extra argument", args: []string{"serve"}, err: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			o, lc, err := parseOptions(tt.args, getenv, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o, lc)
		})
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512KiB": 512 << 10, "1MiB": 1 << 20, "1mb": 1 << 20, "2G": 2 << 30, "10 B": 10} {
		o, _, err := parseOptions([]string{"-max-body", in}, func(string) string { return "" }, io.Discard)
		if err != nil || o.Handler.MaxBodyBytes != want {
			t.Errorf("-max-body %q = %d, %v; want %d", in, o.Handler.MaxBodyBytes, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "0", "1.5.5MiB", "99999999999G"} {
		if _, _, err := parseOptions([]string{"-max-body", in}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("-max-body %q did not fail", in)
		}
	}
}

func TestMainUsage(t *testing.T) {
	var out strings.Builder
	if code := Main([]string{"-help"}, func(string) string { return "" }, &out); code != 0 {
		t.Errorf("-help exits %d", code)
	}
	for _, want := range []string{"Usage: inference", "INFERENCE_MODEL", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if code := Main([]string{"-max-batch", "x"}, func(string) string { return "" }, io.Discard); code != 2 {
		t.Errorf("bad usage exits %d, want 2", code)
	}
	out.Reset()
	if code := Main([]string{"-version"}, func(string) string { return "" }, &out); code != 0 || !strings.Contains(out.String(), "inference dev") {
		t.Errorf("-version: %d %q", code, out.String())
	}
	if code := Main([]string{"-model", "/nonexistent.json", "-addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard); code != 1 {
		t.Errorf("a missing model exits %d, want 1", code)
	}
}
