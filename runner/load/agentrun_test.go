package load

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentOptionsResolve(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(`{"x":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Config{Targets: []string{"http://a"}, Method: "GET", Rate: 90, Duration: time.Second}.MarshalAgent()
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "load.json")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	flags := AgentOptions{URLs: []string{"http://a"}, Rate: "300/s", Share: "1/3", Out: "a.gob", BodyFile: body,
		Load: Config{Method: "POST", Duration: time.Second}}
	tests := []struct {
		name     string
		edit     func(*AgentOptions)
		err      string
		rate     float64
		results  string
		hasStart bool
	}{
		{name: "flags", edit: func(*AgentOptions) {}, rate: 100, results: "a.gob"},
		{name: "stdout", edit: func(o *AgentOptions) { o.Out = "-" }, rate: 100},
		{name: "start", edit: func(o *AgentOptions) { o.Start = "2026-01-02T15:04:05Z" }, rate: 100, results: "a.gob", hasStart: true},
		{name: "config", edit: func(o *AgentOptions) { *o = AgentOptions{Config: cfgFile, Share: "2/3", Out: "b.gob"} }, rate: 30, results: "b.gob"},
		{name: "no out", edit: func(o *AgentOptions) { o.Out = "" }, err: "--out FILE is required"},
		{name: "bad share", edit: func(o *AgentOptions) { o.Share = "4/3" }, err: "want I/N"},
		{name: "bad start", edit: func(o *AgentOptions) { o.Start = "soon" }, err: "want an RFC 3339 time"},
		{name: "no url", edit: func(o *AgentOptions) { o.URLs = nil }, err: "no URL"},
		{name: "bad rate", edit: func(o *AgentOptions) { o.Rate = "fast" }, err: "want a positive rate"},
		{name: "missing body", edit: func(o *AgentOptions) { o.BodyFile = filepath.Join(dir, "none") }, err: "no such file"},
		{name: "config and flags", edit: func(o *AgentOptions) { o.Config = cfgFile }, err: "--config gives the load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := flags
			tt.edit(&o)
			c, at, err := o.Resolve()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Rate != tt.rate || c.ResultsPath != tt.results || at.IsZero() == tt.hasStart {
				t.Errorf("rate %g, results %q, start %v; want %g, %q, start given: %v", c.Rate, c.ResultsPath, at, tt.rate, tt.results, tt.hasStart)
			}
		})
	}
}

func TestWaitUntil(t *testing.T) {
	if late, err := WaitUntil(t.Context(), time.Time{}); late != 0 || err != nil {
		t.Errorf("no start: %v, %v; want at once", late, err)
	}
	if late, err := WaitUntil(t.Context(), time.Now().Add(-time.Second)); late < time.Second || err != nil {
		t.Errorf("a second late: %v, %v", late, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := WaitUntil(ctx, time.Now().Add(time.Hour)); err == nil {
		t.Error("an interrupted wait returned no error")
	}
}

func TestHeaderFlag(t *testing.T) {
	h := http.Header{}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(HeaderFlag(h), "header", "")
	if err := fs.Parse([]string{"--header", "X-A: 1", "--header", "x-a:2", "--header", "Content-Type: application/json"}); err != nil {
		t.Fatal(err)
	}
	if got := h.Values("X-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" || h.Get("Content-Type") != "application/json" {
		t.Errorf("header = %v", h)
	}
	for _, bad := range []string{"X-A", ": 1"} {
		if err := fs.Parse([]string{"--header", bad}); err == nil || !strings.Contains(err.Error(), "want 'Key: value'") {
			t.Errorf("--header %q: %v", bad, err)
		}
	}
}
