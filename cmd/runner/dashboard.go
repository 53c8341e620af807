package main

import (
	"context"
	"fmt"
	"io"

	"github.com/infergrid/runner/runner/dashboard"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

// liveDashboard is the dashboard of runner run --dashboard.
type liveDashboard struct {
	srv  *dashboard.Server
	url  string
	stop func()
}

// startDashboard serves the dashboard of a run of jobs on addr; nil when addr is
// empty. It serves until stop.
func startDashboard(addr string, jobs []run.Job, stdout io.Writer) (*liveDashboard, error) {
	if addr == "" {
		return nil, nil
	}
	plan := make([]result.Scenario, len(jobs))
	for i, j := range jobs {
		plan[i] = j.Scenario
	}
	ln, err := dashboard.Listen(addr)
	if err != nil {
		return nil, err
	}
	d := &liveDashboard{srv: dashboard.New(plan), url: "http://" + ln.Addr().String() + "/"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.srv.Serve(ctx, ln)
	}()
	d.stop = func() { cancel(); <-done }
	fmt.Fprintf(stdout, "dashboard: %s\n", d.url)
	return d, nil
}

// serveFinal keeps serving the run's final state until ctx is done (Ctrl-C).
func (d *liveDashboard) serveFinal(ctx context.Context, stdout io.Writer) {
	if ctx.Err() != nil {
		return
	}
	fmt.Fprintf(stdout, "dashboard: the run is over; serving its final state at %s until Ctrl-C (--dashboard-exit stops at once)\n", d.url)
	<-ctx.Done()
}
