package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Upstream states in Stats.
const (
	StateUp      = "up"      // takes requests
	StateDown    = "down"    // refused a connection; retried later
	StateUnready = "unready" // has not passed its health check
	StateRemoved = "removed" // no longer resolved; counters kept
)

// Stats is what GET /proxy/stats answers.
type Stats struct {
	// Policy is round_robin or least_conn.
	Policy string `json:"policy"`
	// Upstream is the resolved name:port, empty with static upstreams.
	Upstream string `json:"upstream,omitempty"`
	// NoUpstream counts requests that found no upstream to take them.
	NoUpstream uint64 `json:"no_upstream"`
	// Upstreams are every upstream ever seen, ordered by address.
	Upstreams []UpstreamStats `json:"upstreams"`
}

// UpstreamStats are the counters of one upstream.
type UpstreamStats struct {
	// Address is IP:port.
	Address string `json:"address"`
	// State is up, down, unready or removed.
	State string `json:"state"`
	// Requests counts requests sent to it (retries on another upstream count there too).
	Requests uint64 `json:"requests"`
	// Errors counts transport failures and 5xx responses.
	Errors uint64 `json:"errors"`
	// Failures counts refused connections, each of which took the upstream out.
	Failures uint64 `json:"failures"`
	// InFlight is the number of requests it is serving now.
	InFlight int64 `json:"in_flight"`
}

// Stats returns the current counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Policy: p.cfg.Policy, NoUpstream: p.noUpstream.Load(), Upstreams: []UpstreamStats{}}
	if len(p.cfg.Static) == 0 {
		s.Upstream = p.cfg.Upstream
	}
	now := p.now()
	for _, u := range p.ups {
		st := StateUp
		switch {
		case u.removed:
			st = StateRemoved
		case now.Before(u.downUntil):
			st = StateDown
		case !u.ready:
			st = StateUnready
		}
		s.Upstreams = append(s.Upstreams, UpstreamStats{
			Address: u.addr, State: st, Requests: u.requests.Load(), Errors: u.errors.Load(),
			Failures: u.failures.Load(), InFlight: u.inFlight.Load(),
		})
	}
	return s
}

// FetchStats reads GET base/proxy/stats of a running proxy, base being its URL
// such as http://127.0.0.1:18000.
func FetchStats(ctx context.Context, base string) (Stats, error) {
	var s Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/proxy/stats", nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("cannot read the proxy's stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("cannot read the proxy's stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("cannot decode the proxy's stats: %w", err)
	}
	return s, nil
}
