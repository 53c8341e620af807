package proxy

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The proxy's metrics (GET /proxy/metrics), read from Stats at each scrape. Label
// values are escaped as the Prometheus text format wants, by client_golang.
var (
	descRequests = prometheus.NewDesc("proxy_upstream_requests_total", "Requests sent to the upstream.", []string{"upstream"}, nil)
	descErrors   = prometheus.NewDesc("proxy_upstream_errors_total", "Transport failures and 5xx responses of the upstream.", []string{"upstream"}, nil)
	descFailures = prometheus.NewDesc("proxy_upstream_failures_total", "Refused connections that took the upstream out.", []string{"upstream"}, nil)
	descInFlight = prometheus.NewDesc("proxy_upstream_in_flight", "Requests the upstream is serving.", []string{"upstream"}, nil)
	descUp       = prometheus.NewDesc("proxy_upstream_up", "1 when the upstream takes requests.", []string{"upstream"}, nil)
	descNone     = prometheus.NewDesc("proxy_no_upstream_total", "Requests no upstream could take.", nil, nil)
)

// collector is a prometheus.Collector of a proxy's Stats.
type collector struct{ p *Proxy }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descErrors, descFailures, descInFlight, descUp, descNone} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Stats()
	for _, u := range s.Upstreams {
		up := 0.0
		if u.State == StateUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(u.Requests), u.Address)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(u.Errors), u.Address)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(u.Failures), u.Address)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(u.InFlight), u.Address)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, u.Address)
	}
	ch <- prometheus.MustNewConstMetric(descNone, prometheus.CounterValue, float64(s.NoUpstream))
}

// newMetrics is the handler of GET /proxy/metrics: the proxy's counters, and the
// standard Go runtime and process collectors, in a registry of its own.
func (p *Proxy) newMetrics() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{p}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
