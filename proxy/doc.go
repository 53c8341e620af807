// Package proxy is the runner's HTTP load balancer: a reverse proxy
// (net/http/httputil) that the compose stack puts in front of the replicas of the
// service under test when a scenario says `balancer: proxy`.
//
// It finds its upstreams by resolving one name (Docker's DNS answers a compose
// service name with the address of every replica) every ResolveInterval, or takes a
// static list. It spreads requests round-robin or to the upstream with the fewest
// requests in flight (least_conn). An upstream that refuses connections is taken
// out, the request is retried on another one, and the upstream is tried again after
// RetryAfter or, with a Health path, once it answers its health check. A request
// sent on a kept-alive connection the upstream had just closed (no answer at all)
// is also resent once on another upstream. Requests whose body is larger than
// MaxRetryBody, or of unknown length, are streamed and never resent. Requests no
// upstream can take get 502 with a JSON body.
//
// Its own paths: GET /proxy/health (200 when at least one upstream, or ?min=N of
// them, can take requests), GET /proxy/stats (per-upstream requests, errors and
// requests in flight as JSON) and GET /proxy/metrics (the same in the Prometheus
// text format, through prometheus/client_golang with its Go runtime and process
// collectors). Everything else is proxied.
package proxy
