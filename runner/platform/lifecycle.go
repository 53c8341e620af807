package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// FailedUpTeardownTimeout bounds the teardown that Up runs when it fails, on
// every platform: it runs even after ctx is cancelled (Ctrl-C while a stack comes
// up). It is as long as a swarm needs to remove a stack's services, tasks and
// networks on a loaded host; compose and local stacks take seconds.
const FailedUpTeardownTimeout = 60 * time.Second

// Validate reports every problem of s at once. Every platform needs a project
// name and at least one replica; compose says the platform deploys s.Compose
// (compose and swarm), which then needs the scenario directory, the compose
// file, the service's name and port, and a balancer's port.
func (s Spec) Validate(compose bool) error {
	var errs []error
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{s.Project == "", "no project name"},
		{compose && s.Dir == "", "no scenario directory"},
		{compose && len(s.Compose) == 0, "no compose file"},
		{compose && s.Service == "", "no service name"},
		{compose && s.Port <= 0, "no service port"},
		{s.Replicas < 1, "no replicas"},
		{compose && s.Balancer != "" && s.BalancerPort <= 0, "no balancer port"},
	} {
		if c.bad {
			errs = append(errs, errors.New(c.what))
		}
	}
	return errors.Join(errs...)
}

// WriteStack writes what a compose-file platform deploys into s.Dir: s.Compose
// as compose.yml (atomically: a crash leaves the old file or the new one) and
// s.Files. It returns the compose file's path.
func WriteStack(s Spec) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(s.Dir, "compose.yml")
	if err := result.WriteFile(file, s.Compose); err != nil {
		return "", fmt.Errorf("cannot write %s: %w", file, err)
	}
	if err := WriteFiles(s.Dir, s.Files); err != nil {
		return "", err
	}
	return file, nil
}

// UpFailed is what Up returns when it fails after starting something: it
// removes what was started with down, within FailedUpTeardownTimeout even
// after ctx is cancelled, and returns err, saying when the teardown failed too.
// When both failed because the platform stopped answering (ErrUnavailable), the
// error says that what Up started could not be removed.
func UpFailed(ctx context.Context, err error, down func(context.Context) error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FailedUpTeardownTimeout)
	defer cancel()
	switch derr := down(dctx); {
	case derr == nil:
		return err
	case errors.Is(err, ErrUnavailable) && errors.Is(derr, ErrUnavailable):
		return fmt.Errorf("%w; what it started could not be removed", err) // for the same reason
	default:
		return errors.Join(err, fmt.Errorf("and tearing down failed: %w", derr))
	}
}
