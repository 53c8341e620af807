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

	"github.com/docker/go-units"

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

// option is one flag: its environment variable, default and parser. The parser
// stores the value into the options, or says what is wrong with it.
type option struct {
	name, env, def, help string
	set                  func(o *options, v string) error
}

// options is what the flags fill in.
type options struct {
	inference.Options
	log logConfig
}

var errPositive = errors.New("want a positive duration")

func duration(dst func(*options) *time.Duration) func(*options, string) error {
	return func(o *options, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration like 30s")
		}
		if d <= 0 {
			return errPositive
		}
		*dst(o) = d
		return nil
	}
}

func integer(dst func(*options) *int, min int) func(*options, string) error {
	return func(o *options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("want an integer of at least %d", min)
		}
		*dst(o) = n
		return nil
	}
}

// size parses a size with go-units (1048576, 512KiB, 1MiB, 1MB: binary multiples);
// zeroOK allows 0 for "none".
func size(dst func(*options) *int64, zeroOK bool) func(*options, string) error {
	return func(o *options, v string) error {
		n, err := units.RAMInBytes(strings.TrimSpace(v))
		if err != nil || n < 0 || (n == 0 && !zeroOK) || n > 1<<40 {
			return errors.New("want a size like 1048576, 512KiB or 1MiB")
		}
		*dst(o) = n
		return nil
	}
}

func ratio(dst func(*options) *float64) func(*options, string) error {
	return func(o *options, v string) error {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r >= 0 && r <= 1) {
			return errors.New("want a number from 0 to 1")
		}
		*dst(o) = r
		return nil
	}
}

func text(dst func(*options) *string) func(*options, string) error {
	return func(o *options, v string) error { *dst(o) = v; return nil }
}

// optionTable lists every flag of the service. defAddr is the default listen address.
func optionTable(defAddr string) []option {
	h := func(o *options) *inference.Config { return &o.Handler }
	srv := func(o *options) *inference.ServerConfig { return &o.Server }
	eng := func(o *options) *inference.EngineConfig { return &o.Handler.Engine }
	return []option{
		{"addr", "INFERENCE_ADDR", defAddr, "listen address (PORT=8080 means :8080)", text(func(o *options) *string { return &o.Addr })},
		{"model", "INFERENCE_MODEL", inference.DefaultModel, "model: " + strings.Join(inference.EmbeddedModels(), " or ") +
			" (embedded), or the path of an XGBoost JSON model (.json or .json.gz)", text(func(o *options) *string { return &h(o).Model })},
		{"max-inflight", "INFERENCE_MAX_INFLIGHT", strconv.Itoa(inference.DefaultMaxInFlight),
			"predictions served at once; more get 503 with Retry-After (0: no limit)", inFlight},
		{"max-batch", "INFERENCE_MAX_BATCH", strconv.Itoa(inference.DefaultMaxBatch), "instances per batch request",
			integer(func(o *options) *int { return &h(o).MaxBatch }, 1)},
		{"max-body", "INFERENCE_MAX_BODY", "1MiB", "request body limit (bytes, or with KiB/MiB suffix)",
			size(func(o *options) *int64 { return &h(o).MaxBodyBytes }, false)},
		{"read-header-timeout", "INFERENCE_READ_HEADER_TIMEOUT", inference.DefaultReadHeaderTimeout.String(), "time to read request headers",
			duration(func(o *options) *time.Duration { return &srv(o).ReadHeaderTimeout })},
		{"read-timeout", "INFERENCE_READ_TIMEOUT", inference.DefaultReadTimeout.String(), "time to read a whole request",
			duration(func(o *options) *time.Duration { return &srv(o).ReadTimeout })},
		{"write-timeout", "INFERENCE_WRITE_TIMEOUT", inference.DefaultWriteTimeout.String(), "time to answer, from the end of the headers (a stream extends it at every token)",
			duration(func(o *options) *time.Duration { return &srv(o).WriteTimeout })},
		{"idle-timeout", "INFERENCE_IDLE_TIMEOUT", inference.DefaultIdleTimeout.String(), "keep-alive idle time",
			duration(func(o *options) *time.Duration { return &srv(o).IdleTimeout })},
		{"shutdown-timeout", "INFERENCE_SHUTDOWN_TIMEOUT", inference.DefaultShutdownTimeout.String(), "time given to requests and streams in flight on SIGTERM",
			duration(func(o *options) *time.Duration { return &srv(o).ShutdownTimeout })},
		{"memory-limit-ratio", "INFERENCE_MEMORY_LIMIT_RATIO", strconv.FormatFloat(inference.DefaultMemoryLimitRatio, 'g', -1, 64),
			"GOMEMLIMIT as a share of the cgroup memory limit, unless GOMEMLIMIT is set (0: off)", ratio(func(o *options) *float64 { return &o.MemoryLimitRatio })},
		{"model-memory", "INFERENCE_MODEL_MEMORY", "0", "memory held for the model's lifetime, to stand in for a larger model (e.g. 300MiB; 0: none)",
			size(func(o *options) *int64 { return &h(o).ModelMemoryBytes }, true)},
		{"request-memory", "INFERENCE_REQUEST_MEMORY", "0", "working memory of every prediction request, held until it is answered (e.g. 2MiB; 0: none)",
			size(func(o *options) *int64 { return &h(o).RequestMemoryBytes }, true)},
		{"llm", "INFERENCE_LLM", inference.DefaultLLM, "generative model of /v1/*: " + inference.DefaultLLM +
			" (embedded), the path of a safetensors file from make model-llm, or off", text(func(o *options) *string { return &h(o).LLM })},
		{"llm-max-running", "INFERENCE_LLM_MAX_RUNNING", strconv.Itoa(inference.DefaultMaxRunning), "sequences decoded together in one batch",
			integer(func(o *options) *int { return &eng(o).MaxRunning }, 1)},
		{"llm-max-waiting", "INFERENCE_LLM_MAX_WAITING", strconv.Itoa(inference.DefaultMaxWaiting), "sequences waiting for the batch; more get 429 with Retry-After",
			integer(func(o *options) *int { return &eng(o).MaxWaiting }, 1)},
		{"kv-cache", "INFERENCE_KV_CACHE", "0", "KV-cache memory of the running sequences (e.g. 64MiB; 0: a share of the cgroup memory limit, see -kv-cache-ratio, else 256MiB)",
			size(func(o *options) *int64 { return &eng(o).KVCacheBytes }, true)},
		{"kv-cache-ratio", "INFERENCE_KV_CACHE_RATIO", strconv.FormatFloat(inference.DefaultKVCacheRatio, 'g', -1, 64),
			"KV cache as a share of the cgroup memory limit, when -kv-cache is 0", ratio(func(o *options) *float64 { return &o.KVCacheRatio })},
		{"log-level", "INFERENCE_LOG_LEVEL", "info", "log level: debug (one line per request), info, warn, error", logLevel},
		{"log-format", "INFERENCE_LOG_FORMAT", "text", "log format: text or json", logFormat},
	}
}

func inFlight(o *options, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("want an integer of at least 0")
	}
	o.Handler.MaxInFlight = n
	if n == 0 {
		o.Handler.MaxInFlight = -1 // no limit
	}
	return nil
}

func logLevel(o *options, v string) error {
	if err := o.log.level.UnmarshalText([]byte(v)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	return nil
}

func logFormat(o *options, v string) error {
	switch v {
	case "text", "json":
		o.log.json = v == "json"
		return nil
	}
	return errors.New("want text or json")
}

// parseOptions reads the flags of optionTable; a flag's default comes from its
// environment variable when that is set. Every bad value is reported at once.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (inference.Options, logConfig, error) {
	fs := flag.NewFlagSet("inference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	defAddr := inference.DefaultAddr
	if p := getenv("PORT"); p != "" {
		defAddr = ":" + p
	}
	table := optionTable(defAddr)
	values := make([]*string, len(table))
	for i, op := range table {
		def := op.def
		if v := getenv(op.env); v != "" {
			def = v
		}
		values[i] = fs.String(op.name, def, op.help+" ["+op.env+"]")
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return inference.Options{}, logConfig{}, err
	}
	if fs.NArg() > 0 {
		return inference.Options{}, logConfig{}, fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var o options
	var errs []error
	for i, op := range table {
		if err := op.set(&o, *values[i]); err != nil {
			from := "-" + op.name
			if !set[op.name] && getenv(op.env) != "" {
				from = op.env + "=" + strconv.Quote(*values[i]) + " (-" + op.name + ")"
			} else {
				from += " " + strconv.Quote(*values[i])
			}
			errs = append(errs, fmt.Errorf("%s: %w", from, err))
		}
	}
	if len(errs) > 0 {
		return inference.Options{}, logConfig{}, errors.Join(errs...)
	}
	o.log.version = *showVersion
	return o.Options, o.log, nil
}
