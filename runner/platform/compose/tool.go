package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/infergrid/runner/runner/platform"
)

// Tool is a compose command line found on this host.
type Tool struct {
	// Command is how it is invoked, e.g. ["docker", "compose"] or ["docker-compose"].
	Command []string
	// Version as the tool reports it, e.g. "2.40.3" or "1.29.2".
	Version string
	// V1 is true for the Python docker-compose 1.x, which needs --compatibility to
	// apply deploy.resources limits.
	V1 bool
}

func (t Tool) String() string {
	return fmt.Sprintf("%s %s", strings.Join(t.Command, " "), t.Version)
}

// Detect finds the compose tool: the given command if any, else `docker compose`
// (v2 plugin), else `docker-compose`. Neither answering wraps platform.ErrUnavailable.
func Detect(ctx context.Context, command []string) (Tool, error) {
	candidates := [][]string{{"docker", "compose"}, {"docker-compose"}}
	if len(command) > 0 {
		candidates = [][]string{command}
	}
	var errs []error
	for _, c := range candidates {
		v, err := version(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return Tool{Command: c, Version: v, V1: strings.HasPrefix(v, "1.")}, nil
	}
	return Tool{}, fmt.Errorf("%w: no compose tool found (install the docker compose plugin or docker-compose): %w", platform.ErrUnavailable, errors.Join(errs...))
}

func version(ctx context.Context, c []string) (string, error) {
	if _, err := exec.LookPath(c[0]); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := append(c[1:len(c):len(c)], "version", "--short")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c[0], args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s version: %w: %s", strings.Join(c, " "), err, firstLine(out.String()))
	}
	v := strings.TrimPrefix(firstLine(out.String()), "v")
	if v == "" || strings.ContainsAny(v, " \t") {
		return "", fmt.Errorf("%s version: unexpected answer %q", strings.Join(c, " "), firstLine(out.String()))
	}
	return v, nil // a development build says "dev"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// run runs the tool on a project and returns its combined output.
func (t Tool) run(ctx context.Context, project, file string, args ...string) (string, error) {
	full := append([]string{}, t.Command[1:]...)
	if t.V1 {
		full = append(full, "--compatibility")
	}
	full = append(full, "--project-name", project, "--file", file)
	full = append(full, args...)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, t.Command[0], full...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w: %s", strings.Join(t.Command, " "), strings.Join(args, " "), err, errorLines(out.String()))
		if noDaemon(out.String()) {
			err = fmt.Errorf("%w: %w", errNoDaemon, err)
		}
		return out.String(), err
	}
	return out.String(), nil
}

// errNoDaemon marks a compose command that failed because it could not reach the
// Docker daemon.
var errNoDaemon = errors.New("the compose tool cannot reach the Docker daemon")

// noDaemon reports whether compose output says the Docker daemon cannot be
// reached: v2's (and the docker CLI's) "Cannot connect to the Docker daemon",
// v1's "Couldn't connect to Docker daemon" and its Python traceback ending in
// "Error while fetching server API version", or a refused connection.
func noDaemon(out string) bool {
	low := strings.ToLower(out)
	for _, m := range []string{
		"cannot connect to the docker daemon", "couldn't connect to docker daemon",
		"error while fetching server api version", "error during connect",
		"is the docker daemon running", "connection refused", "failed to connect to the docker api",
	} {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// errorLines keeps what explains a failed compose command: its lines that report
// an error, else its last line, not the progress of every container.
func errorLines(out string) string {
	var keep []string
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if strings.Contains(out, "Traceback (most recent call last)") {
		return strings.TrimSpace(lines[len(lines)-1]) // docker-compose v1 crashed: its last line says why
	}
	for _, l := range lines {
		if low := strings.ToLower(l); strings.Contains(low, "error") || strings.Contains(low, "fail") {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	if len(keep) == 0 {
		keep = lines[len(lines)-1:]
	}
	return strings.Join(keep, "; ")
}
