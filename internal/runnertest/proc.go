// Package runnertest is the harness of the runner's end-to-end and fault tests:
// the runner started as a process whose output a test watches, scenario files
// for the services the tests run, and a Docker socket that a test can make
// vanish. It is an ordinary package (as k6's cmd/tests is), so that the tests
// in cmd/runner hold only tests.
package runnertest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MainEnv is set in the environment of a runner that Start starts. Start runs
// the test binary itself, so the test package's TestMain must run the runner's
// Main, and nothing else, when MainEnv is "1".
const MainEnv = "RUNNER_TEST_MAIN"

// Proc is the test binary re-executed as the runner, with its output watched.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout strings.Builder
	stderr bytes.Buffer
	lines  chan string
	done   chan struct{}
	err    error
}

// Start starts the runner with args and extra environment (KEY=VALUE). Its
// stdout lines are readable with WaitFor; it is SIGKILLed at the end of the test
// if still running.
func Start(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, lines: make(chan string, 1024), done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(append(os.Environ(), MainEnv+"=1"), env...)
	p.cmd.Stderr = &p.stderr
	pipe, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// WaitFor returns the first stdout line for which ok is true, failing the test
// after limit or when the runner exits first.
func (p *Proc) WaitFor(limit time.Duration, what string, ok func(string) bool) string {
	p.t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case l := <-p.lines:
			if ok(l) {
				return l
			}
		case <-p.done:
			p.t.Fatalf("runner exited (%v) before %s\nstdout:\n%s\nstderr:\n%s", p.err, what, p.Out(), p.Stderr())
		case <-timer.C:
			p.t.Fatalf("no %s within %s\nstdout:\n%s", what, limit, p.Out())
		}
	}
}

// Out is what the runner wrote to stdout so far.
func (p *Proc) Out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// Stderr is what the runner wrote to stderr; complete once Wait returned.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Signal sends sig to the runner.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits (bounded) for the runner to exit and returns its exit code.
func (p *Proc) Wait(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("runner still running after %s; killed\nstdout:\n%s\nstderr:\n%s", limit, p.Out(), p.Stderr())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// PhaseLine matches the progress line of scenario k entering phase.
func PhaseLine(k int, phase string) func(string) bool {
	return func(l string) bool {
		return strings.HasPrefix(l, fmt.Sprintf("[%d/", k)) && strings.Contains(l, " "+phase)
	}
}
