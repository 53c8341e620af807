package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/infergrid/runner/runner/cli"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

func versionString() string {
	v := version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v
}

func cmdVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("version", usageText("version"), stdout)
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "runner version: takes no arguments")
		return exitUsage
	}
	fmt.Fprintf(stdout, "runner %s (%s %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
