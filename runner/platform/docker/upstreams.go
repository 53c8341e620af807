package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"

	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/result"
)

// IP is the container's address on network, else on the first of its networks
// by name; empty when it has none.
func (c Container) IP(network string) string {
	if ip := c.IPs[network]; ip != "" {
		return ip
	}
	names := slices.Sorted(maps.Keys(c.IPs))
	if len(names) == 0 {
		return ""
	}
	return c.IPs[names[0]]
}

// BalancerStats reads the per-upstream counters of a balancer of kind runner (or
// empty: the runner's proxy, /proxy/stats) or haproxy (its stats CSV) at base. nginx
// (open source) exposes no per-upstream counts: it returns an error saying so.
func BalancerStats(ctx context.Context, kind, base string) (proxy.Stats, error) {
	switch kind {
	case "", "runner":
		return proxy.FetchStats(ctx, base)
	case "haproxy":
		return proxy.FetchHAProxyStats(ctx, base)
	case "nginx":
		return proxy.Stats{}, errors.New("nginx (open source) exposes no per-upstream counts; use balancer image haproxy or the runner's proxy to see the share per replica")
	}
	return proxy.Stats{}, fmt.Errorf("balancer kind %q has no statistics the runner can read", kind)
}

// UpstreamCounts maps the load balancer's counters per upstream address to the
// replicas (by their addresses on any network), in replica order; addresses that
// match no replica follow.
func UpstreamCounts(stats proxy.Stats, replicas []Container, port int) []result.EndpointCount {
	byIP := map[string]proxy.UpstreamStats{}
	for _, u := range stats.Upstreams {
		host, _, err := net.SplitHostPort(u.Address)
		if err != nil {
			host = u.Address
		}
		byIP[host] = u
	}
	var out []result.EndpointCount
	for _, c := range replicas {
		ec := result.EndpointCount{Name: c.Name}
		for _, ip := range c.IPs {
			if u, ok := byIP[ip]; ok {
				ec.URL, ec.Requests, ec.Errors = "http://"+u.Address, u.Requests, u.Errors
				delete(byIP, ip)
				break
			}
		}
		if ip := c.IP(""); ec.URL == "" && ip != "" {
			ec.URL = "http://" + net.JoinHostPort(ip, strconv.Itoa(port))
		}
		out = append(out, ec)
	}
	for _, u := range stats.Upstreams {
		host, _, _ := net.SplitHostPort(u.Address)
		if _, left := byIP[host]; left {
			out = append(out, result.EndpointCount{URL: "http://" + u.Address, Requests: u.Requests, Errors: u.Errors})
		}
	}
	return out
}
