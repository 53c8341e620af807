// Command inference serves a tree-ensemble model (XGBoost JSON) over HTTP: the default
// system under test of the runner. See package inference and the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/infergrid/runner/inference"
)

var version = "dev"

const usage = `Usage: inference [options]

Serves a tree-ensemble model over HTTP: POST /predict, GET /health, GET /metrics, GET /.
Every option can also be set by the environment variable in brackets; a flag wins over
the environment. Stops gracefully on SIGTERM or SIGINT.

Options:
`

const examples = `
Examples:
  inference                                  # default model on :8000
  inference -model large -addr 127.0.0.1:9000
  PORT=8080 INFERENCE_MODEL=/models/my-xgboost.json inference
  curl -s localhost:8000/predict -H 'Content-Type: application/json' \
       -d @inference/testdata/predict.json
`

func main() {
	os.Exit(Main(os.Args[1:], os.Getenv, os.Stderr))
}

// Main runs the service with the given arguments and environment and returns the exit
// code: 0 after a clean shutdown, 1 when the service fails, 2 for bad usage.
func Main(args []string, getenv func(string) string, stderr io.Writer) int {
	opts, logCfg, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "inference: %v\n", err)
		return 2
	}
	if logCfg.version {
		fmt.Fprintln(stderr, "inference", version)
		return 0
	}
	opts.Logger = newLogger(stderr, logCfg)
	opts.Handler.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := inference.Run(ctx, opts); err != nil {
		opts.Logger.Error("inference failed", "err", err)
		return 1
	}
	return 0
}

type logConfig struct {
	level   slog.Level
	json    bool
	version bool
}

func newLogger(w io.Writer, c logConfig) *slog.Logger {
	ho := &slog.HandlerOptions{Level: c.level}
	if c.json {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// parseOptions reads flags, with defaults taken from the environment.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (inference.Options, logConfig, error) {
	fs := flag.NewFlagSet("inference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	var envErrs []error
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	str := func(name, env_, def, help string) *string {
		return fs.String(name, env(env_, def), help+" ["+env_+"]")
	}
	num := func(name, env_ string, def int, help string) *int {
		v := def
		if s := getenv(env_); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q is not an integer", env_, s))
			}
			v = n
		}
		return fs.Int(name, v, help+" ["+env_+"]")
	}
	dur := func(name, env_ string, def time.Duration, help string) *time.Duration {
		v := def
		if s := getenv(env_); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q is not a duration (like 30s)", env_, s))
			}
			v = d
		}
		return fs.Duration(name, v, help+" ["+env_+"]")
	}

	defAddr := inference.DefaultAddr
	if p := getenv("PORT"); p != "" {
		defAddr = ":" + p
	}
	addr := str("addr", "INFERENCE_ADDR", defAddr, "listen address (PORT=8080 means :8080)")
	model := str("model", "INFERENCE_MODEL", inference.DefaultModel,
		"model: "+strings.Join(inference.EmbeddedModels(), " or ")+" (embedded), or the path of an XGBoost JSON model (.json or .json.gz)")
	maxInFlight := num("max-inflight", "INFERENCE_MAX_INFLIGHT", inference.DefaultMaxInFlight,
		"predictions served at once; more get 503 with Retry-After (0: no limit)")
	maxBatch := num("max-batch", "INFERENCE_MAX_BATCH", inference.DefaultMaxBatch, "instances per batch request")
	maxBody := str("max-body", "INFERENCE_MAX_BODY", "1MiB", "request body limit (bytes, or with KiB/MiB suffix)")
	readHeader := dur("read-header-timeout", "INFERENCE_READ_HEADER_TIMEOUT", inference.DefaultReadHeaderTimeout, "time to read request headers")
	read := dur("read-timeout", "INFERENCE_READ_TIMEOUT", inference.DefaultReadTimeout, "time to read a whole request")
	write := dur("write-timeout", "INFERENCE_WRITE_TIMEOUT", inference.DefaultWriteTimeout, "time to answer, from the end of the headers")
	idle := dur("idle-timeout", "INFERENCE_IDLE_TIMEOUT", inference.DefaultIdleTimeout, "keep-alive idle time")
	shutdown := dur("shutdown-timeout", "INFERENCE_SHUTDOWN_TIMEOUT", inference.DefaultShutdownTimeout, "time given to requests in flight on SIGTERM")
	ratio := str("memory-limit-ratio", "INFERENCE_MEMORY_LIMIT_RATIO", strconv.FormatFloat(inference.DefaultMemoryLimitRatio, 'g', -1, 64),
		"GOMEMLIMIT as a share of the cgroup memory limit, unless GOMEMLIMIT is set (0: off)")
	modelMem := str("model-memory", "INFERENCE_MODEL_MEMORY", "0", "memory held for the model's lifetime, to stand in for a larger model (e.g. 300MiB; 0: none)")
	requestMem := str("request-memory", "INFERENCE_REQUEST_MEMORY", "0", "working memory of every prediction request, held until it is answered (e.g. 2MiB; 0: none)")
	level := str("log-level", "INFERENCE_LOG_LEVEL", "info", "log level: debug (one line per request), info, warn, error")
	format := str("log-format", "INFERENCE_LOG_FORMAT", "text", "log format: text or json")
	showVersion := fs.Bool("version", false, "print the version and exit")

	if err := fs.Parse(args); err != nil {
		return inference.Options{}, logConfig{}, err
	}
	if fs.NArg() > 0 {
		return inference.Options{}, logConfig{}, fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	errs := envErrs
	body, err := parseBytes(*maxBody)
	if err != nil {
		errs = append(errs, fmt.Errorf("-max-body: %w", err))
	}
	memory := func(flag, v string) int64 {
		if strings.TrimSpace(v) == "0" {
			return 0
		}
		n, err := parseBytes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %w", flag, err))
		}
		return n
	}
	modelBytes, requestBytes := memory("model-memory", *modelMem), memory("request-memory", *requestMem)
	r, err := strconv.ParseFloat(*ratio, 64)
	if err != nil || r < 0 || r > 1 {
		errs = append(errs, fmt.Errorf("-memory-limit-ratio %q: want a number from 0 to 1", *ratio))
	}
	var lc logConfig
	if err := lc.level.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level %q: want debug, info, warn or error", *level))
	}
	switch *format {
	case "text":
	case "json":
		lc.json = true
	default:
		errs = append(errs, fmt.Errorf("-log-format %q: want text or json", *format))
	}
	if *maxBatch <= 0 {
		errs = append(errs, fmt.Errorf("-max-batch %d: want at least 1", *maxBatch))
	}
	for name, d := range map[string]time.Duration{"read-header-timeout": *readHeader, "read-timeout": *read,
		"write-timeout": *write, "idle-timeout": *idle, "shutdown-timeout": *shutdown} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("-%s %s: want a positive duration", name, d))
		}
	}
	if len(errs) > 0 {
		return inference.Options{}, logConfig{}, errors.Join(errs...)
	}
	lc.version = *showVersion
	inFlight := *maxInFlight
	if inFlight <= 0 {
		inFlight = -1 // no limit
	}
	return inference.Options{
		Addr: *addr,
		Handler: inference.Config{
			Model:        *model,
			MaxBodyBytes: body,
			MaxBatch:     *maxBatch,
			MaxInFlight:  inFlight,

			ModelMemoryBytes:   modelBytes,
			RequestMemoryBytes: requestBytes,
		},
		Server: inference.ServerConfig{
			ReadHeaderTimeout: *readHeader,
			ReadTimeout:       *read,
			WriteTimeout:      *write,
			IdleTimeout:       *idle,
			ShutdownTimeout:   *shutdown,
		},
		MemoryLimitRatio: r,
	}, lc, nil
}

// parseBytes reads a size such as 1048576, 512KiB, 1MiB or 1MB (binary multiples).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size like 1048576, 512KiB or 1MiB", s)
	}
	return n * mult, nil
}
