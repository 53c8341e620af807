package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestGenerators(t *testing.T) {
	dir := fixture(t)
	f, err := loadString(t, dir, head+`platform: swarm
swarm: {generator_constraints: [node.labels.runner.role==load]}
defaults: {generators: 3}
grid:
  - {name: a, load: [{rate: 30/s}, {users: 6, spawn_rate: 6}]}
  - {name: b, generators: 2, load: [{rate: 1/s}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range f.Scenarios() {
		got[s.Block] = s.Generators
		if r := s.Result().Generators; r != s.Generators {
			t.Errorf("%s: Result().Generators = %d, want %d", s.ID, r, s.Generators)
		}
		if !slices.Equal(s.GeneratorConstraints, []string{"node.labels.runner.role==load"}) {
			t.Errorf("%s: constraints %q", s.ID, s.GeneratorConstraints)
		}
	}
	if got["a"] != 3 || got["b"] != 2 || !UsesGenerators(f.Scenarios()) {
		t.Errorf("generators by block %v: want a 3 (defaults), b 2 (its own key)", got)
	}
	if err := f.CheckPlatform("swarm"); err != nil {
		t.Errorf("CheckPlatform(swarm) = %v", err)
	}
	for _, name := range []string{"compose", "local", "auto"} {
		err := f.CheckPlatform(name)
		if err == nil || !strings.Contains(err.Error(), "f.yaml:5:24: defaults.generators: generators deploy load agents as a swarm service, and the platform is "+name) ||
			!strings.Contains(err.Error(), "grid[1].generators") {
			t.Errorf("CheckPlatform(%s) = %v, want both keys named", name, err)
		}
	}

	f, err = loadString(t, dir, head+"grid: [{name: a, load: [{rate: 1/s}]}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Scenarios()[0]; s.Generators != 0 || UsesGenerators(f.Scenarios()) {
		t.Errorf("no generators key: Generators = %d, want 0 (the runner's process)", s.Generators)
	}
}

func TestGeneratorsValidation(t *testing.T) {
	dir := fixture(t)
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"zero", head + "defaults: {generators: 0}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:24: defaults.generators: 0: generators must be 1 to 64"}},
		{"too many in a block", head + "grid: [{name: a, generators: 65, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:30: grid[0].generators: 65: generators must be 1 to 64"}},
		{"on compose", head + "platform: compose\ngrid: [{name: a, generators: 2, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:4:30: grid[0].generators: generators deploy load agents as a swarm service, and the platform is compose"}},
		{"fewer users than generators", head + "platform: swarm\ndefaults: {generators: 3}\ngrid: [{name: a, load: [{users: 2, spawn_rate: 2}]}]\n",
			[]string{"grid[0].load[0].users: 2 users cannot be shared by 3 generators"}},
		{"a capacity search", head + "platform: swarm\nslo: {p99: 1s}\ngrid: [{name: a, generators: 2, load: [{search: {from: 1/s, to: 10/s}}]}]\n",
			[]string{"grid[0].load[0].search: a capacity search decides each step from the last"}},
		{"streaming", head + "platform: swarm\nrequest: {stream: sse}\ngrid: [{name: a, generators: 2, load: [{rate: 1/s}]}]\n",
			[]string{"grid[0].generators: streaming requests (stream: sse) are measured by the runner's own process only"}},
		{"bad constraint", head + "platform: swarm\nswarm: {generator_constraints: [role]}\ngrid: [{name: a, generators: 2, load: [{rate: 1/s}]}]\n",
			[]string{`swarm.generator_constraints[0]: "role" is not a placement constraint`}},
	} {
		t.Run(c.name, func(t *testing.T) { refused(t, dir, c.src, c.want...) })
	}
}
