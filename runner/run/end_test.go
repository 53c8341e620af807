package run

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

func TestEnd(t *testing.T) {
	no := false
	ran := result.Run{ID: "w-1", Platform: "compose", Scenarios: []result.Outcome{{Status: result.StatusOK, Scenario: result.Scenario{ID: "a"}}}}
	missed := ran
	missed.Scenarios = []result.Outcome{{Status: result.StatusOK, SLOPass: &no, Scenario: result.Scenario{ID: "a"}}}
	o := EndOptions{File: "w.yaml", Out: "runs"}
	lost := &LostError{K: 2, N: 3, Scenario: "b", StackLeft: true, Err: platform.ErrUnavailable}
	for _, tt := range []struct {
		name    string
		ran     result.Run
		err     error
		o       EndOptions
		want    Ending
		advice  []string
		verdict string
	}{
		{"ok", ran, nil, o, EndedOK, nil, "the study ran: all 1 scenarios finished"},
		{"missed", missed, nil, o, EndedMissed, nil, "1 missed the SLO (a)"},
		{"missed, ignored", missed, nil, EndOptions{IgnoreSLO: true}, EndedOK, nil, "exit status 0 (--ignore-slo)"},
		{"interrupted", ran, nil, EndOptions{File: "w.yaml", Out: "runs", Interrupted: true}, EndedInterrupted, []string{"runner run w.yaml --resume=runs/w-1"}, ""},
		{"daemon lost", ran, fmt.Errorf("scenario b: %w", lost), o, EndedPlatform,
			[]string{"stopped at scenario 2 of 3 because the Docker daemon stopped answering", "runner clean --run w-1", "--resume=runs/w-1"}, ""},
		{"platform failed", ran, fmt.Errorf("build: %w", platform.ErrUnavailable), o, EndedPlatform, []string{"Is the Docker daemon running?"}, ""},
		{"other failure", ran, errors.New("cannot write run.json"), o, EndedPlatform, []string{"cannot write run.json"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, advice, verdict := End(tt.ran, tt.err, tt.o)
			if e != tt.want {
				t.Errorf("ending %d, want %d", e, tt.want)
			}
			for _, w := range tt.advice {
				if !strings.Contains(advice, w) {
					t.Errorf("advice lacks %q:\n%s", w, advice)
				}
			}
			if len(tt.advice) == 0 && advice != "" {
				t.Errorf("advice %q, want none", advice)
			}
			if !strings.Contains(verdict, tt.verdict) || (tt.verdict == "") != (verdict == "") {
				t.Errorf("verdict %q, want one with %q", verdict, tt.verdict)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	parse := func(src string) *spec.File {
		t.Helper()
		f, err := spec.Parse("c.yaml", t.TempDir(), []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	compose := parse("name: c\nplatform: compose\nservice: {image: x:1, port: 8000}\ngrid:\n  - name: a\n    replicas: [1, 2]\n    cpuset: \"0\"\n    load: [{rate: 5/s}]\n")
	external := parse("name: e\nplatform: external\ntargets: [http://127.0.0.1:1]\ngrid:\n  - name: a\n    load: [{rate: 5/s}]\n")
	for _, tt := range []struct {
		name string
		f    *spec.File
		o    ChoiceOptions
		err  string
		n    int
	}{
		{"all", compose, ChoiceOptions{}, "", 2},
		{"only", compose, ChoiceOptions{Only: "*-r2-*"}, "", 1},
		{"only nothing", compose, ChoiceOptions{Only: "zzz"}, "zzz", 0},
		{"external needs targets", compose, ChoiceOptions{Platform: "external"}, "--platform external needs a file with targets", 0},
		{"targets need external", external, ChoiceOptions{Platform: "compose"}, "lists external targets", 0},
		{"swarm cannot pin", compose, ChoiceOptions{Platform: "swarm"}, "pins CPUs", 0},
		{"repeat", compose, ChoiceOptions{Repeat: 3}, "", 2},
		{"repeat too many", compose, ChoiceOptions{Repeat: 1000}, "--repeat", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(tt.f, "c.yaml", tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Scenarios) != tt.n || c.Platform != tt.f.Platform {
				t.Errorf("%d scenarios on %s, want %d on %s", len(c.Scenarios), c.Platform, tt.n, tt.f.Platform)
			}
			for _, s := range c.Scenarios {
				if tt.o.Repeat > 0 && s.Repeat != tt.o.Repeat {
					t.Errorf("%s repeats %d times, want %d", s.ID, s.Repeat, tt.o.Repeat)
				}
			}
		})
	}
}
