package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	full := Spec{Project: "p", Dir: "d", Compose: []byte("services: {}"), Service: "svc", Port: 8000, Replicas: 1}
	for _, tt := range []struct {
		name    string
		spec    Spec
		compose bool
		want    []string // every problem, or none
	}{
		{"complete", full, true, nil},
		{"zero replicas on compose", func() Spec { s := full; s.Replicas = 0; return s }(), true, []string{"no replicas"}},
		{"zero replicas on local", Spec{Project: "p"}, false, []string{"no replicas"}},
		{"local needs no compose file", Spec{Project: "p", Replicas: 2}, false, nil},
		{"empty compose spec", Spec{}, true, []string{"no project name", "no scenario directory", "no compose file", "no service name", "no service port", "no replicas"}},
		{"balancer without port", func() Spec { s := full; s.Balancer = "lb"; return s }(), true, []string{"no balancer port"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate(tt.compose)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Validate: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUpFailed(t *testing.T) {
	upErr := errors.New("replica r-1 exited")
	lost := fmt.Errorf("daemon gone: %w", ErrUnavailable)
	for _, tt := range []struct {
		name    string
		err     error
		downErr error
		want    string
	}{
		{"teardown ok", upErr, nil, "replica r-1 exited"},
		{"teardown failed", upErr, errors.New("busy"), "replica r-1 exited\nand tearing down failed: busy"},
		{"both lost", lost, fmt.Errorf("down: %w", ErrUnavailable), "daemon gone: platform unavailable; what it started could not be removed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // Ctrl-C while the stack came up: the teardown still gets its time
			var live bool
			err := UpFailed(ctx, tt.err, func(dctx context.Context) error {
				_, live = dctx.Deadline()
				live = live && dctx.Err() == nil
				return tt.downErr
			})
			if !live {
				t.Error("down ran without a live context with a deadline")
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("UpFailed does not wrap Up's error: %v", err)
			}
			if err.Error() != tt.want {
				t.Errorf("UpFailed = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestWriteStack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scenarios", "a")
	file, err := WriteStack(Spec{Dir: dir, Compose: []byte("services: {}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "services: {}\n" || file != filepath.Join(dir, "compose.yml") {
		t.Errorf("WriteStack wrote %s: %q, %v", file, b, err)
	}
}
