package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// Opened is the platform a run of a scenario file uses, as an Opener opened it.
type Opened struct {
	// Platform is the open platform; nil for external, which starts nothing.
	Platform platform.Platform
	// Name is the platform's name: what auto chose, or external.
	Name string
	// Swarm is how stacks are rendered on a swarm; nil on any other platform.
	Swarm *render.Swarm
	// Said are the notes the user is told, in order: what auto chose and why, what
	// a local run of the service lacks.
	Said []string
	// Info is what the platform says of itself.
	Info platform.Info
}

// Describe records in meta (run.json) the platform, its notes and the versions
// of its tools.
func (o Opened) Describe(meta *result.Run) {
	meta.Platform = o.Name
	meta.PlatformNotes = append(meta.PlatformNotes, o.Said...)
	meta.PlatformNotes = append(meta.PlatformNotes, o.Info.Notes...)
	meta.Host.DockerVersion, meta.Host.ComposeVersion = o.Info.DockerVersion, o.Info.ComposeVersion
}

// Opener opens the platform called name for a run of f (platforms.OpenFile with
// the command's options). Opened.Said holds the notes to tell, on error too; an
// error that wraps platform.ErrUnavailable is the platform's.
type Opener func(ctx context.Context, f *spec.File, name string) (Opened, error)

// StartOptions say how Start readies a run.
type StartOptions struct {
	// File is the scenario file and Out the folder of the run directories, as
	// the user gave them; Resume is --resume.
	File, Out string
	Resume    Resume
	// Version is the runner's, for run.json.
	Version string
	// Open opens the platform; Sweep removes the stacks of runs whose runner died.
	Open  Opener
	Sweep Sweeper
	// Log is told what the user should know on the way (stderr): the
	// platform's notes, orphans removed, a lease that cannot be written.
	Log io.Writer
}

// Started is a run ready to Execute: its directory, the start of run.json, its
// jobs and build, on its open platform.
type Started struct {
	Dir      string
	Meta     result.Run
	Jobs     []Job
	Build    platform.Build
	Platform platform.Platform // nil for external
	log      io.Writer
	release  func()
}

// Start readies a run of the scenarios c chose from f: prepare, the run
// directory, Meta, the platform (o.Open), the jobs and the build. Nothing was
// started when it fails; an error that wraps platform.ErrUnavailable is the
// platform's, any other the file's or the options'. Close the run when done.
func Start(ctx context.Context, f *spec.File, c Choice, o StartOptions) (*Started, error) {
	if err := prepare(ctx, f, c.Platform, cmp.Or(o.Resume.Dir, o.Out), o.Log, o.Sweep); err != nil {
		return nil, err
	}
	dir, err := Dir(f, o.Out, o.Resume.On, o.Resume.Dir)
	if err != nil {
		return nil, err
	}
	s := &Started{Dir: dir, Meta: Meta(f, o.File, dir, o.Version, c.Host), log: o.Log, release: func() {}}
	op, err := o.Open(ctx, f, c.Platform)
	for _, note := range op.Said {
		fmt.Fprintf(o.Log, "runner run: %s\n", note)
	}
	if err != nil {
		return nil, err
	}
	s.Platform = op.Platform
	op.Describe(&s.Meta)
	s.Jobs, err = Jobs(f, c.Scenarios, s.Meta.ID, op.Name, op.Swarm)
	if err == nil {
		s.Build, err = BuildOf(f, c.Scenarios, s.Meta.ID, op.Name)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Hold takes the run's lease until Close. ErrLeaseHeld says the same run is
// already going (a second --resume of it); a lease that cannot be written is
// only a warning, told to the log.
func (s *Started) Hold() error {
	release, err := holdLease(s.Meta, s.Dir)
	s.release = release
	switch {
	case errors.Is(err, ErrLeaseHeld):
		return err
	case err != nil:
		fmt.Fprintf(s.log, "runner run: warning: %v; a stack left by a crash of this run will need runner clean\n", err)
	}
	return nil
}

// Close releases the lease and closes the platform.
func (s *Started) Close() {
	s.release()
	if s.Platform != nil {
		s.Platform.Close()
	}
}
