#!/usr/bin/env bash
# Benchmarks the load engine (runner/load) on loopback against the vegeta CLI,
# wrk and hey, all hitting the same tiny Go server; see runner/load/bench.
#
#   scripts/bench-load.sh [report flags...]     e.g. -runs 5 -duration 20s
#
# Environment: OUT (report directory, default a new temp dir), RUNS (default 3).
# Builds into a temp dir; installs the vegeta CLI v12.13.0 there (GOBIN), never
# into the source tree. wrk and hey come from Debian (apt-get install -y wrk hey)
# and are skipped when missing; the goals against wrk need wrk. The server is
# pinned to CPU 1 and every generator to CPU 0 with taskset.
set -euo pipefail

cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-load.XXXXXX")
out=${OUT:-$tmp/out}
mkdir -p "$out"

echo "building into $tmp" >&2
CGO_ENABLED=0 go build -trimpath -o "$tmp/bench" ./runner/load/bench
GOBIN="$tmp/bin" go install github.com/tsenart/vegeta/v12@v12.13.0

if [ "$(nproc)" -lt 2 ]; then
	echo "warning: fewer than 2 CPUs; server and generators will share a core" >&2
	set -- -cpu-server 0 "$@"
fi
exec "$tmp/bench" report -vegeta "$tmp/bin/vegeta" -runs "${RUNS:-3}" -out "$out" "$@"
