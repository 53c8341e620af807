package platform

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"strings"
)

// IsGoMain reports whether dir holds a Go main package.
func IsGoMain(dir string) bool {
	p, err := build.Default.ImportDir(dir, 0)
	return err == nil && p.Name == "main"
}

// BuildGo compiles the Go main package in dir into a static binary at out
// (CGO_ENABLED=0, -trimpath) for goos/goarch; empty means the host's. It runs the go
// tool found on PATH, in dir, so dir's own module applies.
func BuildGo(ctx context.Context, dir, out, goos, goarch string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cannot build %s: the go tool is not on PATH: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	}
	if goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+goarch)
	}
	var outBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &outBuf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of %s failed: %w\n%s", dir, err, strings.TrimSpace(outBuf.String()))
	}
	return nil
}
