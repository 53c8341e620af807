package run

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/spec"
)

func TestStart(t *testing.T) {
	t.Setenv("RUNNER_STATE_DIR", t.TempDir())
	f, err := spec.Load("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noSweep := func(context.Context, string, bool, bool, func(string)) (int, error) { return 0, nil }
	opened := func(ctx context.Context, f *spec.File, name string) (Opened, error) {
		return Opened{Name: name, Said: []string{"platform auto chose compose"}, Info: platform.Info{DockerVersion: "29"}}, nil
	}
	var log strings.Builder
	o := StartOptions{File: "smoke.yaml", Out: t.TempDir(), Version: "v1", Open: opened, Sweep: noSweep, Log: &log}
	c := Choice{Platform: "compose", Scenarios: f.Scenarios()}
	s, err := Start(t.Context(), f, c, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Jobs) != len(c.Scenarios) || s.Meta.Platform != "compose" || s.Meta.Host.DockerVersion != "29" || s.Meta.RunnerVersion != "v1" {
		t.Errorf("Start = %+v", s)
	}
	if log.String() != "runner run: platform auto chose compose\n" {
		t.Errorf("log = %q, want the platform's note", log.String())
	}
	if err := s.Hold(); err != nil {
		t.Fatal(err)
	}
	again := &Started{Dir: s.Dir, Meta: s.Meta, log: &log, release: func() {}} // a second --resume of the run
	if err := again.Hold(); !errors.Is(err, ErrLeaseHeld) {
		t.Errorf("a second run of %s holds its lease: %v", s.Meta.ID, err)
	}
	again.Close()
	s.Close()
	if len(ReadLeases()) != 0 {
		t.Errorf("leases after Close: %+v", ReadLeases())
	}

	down := func(ctx context.Context, f *spec.File, name string) (Opened, error) {
		return Opened{Said: []string{"a note"}}, platform.ErrUnavailable
	}
	log.Reset()
	o.Open = down
	if _, err := Start(t.Context(), f, c, o); !errors.Is(err, platform.ErrUnavailable) || log.String() != "runner run: a note\n" {
		t.Errorf("Start on a platform down: %v, log %q", err, log.String())
	}
}
