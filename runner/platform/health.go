package platform

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultHealthTimeout bounds the health wait when a Spec sets none.
const DefaultHealthTimeout = 60 * time.Second

// HealthError says which replica never became healthy and why.
type HealthError struct {
	// Replica is the endpoint's name.
	Replica string
	// Exited is true when the replica stopped instead of answering.
	Exited bool
	// Reason is the last failure seen (a status, a transport error, an exit).
	Reason string
	// Logs are the replica's last log lines, when the platform could read them.
	Logs string
}

func (e *HealthError) Error() string {
	what := "did not become healthy"
	if e.Exited {
		what = "exited before becoming healthy"
	}
	msg := fmt.Sprintf("replica %s %s: %s", e.Replica, what, e.Reason)
	if e.Logs != "" {
		msg += "\nlast log lines:\n" + e.Logs
	}
	return msg
}

// ExitCheck reports whether replica i has stopped, and how (e.g. "exit code 2").
type ExitCheck func(ctx context.Context, i int) (exited bool, how string)

// WaitHealthy polls path on every endpoint until each answers 2xx. It returns a
// *HealthError naming the first replica that exited (as told by exited, which may
// be nil) or was still unhealthy when timeout passed.
func WaitHealthy(ctx context.Context, eps []Endpoint, path string, timeout time.Duration, exited ExitCheck) error {
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	defer client.CloseIdleConnections()

	pr := newProbes(len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Go(func() { pr.poll(ctx, client, i, ep.URL+path) })
	}
	defer func() {
		cancel() // stop the probes before waiting for them
		wg.Wait()
	}()

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		pending := pr.pending()
		if pending < 0 {
			return nil
		}
		if exited != nil {
			for i := range eps {
				if pr.ok(i) {
					continue
				}
				if gone, how := exited(ctx, i); gone {
					return &HealthError{Replica: eps[i].Name, Exited: true, Reason: how}
				}
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return fmt.Errorf("waiting for health of %s: %w", eps[pending].Name, err)
			}
			return &HealthError{Replica: eps[pending].Name,
				Reason: fmt.Sprintf("no 2xx from %s%s within %s (last: %s)", eps[pending].URL, path, timeout, pr.last(pending))}
		}
	}
}

// probes is what WaitHealthy's pollers found, per endpoint.
type probes struct {
	mu      sync.Mutex
	healthy []bool
	lastErr []string
}

func newProbes(n int) *probes {
	p := &probes{healthy: make([]bool, n), lastErr: make([]string, n)}
	for i := range p.lastErr {
		p.lastErr[i] = "no answer yet"
	}
	return p
}

// poll probes url until it answers 2xx or ctx ends, backing off from 20 ms to
// 250 ms, and records what it found for endpoint i.
func (p *probes) poll(ctx context.Context, client *http.Client, i int, url string) {
	delay := 20 * time.Millisecond
	for {
		err := probe(ctx, client, url)
		p.mu.Lock()
		if err == nil {
			p.healthy[i] = true
		} else if ctx.Err() == nil {
			p.lastErr[i] = err.Error()
		}
		p.mu.Unlock()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// pending is the first endpoint not healthy yet, or -1.
func (p *probes) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, ok := range p.healthy {
		if !ok {
			return i
		}
	}
	return -1
}

func (p *probes) ok(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.healthy[i]
}

func (p *probes) last(i int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr[i]
}

func probe(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
