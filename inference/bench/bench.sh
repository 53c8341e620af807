#!/usr/bin/env bash
# Measures the inference service over loopback: predictions per second on ONE core, the
# latency wrk sees, and the service's resident memory under load.
#
# The service is pinned to one CPU with taskset (so Go sets GOMAXPROCS=1) and wrk to
# another, so the figures are "per core" and the load generator does not steal the
# service's CPU. Every run is bounded: BENCH_RUNS runs of BENCH_DURATION per case.
#
#   inference/bench/bench.sh            # or: make bench-inference
#   BENCH_RUNS=5 BENCH_DURATION=20s BENCH_CONNECTIONS=64 inference/bench/bench.sh
#
# Needs: wrk, taskset (util-linux), python3, and 2 CPUs. Prints a Markdown table of the
# medians over the runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
SERVICE_CPU=${BENCH_SERVICE_CPU:-1}
WRK_CPU=${BENCH_WRK_CPU:-0}
BIN=${BENCH_BIN:-bin/inference}

for tool in wrk taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y wrk util-linux python3)" >&2; exit 2; }
done
if [ ! -x "$BIN" ]; then
  CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/inference
fi

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_service MODEL: runs the binary on a free loopback port, sets $pid and $url.
start_service() {
  : >"$work/log" # now, not in the background child: the last service's address is in it
  taskset -c "$SERVICE_CPU" "$BIN" -addr 127.0.0.1:0 -model "$1" -max-inflight 0 >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$work/log")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "bench: the service did not start:" >&2; cat "$work/log" >&2; exit 1; }
  url="http://$addr/predict"
}

stop_service() {
  kill -TERM "$pid"; wait "$pid" || true; pid=
}

# rss_kib PID: current and peak resident memory in KiB.
rss_kib() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/$1/status"; }
# cpu_ticks PID: user+system clock ticks used so far.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "wrk: $CONNS connections, $DURATION per run, $RUNS runs per case; service on CPU $SERVICE_CPU, wrk on CPU $WRK_CPU" >&2

results="$work/results.jsonl"
for model in default large; do
  start_service "$model"
  for body in predict.json predict-batch.json; do
    instances=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get('instances', [0])))" "inference/testdata/$body")
    # Warm up (connections, heap) before measuring.
    BODY_FILE="inference/testdata/$body" taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d2s -s inference/bench/post.lua "$url" >/dev/null
    for run in $(seq "$RUNS"); do
      t0=$(cpu_ticks "$pid")
      BODY_FILE="inference/testdata/$body" taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" -s inference/bench/post.lua "$url" >"$work/wrk" &
      wrk_pid=$!
      peak=0
      while kill -0 "$wrk_pid" 2>/dev/null; do
        read -r rss _ < <(rss_kib "$pid")
        [ "$rss" -gt "$peak" ] && peak=$rss
        sleep 0.5
      done
      wait "$wrk_pid"
      t1=$(cpu_ticks "$pid")
      summary=$(tail -n1 "$work/wrk")
      python3 - "$model" "$body" "$instances" "$peak" "$((t1 - t0))" "$(getconf CLK_TCK)" "$summary" >>"$results" <<'EOF'
import json, sys
model, body, inst, peak, ticks, hz, summary = sys.argv[1:]
s = json.loads(summary)
secs = s["duration_us"] / 1e6
print(json.dumps({"model": model, "body": body, "instances": int(inst), "rps": s["requests"] / secs,
                  "pps": s["requests"] * int(inst) / secs, "p50_ms": s["p50_us"] / 1e3, "p99_ms": s["p99_us"] / 1e3,
                  "errors": s["errors"], "rss_mib": int(peak) / 1024, "cpu_pct": 100 * int(ticks) / int(hz) / secs}))
EOF
      echo "  $(tail -n1 "$results")" >&2
    done
  done
  read -r _ hwm < <(rss_kib "$pid")
  echo "  $model: peak RSS (VmHWM) $((hwm / 1024)) MiB" >&2
  stop_service
done

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = {}
for r in rows:
    cases.setdefault((r["model"], r["body"]), []).append(r)
print("| model | request | predictions/s (1 core) | predictions per CPU-second | requests/s | p50 ms | p99 ms | service CPU % | RSS under load MiB | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for (model, body), rs in cases.items():
    med = lambda k: statistics.median(r[k] for r in rs)
    req = "single" if rs[0]["instances"] == 1 else "batch of %d" % rs[0]["instances"]
    per_cpu = statistics.median(r["pps"] / max(r["cpu_pct"], 1e-9) * 100 for r in rs)
    print("| %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.1f | %d |" % (
        model, req, med("pps"), per_cpu, med("rps"), med("p50_ms"), med("p99_ms"), med("cpu_pct"), med("rss_mib"),
        sum(r["errors"] for r in rs)))
print("\nMedians of %d runs per case. Predictions per CPU-second divide by the CPU time the"
      " service got, which is the per-core capacity when other processes share the core." % len(next(iter(cases.values()))))
EOF
