#!/usr/bin/env bash
# make testbed-down: remove the test bed, found by its label only: the nodes (and
# first everything running on them), their data volumes, their network, and the
# cgroups their containers left. `--node I` removes node I only. `--image` also
# removes the cached node image. Idempotent: nothing there, nothing done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

only="" image=""
while [ $# -gt 0 ]; do
	case "$1" in
	--node) only="$2"; shift 2 ;;
	--image) image=1; shift ;;
	*) die "usage: down.sh [--node I] [--image]" ;;
	esac
done
if [ -z "${TESTBED_LOCKED:-}" ]; then
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/lock"
	flock 9
fi

filter=(--filter "label=$LABEL")
[ -n "$only" ] && filter=(--filter "label=$LABEL.node=$only")
for c in $(docker ps -aq "${filter[@]}"); do
	# The node's own containers first, so that its dockerd removes their
	# cgroups, which live in the host's tree, before the node goes.
	if [ "$(docker inspect --format '{{.State.Running}}' "$c")" = true ]; then
		docker exec "$c" sh -c 'ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f $ids' >/dev/null 2>&1 || true
	fi
	name="$(docker inspect --format '{{.Name}}' "$c")"
	docker rm -f --volumes "$c" >/dev/null
	# A node killed with containers still running leaves their empty cgroups.
	for d in /sys/fs/cgroup/*/runner-testbed/"${name#/}" /sys/fs/cgroup/runner-testbed/"${name#/}"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
done
if [ -n "$only" ]; then
	docker volume rm "$(node_name "$only")" >/dev/null 2>&1 || true
	exit 0
fi
for v in $(docker volume ls -q --filter "label=$LABEL"); do docker volume rm "$v" >/dev/null; done
for nw in $(docker network ls -q --filter "label=$LABEL"); do docker network rm "$nw" >/dev/null; done
for d in /sys/fs/cgroup/*/runner-testbed /sys/fs/cgroup/runner-testbed; do
	[ -d "$d" ] && { find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
done
if [ -n "$image" ]; then
	for i in $(docker images -q --filter "label=$LABEL" | sort -u); do docker rmi -f "$i" >/dev/null; done
fi
rm -f "$STATE_DIR/env"
log "down: nothing of the test bed is left"
