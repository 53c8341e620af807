package spec

import (
	"fmt"
	"time"
)

// GeneratorLead is what load agents add to a scenario's time: they start
// together some seconds after their deployment (platform.DefaultGeneratorLead).
const GeneratorLead = 10 * time.Second

// MaxGenerators bounds generators: more load agents than this is likely a
// typo, and each is a task the swarm schedules and a log stream the runner reads.
const MaxGenerators = 64

// checkGenerators checks a generators key at path, when the file gives it.
func (d *decoder) checkGenerators(path string, n int) {
	if d.has(path) && (n < 1 || n > MaxGenerators) {
		d.errAt(path, "%d: generators must be 1 to %d (load agents, each a swarm task sending its share of the load)", n, MaxGenerators)
	}
}

// validateGenerators checks what load agents cannot send: the load levels of
// block b (at path p) when the block or the defaults give generators, and the
// placement constraints of the agents.
func (d *decoder) validateGenerators(f *File, p string, b *Block) {
	n := cmp(b.Generators, f.Defaults.Generators)
	if n < 1 || n > MaxGenerators {
		return
	}
	if f.Platform == "external" {
		d.errAt(generatorsPath(f, p, b), "load agents are deployed on a swarm beside the stack, and platform external runs no stack; remove generators")
		return
	}
	if f.streams() {
		d.errAt(generatorsPath(f, p, b), "streaming requests (stream: sse) are measured by the runner's own process only: their token timings are not in the agents' raw results; remove generators or stream")
	}
	for j, le := range b.Load {
		lp := fmt.Sprintf("%s.load[%d]", p, j)
		switch {
		case le.Search != nil:
			d.errAt(lp+".search", "a capacity search decides each step from the last, so it runs from the runner's own process; remove generators from block %s or search", b.Name)
		case le.Users > 0 && le.Users < n:
			d.errAt(lp+".users", "%d users cannot be shared by %d generators (each needs at least one user); lower generators or raise users", le.Users, n)
		}
	}
}

// generatorsPath is where the generators of block b (at path p) are given.
func generatorsPath(f *File, p string, b *Block) string {
	if b.Generators > 0 {
		return p + ".generators"
	}
	return "defaults.generators"
}

// validateGeneratorConstraints checks swarm.generator_constraints.
func (d *decoder) validateGeneratorConstraints(sw *Swarm) {
	for i, c := range sw.GeneratorConstraints {
		if !constraintPattern.MatchString(c) {
			d.errAt(fmt.Sprintf("swarm.generator_constraints[%d]", i), "%q is not a placement constraint; write ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.runner.role==load", c)
		}
	}
}

// checkGeneratorPlatform reports generators on a platform other than swarm:
// the load agents are deployed as a swarm service.
func (d *decoder) checkGeneratorPlatform(f *File, name string) {
	if name == "swarm" || name == "external" {
		return
	}
	var paths []string
	if f.Defaults.Generators > 0 {
		paths = append(paths, "defaults.generators")
	}
	for i, b := range f.Grid {
		if b.Generators > 0 {
			paths = append(paths, fmt.Sprintf("grid[%d].generators", i))
		}
	}
	for _, p := range paths {
		d.errAt(p, "generators deploy load agents as a swarm service, and the platform is %s; run with --platform swarm (add --init-swarm on a machine outside any swarm), or remove generators to send the load from the runner's process", name)
	}
}

// UsesGenerators reports whether any scenario sends its load from agents.
func UsesGenerators(scenarios []Scenario) bool {
	for _, s := range scenarios {
		if s.Generators > 0 {
			return true
		}
	}
	return false
}
