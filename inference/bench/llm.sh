#!/usr/bin/env bash
# Measures the generative model of the inference service: tokens/s of one stream and of
# 1, 4, 16 and 64 concurrent streams with p50/p99 TTFT and ITL, the same model decoded
# by PyTorch (batch 1 and 16) on the same core in the same run, resident memory against
# the KV-cache limit, and goroutines and memory after 1,000 abandoned streams.
#
# The service (and the PyTorch peer) run on one CPU (taskset, so Go sets GOMAXPROCS=1),
# the client on the other. Every run is bounded in streams and time. Next to tokens/s
# (wall time), each row gives the tokens per CPU-second the service used: on a shared
# machine, where other programs take turns on the service's core, that figure moves
# far less.
#
#   inference/bench/llm.sh            # or: make bench-inference
#   BENCH_TOKENS=32 BENCH_KV=32MiB BENCH_ROUNDS=5 inference/bench/llm.sh
#
# Each concurrency runs in BENCH_ROUNDS (3) interleaved rounds of about a second or
# more; the table shows the round with the median tokens/s, and its ratio to the
# single stream.
#
# Needs: taskset (util-linux), Debian's python3-torch for the peer (skipped without
# it), and 2 CPUs. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."

TOKENS=${BENCH_TOKENS:-64}
KV=${BENCH_KV:-64MiB}
SERVICE_CPU=${BENCH_SERVICE_CPU:-1}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
BIN=${BENCH_BIN:-bin/inference}
ABANDON=${BENCH_ABANDON:-1000}
ROUNDS=${BENCH_ROUNDS:-3}

command -v taskset >/dev/null || { echo "bench: taskset is missing (apt-get install -y util-linux)" >&2; exit 2; }
[ -x "$BIN" ] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/inference
work=$(mktemp -d)
go build -o "$work/llmload" ./inference/bench/llmload
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

taskset -c "$SERVICE_CPU" "$BIN" -addr 127.0.0.1:0 -kv-cache "$KV" -llm-max-running 64 -llm-max-waiting 1024 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$work/log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "bench: the service did not start:" >&2; cat "$work/log" >&2; exit 1; }
url="http://$addr"

kib() { awk -v k="$2" '$1==k":"{print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; } # user + system CPU, in clock ticks
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1==m{print $2}'; }

echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
kernels=$(sed -n 's/.*kernels=\([^ ]*\).*/\1/p' "$work/log")
echo "service on CPU $SERVICE_CPU (matrix kernels: ${kernels:-unknown}), client on CPU $CLIENT_CPU, $TOKENS tokens per stream, KV cache $KV" >&2

load() { taskset -c "$CLIENT_CPU" "$work/llmload" -url "$url" -tokens "$TOKENS" "$@"; }
load -c 4 -requests 8 >/dev/null # warm up
rows="$work/rows.jsonl"
cpu="$work/cpu.txt" # the service's CPU seconds of each row: robust on a shared machine
# ROUNDS interleaved rounds of every concurrency, each row about a second of
# streams; the table gives, per concurrency, the round with the median tokens/s.
for round in $(seq "$ROUNDS"); do
  for c in 1 4 16 64; do
    n=$(( c < 4 ? 96 : c * 16 ))
    t0=$(ticks "$pid")
    load -c "$c" -requests "$n" | tee -a "$rows" >&2
    t1=$(ticks "$pid")
    echo "$(( t1 - t0 )) $(getconf CLK_TCK)" >>"$cpu"
  done
done
hwm=$(kib "$pid" VmHWM)
limit=$(metric inference_llm_kv_cache_limit_bytes)

g0=$(metric go_goroutines); r0=$(kib "$pid" VmRSS)
load -c 16 -requests "$ABANDON" -abandon >"$work/abandon.json"
sleep 1
for _ in $(seq 50); do [ "$(metric inference_llm_sequences_running)" = 0 ] && break; sleep 0.1; done
g1=$(metric go_goroutines); r1=$(kib "$pid" VmRSS); kv1=$(metric inference_llm_kv_cache_used_bytes)
echo "abandoned $ABANDON streams: goroutines $g0 -> $g1, RSS $((r0/1024)) -> $((r1/1024)) MiB, KV used after $kv1" >&2
kill -TERM "$pid"; wait "$pid" || true; pid=

peer="$work/peer.jsonl"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  for b in 1 16; do
    taskset -c "$SERVICE_CPU" /usr/bin/python3 inference/bench/torch_peer.py --batch "$b" --tokens "$TOKENS" | tee -a "$peer" >&2
  done
else
  echo "bench: no python3-torch: the PyTorch peer is skipped (apt-get install -y python3-torch)" >&2
fi

/usr/bin/python3 - "$rows" "$peer" "$hwm" "$limit" "$g0" "$g1" "$r0" "$r1" "$kv1" "$ABANDON" "$cpu" "$kernels" <<'EOF'
import json, os, sys
rows, peer, hwm, limit, g0, g1, r0, r1, kv1, ab, cpu, kernels = sys.argv[1:]
ticks = [tuple(map(int, l.split())) for l in open(cpu)]
print("| engine | streams | tokens/s | x one stream | tokens per service CPU-s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
by_c = {}
for l, (t, hz) in zip(open(rows), ticks):
    r = json.loads(l)
    r["per_cpu"] = r["tokens"] * hz / t if t > 0 else None
    by_c.setdefault(r["concurrency"], []).append(r)
single = None
for c, rs in by_c.items():
    rs.sort(key=lambda r: r["tokens_per_s"])
    r = rs[len(rs) // 2]
    single = single or r["tokens_per_s"]
    per_cpu = "%.0f" % r["per_cpu"] if r["per_cpu"] else ""
    print("| Go service (HTTP, SSE) | %d | %.0f | %.2fx | %s | %.1f | %.1f | %.2f | %.2f | %d |" % (c, r["tokens_per_s"],
          r["tokens_per_s"] / single, per_cpu, r["ttft_p50_ms"], r["ttft_p99_ms"], r["itl_p50_ms"], r["itl_p99_ms"], r["errors"]))
if os.path.exists(peer):
    for l in open(peer):
        r = json.loads(l)
        print("| %s (in process, batch) | %d | %.0f | | | | | | | |" % (r["engine"], r["batch"], r["tokens_per_s"]))
print()
print("Rows: per concurrency, the round of %d with the median tokens/s. Matrix kernels: %s." % (max(len(rs) for rs in by_c.values()), kernels or "unknown"))
print("Peak RSS %.1f MiB with a KV-cache limit of %.1f MiB. After %s abandoned streams: goroutines %s -> %s, "
      "RSS %.1f -> %.1f MiB, KV cache used %s bytes." % (int(hwm) / 1024, float(limit) / 2**20, ab, g0, g1, int(r0) / 1024, int(r1) / 1024, kv1))
EOF
