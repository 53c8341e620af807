package proxy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// HAProxyStatsPath is where the config the runner generates for HAProxy serves its
// statistics as CSV, and HAProxyBackend the name of its backend of replicas.
const (
	HAProxyStatsPath = "/proxy/stats;csv"
	HAProxyBackend   = "replicas"
)

// ParseHAProxyCSV reads HAProxy's statistics CSV (the stats page with ;csv) into
// Stats: one upstream per server of backend, with Address its addr column (shown
// with "stats show-legends"), Requests its req_tot (stot before HAProxy counted
// HTTP requests per server), Errors its connection and response errors plus 5xx
// responses. Servers of a server-template that have no address yet are left out.
// Policy is backend's algo mapped to round_robin or least_conn.
func ParseHAProxyCSV(r io.Reader, backend string) (Stats, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return Stats{}, fmt.Errorf("cannot read HAProxy's stats CSV: %w", err)
	}
	if len(header) == 0 || !strings.HasPrefix(header[0], "# ") {
		return Stats{}, errors.New("HAProxy's stats CSV does not start with its '# pxname,svname,...' header")
	}
	header[0] = strings.TrimPrefix(header[0], "# ")
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"pxname", "svname", "status", "addr", "stot"} {
		if _, ok := col[need]; !ok {
			return Stats{}, fmt.Errorf("HAProxy's stats CSV has no %s column (is stats show-legends set for the addr column?)", need)
		}
	}
	s := Stats{Upstreams: []UpstreamStats{}}
	found := false
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("cannot read HAProxy's stats CSV: %w", err)
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		num := func(name string) uint64 {
			n, _ := strconv.ParseUint(field(name), 10, 64)
			return n
		}
		if field("pxname") != backend {
			continue
		}
		found = true
		switch sv := field("svname"); sv {
		case "FRONTEND":
		case "BACKEND":
			switch field("algo") {
			case "roundrobin":
				s.Policy = "round_robin"
			case "leastconn":
				s.Policy = "least_conn"
			default:
				s.Policy = field("algo")
			}
		default:
			addr := field("addr")
			if addr == "" || strings.HasPrefix(addr, "0.0.0.0:") || strings.HasPrefix(addr, "[::]:") {
				continue // a template slot no replica fills
			}
			reqs := num("stot")
			if _, ok := col["req_tot"]; ok && field("req_tot") != "" {
				reqs = num("req_tot")
			}
			s.Upstreams = append(s.Upstreams, UpstreamStats{
				Address:  addr,
				State:    haproxyState(field("status")),
				Requests: reqs,
				Errors:   num("econ") + num("eresp") + num("hrsp_5xx"),
				Failures: num("chkdown"),
				InFlight: int64(num("scur")),
			})
		}
	}
	if !found {
		return Stats{}, fmt.Errorf("HAProxy's stats CSV has no backend %q", backend)
	}
	slices.SortFunc(s.Upstreams, func(a, b UpstreamStats) int { return strings.Compare(a.Address, b.Address) })
	return s, nil
}

// haproxyState maps a server's status column to the states of Stats.
func haproxyState(status string) string {
	switch {
	case strings.HasPrefix(status, "UP"), status == "no check":
		return StateUp // "UP", "UP 1/2" (going down)
	case strings.HasPrefix(status, "DOWN"), status == "NOLB":
		return StateDown
	case strings.HasPrefix(status, "MAINT"):
		return StateRemoved // MAINT (resolution): the name no longer resolves to it
	}
	return StateUnready
}

// FetchHAProxyStats reads base + HAProxyStatsPath of a running HAProxy configured by
// the runner, and parses the servers of its backend HAProxyBackend.
func FetchHAProxyStats(ctx context.Context, base string) (Stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+HAProxyStatsPath, nil)
	if err != nil {
		return Stats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Stats{}, fmt.Errorf("cannot read HAProxy's stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Stats{}, fmt.Errorf("cannot read HAProxy's stats: %s", resp.Status)
	}
	return ParseHAProxyCSV(resp.Body, HAProxyBackend)
}
