package run

import (
	"fmt"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// ChoiceOptions are the command line's say in what a run of a file runs.
type ChoiceOptions struct {
	// Platform overrides the file's platform; "" keeps it.
	Platform string
	// Only keeps the scenarios whose ID matches (see Select).
	Only string
	// Repeat overrides the file's repeat keys; 0 keeps them.
	Repeat int
	// AllowOvercommit runs scenarios that do not fit the host, with a warning.
	AllowOvercommit bool
}

// Choice is what a run of a file runs, and where.
type Choice struct {
	Platform  string
	Scenarios []spec.Scenario
	Host      preflight.Host
	// Warnings are what runs but competes or falls short, and a host that could
	// not be read.
	Warnings []string
}

// Choose picks the platform and the scenarios of a run of f (read from file)
// and checks, before anything starts, that they can run there and fit this
// host. An error means nothing may start: the file, the flags or the host say no.
func Choose(f *spec.File, file string, o ChoiceOptions) (Choice, error) {
	c := Choice{Platform: f.Platform}
	if o.Platform != "" {
		c.Platform = o.Platform
	}
	if err := checkPlatform(f, file, c.Platform); err != nil {
		return c, err
	}
	var err error
	if c.Scenarios, err = Select(f.Scenarios(), o.Only); err != nil {
		return c, err
	}
	if o.Repeat > 0 {
		if err := spec.SetRepeat(c.Scenarios, o.Repeat); err != nil {
			return c, fmt.Errorf("--repeat %w", err)
		}
	}
	if c.Platform == "swarm" {
		for _, s := range c.Scenarios {
			if s.CPUSet != "" {
				return c, fmt.Errorf("scenario %s pins CPUs (cpuset %s), which a swarm cannot do; remove cpuset or run it on compose", s.ID, s.CPUSet)
			}
		}
	}
	plan := make([]result.Scenario, len(c.Scenarios))
	for i, s := range c.Scenarios {
		plan[i] = s.Result()
	}
	if c.Host, err = preflight.ReadHost(); err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("warning: %v; memory fit not checked", err))
	}
	problems := preflight.Check(c.Host, plan, preflight.Options{AllowOvercommit: o.AllowOvercommit})
	for _, p := range problems.Warnings() {
		c.Warnings = append(c.Warnings, p.String())
	}
	if err := problems.Err(); err != nil {
		return c, fmt.Errorf("%w\nNothing was started. Use --allow-overcommit to run anyway, or --only to pick the scenarios that fit.", err)
	}
	return c, nil
}

// checkPlatform refuses a platform that cannot run f: external targets only on
// external, and what f's service needs (a command, an image) on the others.
func checkPlatform(f *spec.File, file, name string) error {
	switch {
	case name == "external" && f.Platform != "external":
		return fmt.Errorf("--platform external needs a file with targets (platform: external); %s starts its own service", file)
	case name != "external" && f.Platform == "external":
		return fmt.Errorf("%s lists external targets; it cannot run on platform %s", file, name)
	}
	if err := f.CheckPlatform(name); err != nil {
		return fmt.Errorf("--platform %s: %w", name, err)
	}
	return nil
}
