# Shared names and helpers of the test bed scripts (sourced, not run).
# Everything the test bed creates carries the label $LABEL=true, and is found and
# removed by that label only.
LABEL=dev.infergrid.runner.testbed
PREFIX=runner-testbed
NETWORK=$PREFIX
STATE_DIR="${TESTBED_STATE:-/tmp/runner-testbed}"
here="${here:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: $*" >&2; exit 1; }

# recipe_hash: what the node image is made of; a change to either file rebuilds it.
recipe_hash() { cat "$here/node-image.sh" "$here/node-entrypoint.sh" | sha256sum | cut -c1-12; }
node_image_tag() { echo "$PREFIX-node:$(recipe_hash)"; }

# apt_mirror: the Debian mirror this host's apt uses (debootstrap needs one).
apt_mirror() {
	local m
	m="$(grep -hsoE '^(URIs: |deb )https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null |
		grep -v security | head -1 | sed -E 's/^(URIs: |deb )//; s/ *$//')"
	echo "${m:-http://deb.debian.org/debian}"
}

node_name() { echo "$PREFIX-$1"; }
# node_docker NODE ARGS...: the docker CLI talking to that node's own daemon.
node_docker() { local n="$1"; shift; docker exec "$(node_name "$n")" docker "$@"; }
