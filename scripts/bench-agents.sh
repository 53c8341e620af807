#!/usr/bin/env bash
# make bench-agents: the aggregate rate of 1, 2 and 3 load agents (runner agent),
# each pinned to one CPU (taskset), against one runner agent process free to use
# every CPU, in the same run, all sending an open load far above what they can
# send (RATE, default 40000/s) to the inference service's /health on loopback
# (its own CPUs are not pinned). Prints one line per setup: requests sent in the
# measured DURATION (default 5s) and the aggregate rate, from `runner merge`.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-40000/s}" DURATION="${DURATION:-5s}"
tmp="$(mktemp -d)"
trap 'kill $svc 2>/dev/null || true; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$tmp/runner" ./cmd/runner
CGO_ENABLED=0 go build -trimpath -o "$tmp/inference" ./cmd/inference
port=$(( 20000 + RANDOM % 20000 ))
PORT=$port INFERENCE_LOG_LEVEL=warn "$tmp/inference" >"$tmp/svc.log" 2>&1 &
svc=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
cpus=$(nproc)
run() { # NAME AGENTS PIN
	local name=$1 n=$2 pin=$3 at i files=()
	at=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S.%NZ)
	for i in $(seq "$n"); do
		files+=("$tmp/$name-$i.gob")
		if [ "$pin" = pin ]; then
			taskset -c $(( (i - 1) % cpus )) env GOMAXPROCS=1 "$tmp/runner" agent "http://127.0.0.1:$port" --path /health \
				--rate "$RATE" --share "$i/$n" --duration "$DURATION" --start "$at" --out "${files[-1]}" 2>/dev/null &
		else
			"$tmp/runner" agent "http://127.0.0.1:$port" --path /health --rate "$RATE" --share "$i/$n" \
				--duration "$DURATION" --start "$at" --out "${files[-1]}" 2>/dev/null &
		fi
	done
	wait $(jobs -p | grep -v "^$svc$") 2>/dev/null || true
	"$tmp/runner" merge "${files[@]}" | awk -v name="$name" '/^requests/ {req=$2} /^rate/ {rate=$2} END {printf "%-28s %8s requests  %12s sent\n", name, req, rate}'
}
echo "rate asked $RATE in all, $DURATION, $cpus CPUs, $(uptime | sed 's/.*load average/load average/')"
run "1 process, all CPUs" 1 free
for n in 1 2 3; do run "$n agent(s), 1 CPU each" "$n" pin; done
