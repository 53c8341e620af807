package platform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/runner/result"
)

// fakeDriver is a platform whose members are HTTP servers: it records the steps
// Up takes, and fails the one named in failAt.
type fakeDriver struct {
	Base
	t        *testing.T
	replicas []Member
	eps      []Endpoint // the replicas' own; nil: reached through the balancer only
	balancer Group
	exited   map[string]string // member name -> how it stopped
	failAt   string            // a step that fails
	openErr  error

	mu     sync.Mutex
	steps  []string
	events []result.Event
	downs  int
}

func (d *fakeDriver) step(s string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.steps = append(d.steps, s)
	if d.failAt == s {
		return fmt.Errorf("%s failed", s)
	}
	return nil
}

func (d *fakeDriver) Kind() Kind                  { return Kind{Name: "fake"} }
func (d *fakeDriver) Open(context.Context) error  { d.step("open"); return d.openErr }
func (d *fakeDriver) Start(context.Context) error { return d.step("start") }
func (d *fakeDriver) Advisory() bool              { return false }
func (d *fakeDriver) Lost(err error) error        { return fmt.Errorf("checked: %w", err) }
func (d *fakeDriver) Record(ev result.Event) {
	d.mu.Lock()
	d.events = append(d.events, ev)
	d.mu.Unlock()
}
func (d *fakeDriver) Logs(_ context.Context, m Member) string { return "last words of " + m.Name }

func (d *fakeDriver) Replicas(_ context.Context, deadline time.Time) (Group, error) {
	if deadline.IsZero() {
		d.t.Error("Replicas got no deadline")
	}
	return Group{Members: d.replicas, Endpoints: d.eps}, d.step("replicas")
}

func (d *fakeDriver) Balancer(_ context.Context, _ time.Time, replicas []Member) (Group, error) {
	if !slices.Equal(replicas, d.replicas) {
		d.t.Errorf("Balancer got replicas %v, want %v", replicas, d.replicas)
	}
	return d.balancer, d.step("balancer")
}

func (d *fakeDriver) CheckLimits(_ context.Context, ms []Member, cpus float64, mem int64) error {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return d.step(fmt.Sprintf("limits %s %g %d", strings.Join(names, ","), cpus, mem))
}

func (d *fakeDriver) Exited(_ context.Context, m Member) (bool, string) {
	how, ok := d.exited[m.Name]
	return ok, how
}

func (d *fakeDriver) Sample(context.Context) ([]result.Sample, error) { return nil, nil }

func (d *fakeDriver) Events() []result.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.events)
}

func (d *fakeDriver) Down(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.downs++
	d.steps = append(d.steps, "down")
	return nil
}

// server answers 2xx on every path (recording them) unless sick.
func server(t *testing.T, sick bool, paths *[]string, mu *sync.Mutex) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if !slices.Contains(*paths, r.URL.RequestURI()) {
			*paths = append(*paths, r.URL.RequestURI())
		}
		mu.Unlock()
		if sick {
			http.Error(w, "sick", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func TestUpSteps(t *testing.T) {
	var mu sync.Mutex
	var repPaths, balPaths []string
	reps := []Member{{Name: "r-1", ID: "1"}, {Name: "r-2", ID: "2"}}
	repEps := []Endpoint{{Name: "r-1", URL: server(t, false, &repPaths, &mu)}, {Name: "r-2", URL: server(t, false, &repPaths, &mu)}}
	bal := Group{Members: []Member{{Name: "lb", ID: "b"}}, Endpoints: []Endpoint{{Name: "lb", URL: server(t, false, &balPaths, &mu)}}}
	spec := Spec{Project: "p", Replicas: 2, Health: "/ready", HealthTimeout: time.Minute, CPUs: 0.5, MemoryBytes: 64,
		BalancerCPUs: 1, BalancerMemoryBytes: 32}
	for _, tt := range []struct {
		name     string
		balancer bool
		repEps   []Endpoint
		steps    []string
		repPaths []string // what the replicas were asked directly
		balPaths []string
		eps      []Endpoint
	}{
		{name: "replicas", repEps: repEps, steps: []string{"open", "start", "replicas", "started", "limits r-1,r-2 0.5 64"},
			repPaths: []string{"/ready"}, eps: repEps},
		{name: "behind a balancer", balancer: true,
			steps:    []string{"open", "start", "replicas", "started", "limits r-1,r-2 0.5 64", "balancer", "limits lb 1 32"},
			balPaths: []string{"/proxy/health?min=2", "/ready"}, eps: bal.Endpoints},
		{name: "replicas healthy before the balancer starts", balancer: true, repEps: repEps,
			steps:    []string{"open", "start", "replicas", "started", "limits r-1,r-2 0.5 64", "balancer", "limits lb 1 32"},
			repPaths: []string{"/ready"}, balPaths: []string{"/proxy/health?min=2", "/ready"}, eps: bal.Endpoints},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repPaths, balPaths = nil, nil
			d := &fakeDriver{t: t, replicas: reps, eps: tt.repEps, balancer: bal}
			s := spec
			if tt.balancer {
				s.Balancer = "lb"
			}
			s.Started = func(x Sampler) {
				if x != Sampler(d) {
					t.Errorf("Started got %v, want the stack", x)
				}
				d.step("started")
			}
			st, err := Up(t.Context(), s, d)
			if err != nil {
				t.Fatal(err)
			}
			if st != Stack(d) {
				t.Errorf("Up returned %v, want the driver", st)
			}
			if !slices.Equal(d.steps, tt.steps) {
				t.Errorf("steps %q, want %q", d.steps, tt.steps)
			}
			mu.Lock()
			if !slices.Equal(repPaths, tt.repPaths) || !slices.Equal(balPaths, tt.balPaths) {
				t.Errorf("health paths asked of the replicas %q and the balancer %q, want %q and %q", repPaths, balPaths, tt.repPaths, tt.balPaths)
			}
			mu.Unlock()
			if !slices.Equal(st.Endpoints(), tt.eps) {
				t.Errorf("Endpoints %v, want %v", st.Endpoints(), tt.eps)
			}
			if start, healthy := st.UpTimes(); start <= 0 || healthy <= 0 {
				t.Errorf("UpTimes %s, %s: want both measured", start, healthy)
			}
		})
	}
}

func TestUpFailures(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	reps := []Member{{Name: "r-1", ID: "1"}, {Name: "r-2", ID: "2"}}
	sickEps := []Endpoint{{Name: "r-1", URL: server(t, true, &paths, &mu)}, {Name: "r-2", URL: server(t, true, &paths, &mu)}}
	bal := Group{Members: []Member{{Name: "lb", ID: "b"}}, Endpoints: []Endpoint{{Name: "lb", URL: server(t, true, &paths, &mu)}}}
	for _, tt := range []struct {
		name     string
		balancer bool
		eps      []Endpoint
		failAt   string
		exited   map[string]string
		timeout  time.Duration
		want     string // the error
		event    string // the health_failed event's container; empty: none
	}{
		{name: "start fails", eps: sickEps, failAt: "start", want: "checked: start failed"},
		{name: "limits do not apply", eps: sickEps, failAt: "limits r-1,r-2 0 0", want: "checked: limits r-1,r-2 0 0 failed"},
		{name: "replica exits", eps: sickEps, exited: map[string]string{"r-2": "exit code 3"},
			want: "checked: fake p: replica r-2 exited before becoming healthy: exit code 3\nlast log lines:\nlast words of r-2", event: "r-2"},
		{name: "replica behind the balancer exits", balancer: true, exited: map[string]string{"r-2": "exit code 3"},
			want: "checked: fake p: replica r-2 exited before becoming healthy: exit code 3\nlast log lines:\nlast words of r-2", event: "r-2"},
		{name: "balancer never healthy", balancer: true, timeout: time.Millisecond,
			want: "checked: fake p: replica lb did not become healthy: no 2xx from " + bal.Endpoints[0].URL + "/proxy/health?min=2 within 1s (last: status 503 Service Unavailable)\nlast log lines:\nlast words of lb", event: "lb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{t: t, replicas: reps, eps: tt.eps, balancer: bal, failAt: tt.failAt, exited: tt.exited}
			s := Spec{Project: "p", Replicas: 2, Health: "/health", HealthTimeout: cmp.Or(tt.timeout, time.Minute)}
			if tt.balancer {
				s.Balancer = "lb"
			}
			_, err := Up(t.Context(), s, d)
			var ue *UpError
			if !errors.As(err, &ue) {
				t.Fatalf("Up: %v, want an *UpError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Up:\n%s\nwant\n%s", err, tt.want)
			}
			if d.downs != 1 {
				t.Errorf("Down ran %d times, want once", d.downs)
			}
			var got string
			for _, ev := range ue.Events {
				if ev.Kind == result.EventHealth {
					got = ev.Container
				}
			}
			if got != tt.event {
				t.Errorf("health_failed event of %q, want %q (events %+v)", got, tt.event, ue.Events)
			}
		})
	}
}

// TestUpBeforeStart: a spec that is not valid, or a platform that cannot be
// opened, fails Up before anything starts, with nothing to tear down.
func TestUpBeforeStart(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec Spec
		open error
		want string
	}{
		{"invalid spec", Spec{Project: "p"}, nil, "fake: invalid spec for p: no replicas"},
		{"open fails", Spec{Project: "p", Replicas: 1}, ErrUnavailable, "platform unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{t: t, openErr: tt.open}
			_, err := Up(t.Context(), tt.spec, d)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Up: %v, want %q", err, tt.want)
			}
			if d.downs != 0 || slices.Contains(d.steps, "start") {
				t.Errorf("steps %q: want nothing started, nothing torn down", d.steps)
			}
		})
	}
}
