package dashboard

import (
	"context"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

// Live is a dashboard served in the background while a run goes (runner run
// --dashboard): its Server is fed by the run's events (Observe).
type Live struct {
	*Server
	// URL is where the page is served, http://HOST:PORT/.
	URL  string
	stop func()
}

// Start serves the dashboard of a run of jobs on addr (Listen's HOST:PORT, or a
// bare PORT on the loopback interface) until Stop.
func Start(addr string, jobs []run.Job) (*Live, error) {
	plan := make([]result.Scenario, len(jobs))
	for i, j := range jobs {
		plan[i] = j.Scenario
	}
	ln, err := Listen(addr)
	if err != nil {
		return nil, err
	}
	l := &Live{Server: New(plan), URL: "http://" + ln.Addr().String() + "/"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Serve(ctx, ln)
	}()
	l.stop = func() { cancel(); <-done }
	return l, nil
}

// Stop stops serving, and returns once the server has.
func (l *Live) Stop() { l.stop() }
