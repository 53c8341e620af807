package platform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// FailedUpTeardownTimeout bounds the teardown that Up runs when it fails, on
// every platform: it runs even after ctx is cancelled (Ctrl-C while a stack comes
// up). It is as long as a swarm needs to remove a stack's services, tasks and
// networks on a loaded host; compose and local stacks take seconds.
const FailedUpTeardownTimeout = 60 * time.Second

// Driver is what a platform supplies to Up: only the steps that differ between
// compose, swarm and local. It is the platform's Stack itself, while it comes
// up: Up returns it once healthy, and removes it with its Down when a step
// fails. It embeds Base, in which Up records the stack's endpoints and times.
type Driver interface {
	Stack
	// Kind names the platform and says what Spec.Validate requires of it.
	Kind() Kind
	// Open readies the platform before anything starts: it connects, writes
	// what it deploys, creates a missing network, starts watching events. When
	// it fails, Up returns its error as is: nothing was started.
	Open(ctx context.Context) error
	// Start starts the stack (compose up, docker stack deploy, the processes).
	Start(ctx context.Context) error
	// Replicas waits until the replicas of the service under test run (at most
	// until deadline), has Sample read them (and the side services a compose
	// file runs beside them) from then on, and returns them with their
	// endpoints: each replica's own, or none when only the balancer reaches them.
	Replicas(ctx context.Context, deadline time.Time) (Group, error)
	// Balancer brings up, or finds, the load balancer (Spec.Balancer) in front of
	// replicas, samples it from then on, and returns it with its endpoint.
	Balancer(ctx context.Context, deadline time.Time, replicas []Member) (Group, error)
	// CheckLimits fails when members do not run with the CPU and memory limits
	// asked for (0: none), e.g. when a compose file lacks them.
	CheckLimits(ctx context.Context, members []Member, cpus float64, memoryBytes int64) error
	// Exited reports whether m has stopped, and how (e.g. "exit code 2").
	Exited(ctx context.Context, m Member) (exited bool, how string)
	// Logs are m's last log lines; empty when they cannot be read.
	Logs(ctx context.Context, m Member) string
	// Record adds an event to those Events returns.
	Record(ev result.Event)
	// Lost wraps err in ErrUnavailable when it comes from the platform no
	// longer answering (then the teardown cannot work either), else returns it.
	Lost(err error) error
	base() *Base
}

// Kind describes a platform to Up.
type Kind struct {
	// Name is the platform's name in errors: compose, swarm or local.
	Name string
	// Compose says that the platform deploys Spec.Compose, which Spec.Validate
	// then requires with what it names.
	Compose bool
}

// Member is one container, task or process of a stack.
type Member struct {
	// Name is its name in samples, events and errors.
	Name string
	// ID is the driver's own handle on it (a container ID, a task ID).
	ID string
}

// Group is some members of a stack and where the load generator reaches them:
// one endpoint each, one for them all (a swarm's routing mesh), or none.
type Group struct {
	Members   []Member
	Endpoints []Endpoint
}

// Base is embedded by every platform's Stack: what Up records of the stack it
// brought up, and the Stack methods that return it.
type Base struct {
	eps            []Endpoint
	start, healthy time.Duration
}

// Endpoints lists where the stack answers: every replica, in a stable order, or
// the balancer in front of them.
func (b *Base) Endpoints() []Endpoint { return b.eps }

// UpTimes says how long Up took to start the stack and find its endpoints, and
// then to see every one healthy.
func (b *Base) UpTimes() (start, healthy time.Duration) { return b.start, b.healthy }

func (b *Base) base() *Base { return b }

// Up brings a stack up through d, the same way on every platform:
//
//  1. s.Validate; d.Open; then, with everything started from here on removed
//     again (UpFailed) when a step fails:
//  2. d.Start;
//  3. d.Replicas, then s.Started is handed the stack, sampled from then on
//     (through the health wait: a stack that fails to come up keeps its
//     stats), and d.CheckLimits of the replicas;
//  4. without a balancer, the health wait of the replicas' endpoints;
//  5. with one: the health wait of the replicas when they have endpoints of
//     their own, d.Balancer, d.CheckLimits of the balancer, and the health wait
//     of the balancer's endpoint: first /proxy/health?min=REPLICAS, then the
//     service's health path through it.
//
// Everything from d.Start until healthy must happen within s.HealthTimeout
// (DefaultHealthTimeout when 0); each health path gets at least a second. A
// health wait fails as soon as a member it watches exits (the replicas, and the
// balancer in front of them), naming that member, with its last log lines, and
// records a health_failed event. A failed Up returns an *UpError with the
// stack's events.
func Up(ctx context.Context, s Spec, d Driver) (Stack, error) {
	k := d.Kind()
	if err := s.Validate(k.Compose); err != nil {
		return nil, fmt.Errorf("%s: invalid spec for %s: %w", k.Name, s.Project, err)
	}
	if err := d.Open(ctx); err != nil {
		return nil, err
	}
	l := &lifecycle{s: s, d: d, kind: k, t0: time.Now()}
	if err := l.run(ctx); err != nil {
		err = UpFailed(ctx, d.Lost(err), d.Down)
		return nil, &UpError{Err: err, Events: d.Events()}
	}
	return d, nil
}

// lifecycle is one Up in progress.
type lifecycle struct {
	s        Spec
	d        Driver
	kind     Kind
	t0       time.Time // before Start
	deadline time.Time // of the health wait
	t1       time.Time // when the first health wait began
}

// run is Up's steps 2 to 5.
func (l *lifecycle) run(ctx context.Context) error {
	s, d := l.s, l.d
	if err := d.Start(ctx); err != nil {
		return err
	}
	l.deadline = time.Now().Add(cmp.Or(s.HealthTimeout, DefaultHealthTimeout))
	reps, err := d.Replicas(ctx, l.deadline)
	if err != nil {
		return err
	}
	if s.Started != nil {
		s.Started(d)
	}
	if err := d.CheckLimits(ctx, reps.Members, s.CPUs, s.MemoryBytes); err != nil {
		return err
	}
	final := reps
	if s.Balancer != "" {
		if len(reps.Endpoints) > 0 {
			if err := l.healthy(ctx, reps, reps.Members, s.Health); err != nil {
				return err
			}
		}
		b, err := d.Balancer(ctx, l.deadline, reps.Members)
		if err != nil {
			return err
		}
		if err := d.CheckLimits(ctx, b.Members, s.BalancerCPUs, s.BalancerMemoryBytes); err != nil {
			return err
		}
		watched := append(append([]Member(nil), b.Members...), reps.Members...)
		if err := l.healthy(ctx, b, watched, "/proxy/health?min="+strconv.Itoa(len(reps.Members)), s.Health); err != nil {
			return err
		}
		final = b
	} else if err := l.healthy(ctx, reps, reps.Members, s.Health); err != nil {
		return err
	}
	base := d.base()
	base.eps = final.Endpoints
	base.healthy = time.Since(l.t1)
	return nil
}

// healthy waits until each of paths, in turn, answers 2xx on every endpoint of
// g, failing as soon as a member of watched exits. When each endpoint is one
// member of watched (the same names in the same order), endpoint i watches
// member i only.
func (l *lifecycle) healthy(ctx context.Context, g Group, watched []Member, paths ...string) error {
	if len(g.Endpoints) == 0 || len(watched) == 0 {
		return fmt.Errorf("%s %s: nothing to wait for: no endpoint or no member", l.kind.Name, l.s.Project)
	}
	if l.t1.IsZero() {
		l.t1 = time.Now()
		l.d.base().start = l.t1.Sub(l.t0)
	}
	direct := len(g.Endpoints) == len(watched)
	for i, ep := range g.Endpoints {
		direct = direct && ep.Name == watched[i].Name
	}
	var culprit *Member
	exited := func(ctx context.Context, i int) (bool, string) {
		ms := watched
		if direct {
			ms = watched[i : i+1]
		}
		for j := range ms {
			if gone, how := l.d.Exited(ctx, ms[j]); gone {
				culprit = &ms[j]
				return true, how
			}
		}
		return false, ""
	}
	for _, path := range paths {
		timeout := max(time.Until(l.deadline), time.Second)
		if err := WaitHealthy(ctx, g.Endpoints, path, timeout, exited); err != nil {
			return l.unhealthy(ctx, err, watched, culprit)
		}
	}
	return nil
}

// unhealthy completes a failed health wait's error: a *HealthError names the
// member that exited (culprit) or the endpoint still unhealthy, with the last
// log lines of that member (else of the first watched), and is recorded as a
// health_failed event.
func (l *lifecycle) unhealthy(ctx context.Context, err error, watched []Member, culprit *Member) error {
	var he *HealthError
	if errors.As(err, &he) {
		if he.Exited && culprit != nil {
			he.Replica = culprit.Name
		}
		m := watched[0]
		for _, w := range watched {
			if w.Name == he.Replica {
				m = w
			}
		}
		if he.Logs == "" {
			he.Logs = l.d.Logs(context.WithoutCancel(ctx), m)
		}
		l.d.Record(result.Event{Time: time.Now(), Container: he.Replica, Kind: result.EventHealth, Message: he.Reason})
	}
	return fmt.Errorf("%s %s: %w", l.kind.Name, l.s.Project, err)
}

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
