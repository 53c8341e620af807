#!/bin/sh
# The test bed node's init: start its own dockerd on the Unix socket and on TCP
# 2375 (reachable only on the test bed's bridge network and the host's loopback),
# with the storage driver TESTBED_STORAGE (vfs by default: it works nested on any
# backing filesystem; overlay2 where the kernel lets a container mount overlays).
set -e
# containers of this node go under their own cgroup parent, apart from the host's.
exec dockerd \
	--host unix:///var/run/docker.sock --host tcp://0.0.0.0:2375 \
	--storage-driver "${TESTBED_STORAGE:-vfs}" \
	--cgroup-parent "/runner-testbed/$(hostname)" \
	--mtu "${TESTBED_MTU:-1400}" \
	--tls=false \
	--log-level warn
