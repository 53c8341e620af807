#!/usr/bin/env bash
# make testbed-test: the test bed's own test. Up with 3 nodes (twice: idempotent),
# a probe service placed on the sut nodes with CPU and memory limits (seen through
# each node's Docker API and in the host's cgroup tree), its host-mode ports
# reached from the host, one task reaching another across nodes over an overlay
# network; then down, with nothing of the test bed left and the host's daemon in
# the swarm state it was in before.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
repo="$(cd "$here/../.." && pwd)"

pass=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
fail() { echo "FAIL $*"; echo "$pass passed, 1 failed"; exit 1; }

host_swarm="$(docker info --format '{{.Swarm.LocalNodeState}}')"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"; bash "$here/down.sh" >/dev/null 2>&1 || true' EXIT

bash "$here/up.sh" 3 >"$tmp/env1" || fail "testbed-up N=3"
bash "$here/up.sh" 3 >"$tmp/env2" || fail "testbed-up N=3, again"
cmp -s "$tmp/env1" "$tmp/env2" || fail "a second testbed-up printed other addresses"
ok "up N=3, twice: the same DOCKER_HOST and swarm.nodes"
cat "$tmp/env1"
mgr="$(sed -n 's/^DOCKER_HOST=//p' "$tmp/env1")"
mapfile -t hosts < <(sed -n 's/.*docker_host: \(tcp:[^}]*\)}.*/\1/p' "$tmp/env1")
[ "${#hosts[@]}" = 3 ] || fail "want 3 swarm.nodes entries, got ${#hosts[@]}"
d() { docker -H "$mgr" "$@"; }

got="$(d node ls --format '{{.Hostname}} {{.Status}}' | sort | tr '\n' ' ')"
[ "$got" = "runner-testbed-1 Ready runner-testbed-2 Ready runner-testbed-3 Ready " ] || fail "nodes: $got"
roles="$(for i in 1 2 3; do d node inspect --format '{{index .Spec.Labels "runner.role"}}' "$(node_name $i)"; done | tr '\n' ' ')"
[ "$roles" = "load sut sut " ] || fail "runner.role labels: $roles"
[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = "$host_swarm" ] || fail "the host's daemon changed its swarm state"
ok "3 nodes ready, labelled load sut sut; the host's daemon stayed $host_swarm"

# The probe image: the inference service FROM scratch, imported on every node.
CGO_ENABLED=0 go build -C "$repo" -trimpath -o "$tmp/rootfs/inference" ./cmd/inference
for h in "${hosts[@]}"; do
	tar -C "$tmp/rootfs" -c . | docker -H "$h" import --change 'ENTRYPOINT ["/inference"]' \
		--change "LABEL $LABEL=true" - runner-testbed-probe:latest >/dev/null
done
d network create --driver overlay --attachable --label "$LABEL=true" probe >/dev/null
d service create --detach --name probe --label "$LABEL=true" --replicas 2 \
	--constraint 'node.labels.runner.role==sut' --placement-pref 'spread=node.id' \
	--limit-memory 64M --limit-cpu 0.5 --network probe --env PORT=8000 \
	--publish mode=host,target=8000 --no-resolve-image runner-testbed-probe:latest >/dev/null
for _ in $(seq 150); do
	[ "$(d service ps probe --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running')" = 2 ] && break
	sleep 0.2
done
mapfile -t tasks < <(d service ps probe --filter desired-state=running --format '{{.Node}}' | sort)
[ "${tasks[*]}" = "runner-testbed-2 runner-testbed-3" ] || fail "probe tasks on: ${tasks[*]} (want one on each sut node)"
ok "2 probe tasks running, one on each sut node"

declare -a ips
for node in "${tasks[@]}"; do
	i="${node##*-}"
	h="${hosts[$((i - 1))]}"
	cid="$(docker -H "$h" ps -q --no-trunc --filter label=com.docker.swarm.service.name=probe)"
	lim="$(docker -H "$h" inspect --format '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' "$cid")"
	[ "$lim" = "67108864 500000000" ] || fail "$node: probe limits $lim"
	cg="$(cat /sys/fs/cgroup/memory/runner-testbed/"$node"/"$cid"/memory.limit_in_bytes 2>/dev/null ||
		cat /sys/fs/cgroup/runner-testbed/"$node"/"$cid"/memory.max)"
	[ "$cg" = 67108864 ] || fail "$node: the kernel's memory limit of the probe is $cg"
	port="$(docker -H "$h" port "$cid" 8000/tcp | sed -n 's/^0\.0\.0\.0:\([0-9]*\)$/\1/p')"
	addr="${h#tcp://}"
	code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://${addr%:*}:$port/health")"
	[ "$code" = 200 ] || fail "$node: GET /health on its host port $port: $code"
	ips+=("$(docker -H "$h" inspect --format '{{(index .NetworkSettings.Networks "probe").IPAddress}}' "$cid")")
	pids+=("$(docker -H "$h" inspect --format '{{.State.Pid}}' "$cid")")
	ok "$node: limits 64M and 0.5 CPU in its API and in the host's cgroup; host port $port answers"
done

# Overlay across nodes: from the task on node 2, GET /health of the task on node 3
# at its overlay address (bash's /dev/tcp in the task's network namespace).
reply="$(docker exec "$(node_name 2)" nsenter -t "${pids[0]}" -n timeout 5 bash -c \
	"exec 3<>/dev/tcp/${ips[1]}/8000; printf 'GET /health HTTP/1.0\r\n\r\n' >&3; head -1 <&3")" || true
case "$reply" in
*" 200 "*) ok "overlay across nodes: the task on node 2 reached the task on node 3 at ${ips[1]}" ;;
*) fail "overlay across nodes: no answer from ${ips[1]} ($reply)" ;;
esac

bash "$here/down.sh" >/dev/null
left="$(docker ps -aq --filter "label=$LABEL"; docker volume ls -q --filter "label=$LABEL"; docker network ls -q --filter "label=$LABEL")"
[ -z "$left" ] || fail "left after down: $left"
ls -d /sys/fs/cgroup/*/runner-testbed /sys/fs/cgroup/runner-testbed 2>/dev/null && fail "cgroups left after down"
[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = "$host_swarm" ] || fail "the host's daemon changed its swarm state"
ok "down: no container, volume, network or cgroup of the test bed left; the host's daemon is $host_swarm"
echo "$pass passed, 0 failed"
