package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// gateScript holds a replica's shell until the runner has moved it into its
// cgroup, then runs the command in its place: so every process the command
// starts, and every byte it allocates from its first instruction on, is in the
// group and under its limits. It exits 125 if the runner never opens the gate.
const gateScript = `read -r _ <&3 || exit 125; exec 3<&-; exec "$@"`

// waitDelay bounds how long a replica's exit waits for its output to end: a child
// it started in the background may hold its output open after it exited.
const waitDelay = 500 * time.Millisecond

// startIn starts r's command argv (argv[0] resolved by findCommand) with env in
// dir, in its own process group, and with r.cg in that cgroup before it runs.
func startIn(r *replica, argv, env []string, dir string) error {
	name, args := argv[0], argv[1:]
	var gateR, gateW *os.File
	if r.cg != nil {
		var err error
		if gateR, gateW, err = os.Pipe(); err != nil {
			return err
		}
		defer gateW.Close()
		name, args = "/bin/sh", append([]string{"-c", gateScript, "runner-gate"}, argv...)
	}
	r.cmd = exec.Command(name, args...)
	r.cmd.Env, r.cmd.Dir, r.cmd.WaitDelay = env, dir, waitDelay
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if gateR != nil {
		r.cmd.ExtraFiles = []*os.File{gateR}
	}
	err := r.cmd.Start()
	if gateR != nil {
		gateR.Close()
	}
	if err != nil || r.cg == nil {
		return err
	}
	pid := r.cmd.Process.Pid
	if err = r.cg.add(pid); err == nil {
		if _, err = gateW.Write([]byte("go\n")); err != nil {
			err = fmt.Errorf("cannot start the command in its cgroup: %w", err)
		}
	}
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = r.cmd.Wait()
		return err
	}
	return nil
}

// findCommand returns the program name names, looked up as the replica's shell
// would: a name with a slash relative to dir, any other in the PATH of env. A
// missing program is an error here, rather than a replica that exits with 127.
func findCommand(name, dir string, env []string) (string, error) {
	abs := func(p string) string {
		if !filepath.IsAbs(p) && dir != "" {
			return filepath.Join(dir, p)
		}
		return p
	}
	if strings.Contains(name, "/") {
		return exec.LookPath(abs(name))
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v // the last one wins, as in the environment the command gets
		}
	}
	for _, d := range filepath.SplitList(path) {
		if p, err := exec.LookPath(abs(filepath.Join(d, name))); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q is not an executable in PATH (%s)", name, path)
}
