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
	col, err := haproxyColumns(cr)
	if err != nil {
		return Stats{}, err
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
		row := haproxyRow{col, rec}
		if row.field("pxname") != backend {
			continue
		}
		found = true
		switch row.field("svname") {
		case "FRONTEND":
		case "BACKEND":
			s.Policy = haproxyPolicy(row.field("algo"))
		default:
			if u, ok := row.upstream(); ok {
				s.Upstreams = append(s.Upstreams, u)
			}
		}
	}
	if !found {
		return Stats{}, fmt.Errorf("HAProxy's stats CSV has no backend %q", backend)
	}
	slices.SortFunc(s.Upstreams, func(a, b UpstreamStats) int { return strings.Compare(a.Address, b.Address) })
	return s, nil
}

// haproxyColumns reads the CSV's '# pxname,svname,...' header into the index of
// each column, checking that the columns Stats needs are there.
func haproxyColumns(cr *csv.Reader) (map[string]int, error) {
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read HAProxy's stats CSV: %w", err)
	}
	if len(header) == 0 || !strings.HasPrefix(header[0], "# ") {
		return nil, errors.New("HAProxy's stats CSV does not start with its '# pxname,svname,...' header")
	}
	header[0] = strings.TrimPrefix(header[0], "# ")
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"pxname", "svname", "status", "addr", "stot"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("HAProxy's stats CSV has no %s column (is stats show-legends set for the addr column?)", need)
		}
	}
	return col, nil
}

// haproxyRow is one record of the stats CSV, read by column name.
type haproxyRow struct {
	col map[string]int
	rec []string
}

// field is the named column's value; "" when the record or the header lacks it.
func (r haproxyRow) field(name string) string {
	if i, ok := r.col[name]; ok && i < len(r.rec) {
		return r.rec[i]
	}
	return ""
}

// num is the named column as a count; 0 when empty.
func (r haproxyRow) num(name string) uint64 {
	n, _ := strconv.ParseUint(r.field(name), 10, 64)
	return n
}

// upstream is the server of a record; false for a server-template slot that no
// replica fills yet.
func (r haproxyRow) upstream() (UpstreamStats, bool) {
	addr := r.field("addr")
	if addr == "" || strings.HasPrefix(addr, "0.0.0.0:") || strings.HasPrefix(addr, "[::]:") {
		return UpstreamStats{}, false
	}
	reqs := r.num("stot")
	if r.field("req_tot") != "" {
		reqs = r.num("req_tot")
	}
	return UpstreamStats{
		Address:  addr,
		State:    haproxyState(r.field("status")),
		Requests: reqs,
		Errors:   r.num("econ") + r.num("eresp") + r.num("hrsp_5xx"),
		Failures: r.num("chkdown"),
		InFlight: int64(r.num("scur")),
	}, true
}

// haproxyPolicy maps a backend's algo column to the policies of Stats.
func haproxyPolicy(algo string) string {
	switch algo {
	case "roundrobin":
		return "round_robin"
	case "leastconn":
		return "least_conn"
	}
	return algo
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
