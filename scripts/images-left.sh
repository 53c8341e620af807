#!/bin/sh
# Fails when images carrying the label $1 (KEY=VALUE) remain: make test and make
# faults set RUNNER_IMAGE_LABEL to a label of their own, which every image the
# runner builds (and every test build) carries, so images other test runs and
# jobs on a shared daemon own are not counted.
set -eu
label=${1:?usage: images-left.sh KEY=VALUE}
if ! docker version >/dev/null 2>&1; then
  echo "images: no Docker daemon answers; nothing to check"
  exit 0
fi
left=$(docker image ls -a --filter "label=$label" --format '{{.ID}} {{.Repository}}:{{.Tag}}')
if [ -n "$left" ]; then
  echo "images left behind (label $label):"
  echo "$left"
  exit 1
fi
echo "images: none left behind (label $label)"
