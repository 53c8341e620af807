#!/usr/bin/env bash
# Benchmarks reading streamed answers (Server-Sent Events): the load generator's
# CPU per 1,000 tokens with the runner's SSE reader, a plain Go bufio.Scanner
# loop and Python aiohttp (Debian's python3-aiohttp, as vLLM's benchmark client
# reads streams; skipped when missing), all reading the same stream from one
# server process; then the generator's peak RSS holding STREAMS (default
# 10,000) concurrent streams. See runner/load/streambench.
#
#   scripts/bench-stream.sh            (STREAMS=10000 TOKENS=1000 ANSWERS=200)
set -euo pipefail

cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-stream.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$tmp/streambench" ./runner/load/streambench

cpu_gen=0 cpu_srv=1
if [ "$(nproc)" -lt 2 ]; then cpu_srv=0; fi
serve() { # serve FLAGS...: start a server on CPU $cpu_srv, set url to its URL
	rm -f "$tmp/url"
	taskset -c "$cpu_srv" "$tmp/streambench" serve "$@" >"$tmp/url" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
	url=$(cat "$tmp/url")
}

echo "== CPU per 1,000 tokens (answers of ${TOKENS:-1000} tokens, ${ANSWERS:-200} answers, generator on CPU $cpu_gen)"
serve -tokens "${TOKENS:-1000}"
url=$url/v1/chat/completions
for r in sse scanner; do
	taskset -c "$cpu_gen" "$tmp/streambench" read -url "$url" -reader "$r" -streams "${ANSWERS:-200}"
done
if /usr/bin/python3 -c 'import aiohttp' 2>/dev/null; then
	taskset -c "$cpu_gen" /usr/bin/python3 scripts/bench-stream.py "$url" "${ANSWERS:-200}"
else
	echo "aiohttp: skipped (apt-get install -y python3-aiohttp)"
fi

n=${STREAMS:-10000}
echo "== $n concurrent streams (one token a second, 60 tokens each)"
if [ "$(ulimit -n)" -lt $((n + 100)) ]; then ulimit -n $((2 * n + 100)) || true; fi
serve -tokens 60 -gap 1s
"$tmp/streambench" hold -url "$url" -streams "$n" -duration "${HOLD:-15s}"
