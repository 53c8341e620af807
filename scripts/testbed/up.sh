#!/usr/bin/env bash
# make testbed-up N=3: a swarm of N Docker-in-Docker nodes on this machine.
#
# Node 1 is the swarm's manager and is labelled runner.role=load; nodes 2..N are
# workers labelled runner.role=sut (a single node is sut). The host's own Docker
# daemon never joins the swarm: the runner talks to node 1 through DOCKER_HOST.
# Idempotent: nodes that run are kept, missing ones are started and joined, nodes
# above N are removed. On any failure everything of the test bed is removed.
# Prints the DOCKER_HOST and the swarm.nodes entries to use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

n="${1:-${N:-3}}"
[[ "$n" =~ ^[1-9][0-9]?$ ]] || die "N=$n: want a node count from 1 to 99"
mkdir -p "$STATE_DIR"
exec 9>"$STATE_DIR/lock"
flock 9

image="$(bash "$here/node-image.sh")"
trap 'status=$?; if [ $status -ne 0 ]; then log "failed: removing the test bed"; TESTBED_LOCKED=1 bash "$here/down.sh" >&2 || true; fi' EXIT

if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
	docker network create --driver bridge --label "$LABEL=true" "$NETWORK" >/dev/null
fi

# start_node I: the node container, its data volume, its own dockerd.
start_node() {
	local name
	name="$(node_name "$1")"
	if [ "$(docker inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
		return
	fi
	docker rm -f "$name" >/dev/null 2>&1 || true
	docker volume create --label "$LABEL=true" "$name" >/dev/null
	# Everything --privileged gives but CAP_SYS_RESOURCE, which this machine's
	# bounding set lacks (so --privileged is refused): all capabilities, no
	# seccomp or AppArmor profile, writable /proc/sys, the host's cgroup tree.
	docker run --detach --name "$name" --hostname "$name" \
		--label "$LABEL=true" --label "$LABEL.node=$1" \
		--cap-add ALL --cap-drop SYS_RESOURCE \
		--security-opt seccomp=unconfined --security-opt apparmor=unconfined \
		--security-opt systempaths=unconfined \
		--cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup \
		--mount "type=volume,src=$name,dst=/var/lib/docker" \
		--network "$NETWORK" \
		--env "TESTBED_STORAGE=${TESTBED_STORAGE:-overlay2}" \
		"$image" >/dev/null
}

# wait_node I: until its dockerd answers (30 s).
wait_node() {
	local i
	for i in $(seq 150); do
		node_docker "$1" info >/dev/null 2>&1 && return
		sleep 0.2
	done
	docker logs --tail 20 "$(node_name "$1")" >&2 || true
	die "the dockerd of $(node_name "$1") did not answer within 30 s"
}

node_ip() { docker inspect --format "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$(node_name "$1")"; }
swarm_state() { node_docker "$1" info --format '{{.Swarm.LocalNodeState}}'; }

for i in $(seq "$n"); do start_node "$i"; done
for i in $(seq "$n"); do wait_node "$i"; done

# Nodes above N, from an earlier, larger test bed, go.
for c in $(docker ps -aq --filter "label=$LABEL.node"); do
	i="$(docker inspect --format "{{index .Config.Labels \"$LABEL.node\"}}" "$c")"
	if [ "$i" -gt "$n" ]; then
		node_docker 1 node rm --force "$(node_name "$i")" >/dev/null 2>&1 || true
		TESTBED_LOCKED=1 bash "$here/down.sh" --node "$i"
	fi
done

manager_ip="$(node_ip 1)"
if [ "$(swarm_state 1)" != active ]; then
	node_docker 1 swarm init --advertise-addr "$manager_ip" >/dev/null
fi
token="$(node_docker 1 swarm join-token --quiet worker)"
for i in $(seq 2 "$n"); do
	if [ "$(swarm_state "$i")" != active ]; then
		# a node restarted after a crash may still be listed, down, under its name
		node_docker 1 node rm --force "$(node_name "$i")" >/dev/null 2>&1 || true
		node_docker "$i" swarm join --token "$token" "$manager_ip:2377" >/dev/null
	fi
done
for i in $(seq "$n"); do
	role=sut
	if [ "$i" = 1 ] && [ "$n" -gt 1 ]; then role=load; fi
	node_docker 1 node update --label-add "runner.role=$role" "$(node_name "$i")" >/dev/null
done
# wait until every node is ready (30 s)
for _ in $(seq 150); do
	ready="$(node_docker 1 node ls --format '{{.Status}}' | grep -c '^Ready$' || true)"
	[ "$ready" = "$n" ] && break
	sleep 0.2
done
[ "$ready" = "$n" ] || die "$ready of $n nodes ready"

{
	echo "DOCKER_HOST=tcp://$manager_ip:2375"
	echo "swarm:"
	echo "  nodes:"
	for i in $(seq "$n"); do
		echo "    - {name: $(node_name "$i"), docker_host: tcp://$(node_ip "$i"):2375}"
	done
	printf 'RUNNER_FLAGS="'
	for i in $(seq "$n"); do
		printf '%s--swarm-node %s=tcp://%s:2375' "$([ "$i" = 1 ] || echo ' ')" "$(node_name "$i")" "$(node_ip "$i")"
	done
	echo '"'
} | tee "$STATE_DIR/env"
node_docker 1 node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' >&2
