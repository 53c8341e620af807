// Command proxy is the runner's load balancer in front of the replicas of a
// service (`balancer: proxy` in a scenario file). See package proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/infergrid/runner/proxy"
)

const usage = `Usage: proxy [options]

Reverse proxy in front of every replica of a service: resolves UPSTREAM's name every
second (Docker's DNS answers a compose service name with every replica's address), or
uses a static list, and spreads requests round-robin or to the least busy replica.
GET /proxy/health, /proxy/stats (JSON) and /proxy/metrics (Prometheus) are its own.
Every option can also be set by the environment variable in brackets; a flag wins.

Options:
`

const examples = `
Examples:
  proxy -upstream app:8000 -policy least_conn -health /health
  LISTEN=:8080 UPSTREAM=app:8000 POLICY=round_robin proxy
  proxy -listen 127.0.0.1:9000 -upstreams 127.0.0.1:8001,127.0.0.1:8002
`

func main() {
	os.Exit(Main(os.Args[1:], os.Getenv, os.Stderr))
}

// options are the command line.
type options struct {
	listen   string
	shutdown time.Duration
	cfg      proxy.Config
}

// Main runs the proxy and returns the exit code: 0 after a clean shutdown, 1 when
// it fails, 2 for bad usage.
func Main(args []string, getenv func(string) string, stderr io.Writer) int {
	o, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	o.cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, o, log, nil); err != nil {
		log.Error("proxy failed", "err", err)
		return 1
	}
	return 0
}

// serve runs the proxy until ctx is done, then shuts down gracefully. ready, when
// not nil, receives the listening address.
func serve(ctx context.Context, o options, log *slog.Logger, ready chan<- string) error {
	p, err := proxy.New(o.cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = p.Run(rctx) }()
	log.Info("proxy listening", "addr", ln.Addr().String(), "upstream", o.cfg.Upstream, "static", strings.Join(o.cfg.Static, ","), "policy", o.cfg.Policy, "health", o.cfg.Health)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), o.shutdown)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("proxy stopped")
	return nil
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	listen := env("LISTEN", ":8080")
	if p := getenv("PORT"); p != "" && getenv("LISTEN") == "" {
		listen = "127.0.0.1:" + p
	}
	fs.StringVar(&o.listen, "listen", listen, "listen `address` [LISTEN]")
	fs.StringVar(&o.cfg.Upstream, "upstream", env("UPSTREAM", "app:8000"), "`name:port` whose every address is an upstream [UPSTREAM]")
	static := fs.String("upstreams", env("UPSTREAMS", ""), "comma-separated static upstream `addresses`; no resolution [UPSTREAMS]")
	fs.StringVar(&o.cfg.Policy, "policy", env("POLICY", proxy.RoundRobin), "round_robin or least_conn [POLICY]")
	fs.StringVar(&o.cfg.Health, "health", env("HEALTH", ""), "upstream health `path`; empty: no active checks [HEALTH]")
	durs := []struct {
		name, env string
		def       time.Duration
		dst       *time.Duration
		help      string
	}{
		{"resolve-interval", "RESOLVE_INTERVAL", proxy.DefaultResolveInterval, &o.cfg.ResolveInterval, "how often the upstream name is resolved"},
		{"health-interval", "HEALTH_INTERVAL", proxy.DefaultHealthInterval, &o.cfg.HealthInterval, "how often each upstream's health is checked"},
		{"retry-after", "RETRY_AFTER", proxy.DefaultRetryAfter, &o.cfg.RetryAfter, "how long an upstream that refused a connection stays out"},
		{"shutdown-timeout", "SHUTDOWN_TIMEOUT", 8 * time.Second, &o.shutdown, "time for requests in flight after SIGTERM"},
	}
	for _, d := range durs {
		def := d.def
		if v := getenv(d.env); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil {
				return o, fmt.Errorf("%s=%q is not a duration", d.env, v)
			}
			def = p
		}
		fs.DurationVar(d.dst, d.name, def, d.help+" ["+d.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *static != "" {
		for _, a := range strings.Split(*static, ",") {
			if a = strings.TrimSpace(a); a != "" {
				o.cfg.Static = append(o.cfg.Static, a)
			}
		}
	}
	return o, nil
}
