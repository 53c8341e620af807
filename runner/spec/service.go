package spec

import (
	"fmt"
	"os"
	"slices"

	"github.com/infergrid/runner/runner/platform"
)

// CommandOnly reports whether the service is given only by its command (no
// build, no image): a process that only platform local runs, and that platform
// auto therefore runs locally.
func (s *Service) CommandOnly() bool {
	return s != nil && len(s.Command) > 0 && s.Build == "" && s.Image == ""
}

// commandExample is how a command is written, for error messages.
const commandExample = `[python3, -m, http.server, "{{.Port}}"]`

// validateCommand checks service.command (every argument a template over
// platform.CommandVars) and resolves service.workdir.
func (d *decoder) validateCommand(f *File) {
	s := f.Service
	switch {
	case d.has("service.command") && len(s.Command) == 0:
		d.errAt("service.command", "command is empty; give the command line as a list, e.g. %s, or remove command", commandExample)
	case len(s.Command) > 0 && s.Command[0] == "":
		d.errAt("service.command[0]", "the program to run is empty; e.g. %s", commandExample)
	}
	for i, arg := range s.Command {
		if _, err := platform.ExpandCommand([]string{arg}, platform.CommandVars{Port: 18000, Addr: "127.0.0.1:18000", Replica: 1}); err != nil {
			d.errAt(fmt.Sprintf("service.command[%d]", i), "%v", trimArgument(err))
		}
	}
	if s.Workdir == "" {
		s.Workdir = f.Dir
		return
	}
	if len(s.Command) == 0 {
		d.errAt("service.workdir", "workdir is the folder command runs in, and there is no command; add command or remove workdir")
	}
	s.Workdir = f.abs(s.Workdir)
	if st, err := os.Stat(s.Workdir); err != nil || !st.IsDir() {
		d.errAt("service.workdir", "folder %s does not exist; give the folder command runs in, relative to the scenario file", s.Workdir)
	}
}

// trimArgument drops "argument 0 " from an error of ExpandCommand given one
// argument: the YAML path names it.
func trimArgument(err error) string {
	msg := err.Error()
	if len(msg) > 11 && msg[:11] == "argument 0 " {
		return msg[11:]
	}
	return msg
}

// checkServicePlatform reports what of the service cannot run on the platform
// called name (compose, swarm or local; auto and external are not checked).
func (d *decoder) checkServicePlatform(f *File, name string) {
	s := f.Service
	if s == nil {
		return
	}
	switch name {
	case "compose", "swarm":
		if s.CommandOnly() {
			d.errAt("service.command", "platform %s runs containers, and command alone gives it no image to run (command is what platform local runs); add build (a folder with a Dockerfile or a Go main package) or image (NAME:TAG), or use platform local, or auto, which runs a command alone locally", name)
		}
	case "local":
		if len(s.Command) > 0 {
			return
		}
		if s.Image != "" && s.Build == "" {
			d.errAt("service.image", "image %s runs in a container, and platform local runs processes; add command, the command line that starts the service (e.g. %s), or use platform compose", s.Image, commandExample)
		}
		if s.BuildKind == "dockerfile" && !slices.Contains(goPackages(s.Build), "main") {
			d.errAt("service.build", "%s holds a Dockerfile, and platform local runs processes, not images; add command, the command line that starts the service (e.g. %s; nothing is built then), or use platform compose", s.Build, commandExample)
		}
	}
}

// CheckPlatform reports, as Load would for a file that names it, what of the
// service cannot run on the platform called name: the platform given by
// --platform, or the one platform auto chose. The error wraps ErrInvalid.
func (f *File) CheckPlatform(name string) error {
	d := &decoder{file: f.Path, pos: f.pos, validating: true}
	d.checkServicePlatform(f, name)
	d.checkGeneratorPlatform(f, name)
	if len(d.errs) > 0 {
		return invalid(d)
	}
	return nil
}

// LocalNote says what platform local does with a service that has a command
// and also a build or an image (both for compose and swarm); empty otherwise.
func (s *Service) LocalNote() string {
	if s == nil || len(s.Command) == 0 || (s.Build == "" && s.Image == "") {
		return ""
	}
	return "platform local runs service.command; service.build and service.image are for compose and swarm, so nothing is built"
}
