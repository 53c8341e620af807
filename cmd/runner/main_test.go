package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/infergrid/runner/internal/runnertest"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files and the cmp targets of the scripts")

func TestMain(m *testing.M) {
	if os.Getenv(runnertest.MainEnv) == "1" { // the test binary re-executed as runner
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"runner": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script. Each starts in a
// work folder holding a copy of the repository's scenarios and a Go main package at
// cmd/inference (the service the scenario files build).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			if err := os.CopyFS(filepath.Join(env.WorkDir, "scenarios"), os.DirFS("../../scenarios")); err != nil {
				return err
			}
			inf := filepath.Join(env.WorkDir, "cmd", "inference")
			if err := os.MkdirAll(inf, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(inf, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N COMMAND [ARGS...] runs COMMAND and fails unless it exits
			// with N; its output can be checked with stdout and stderr.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N COMMAND [ARGS...]")
				}
				err := ts.Exec(args[1], args[2:]...)
				got := 0
				if err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("%s: %v", args[1], err)
					}
					got = ee.ExitCode()
				}
				if strconv.Itoa(got) != args[0] {
					ts.Fatalf("%s exited with %d, want %s", args[1], got, args[0])
				}
			},
		},
	})
}
