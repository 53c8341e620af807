#!/usr/bin/env bash
# Build the test bed's node image: a Debian 12 root filesystem made by debootstrap
# with Debian's docker.io inside, imported with `docker import` (nothing is pulled).
# The image is tagged with a hash of its recipe (this file and node-entrypoint.sh),
# so it is built once and rebuilt only when the recipe changes. Prints the tag.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

tag="$(node_image_tag)"
if docker image inspect "$tag" >/dev/null 2>&1; then
	echo "$tag"
	exit 0
fi

command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
mirror="${TESTBED_MIRROR:-$(apt_mirror)}"
root="$(mktemp -d /var/tmp/runner-testbed-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
log "building $tag from Debian bookworm ($mirror), a few minutes once"
# docker.io brings containerd, runc and tini; iptables and iproute2 are what
# dockerd needs for its bridge and the swarm's networks.
debootstrap --variant=minbase \
	--include=docker.io,iptables,iproute2,procps,ca-certificates \
	bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
	tail -20 "$root.log" >&2
	rm -f "$root.log"
	die "debootstrap failed"
}
rm -f "$root.log"
install -m 0755 "$here/node-entrypoint.sh" "$root/usr/local/bin/node-entrypoint"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
	--change "LABEL $LABEL=true" \
	--change "LABEL $LABEL.recipe=$(recipe_hash)" \
	--change 'ENTRYPOINT ["/usr/local/bin/node-entrypoint"]' \
	--change 'VOLUME ["/var/lib/docker"]' \
	- "$tag" >/dev/null
echo "$tag"
