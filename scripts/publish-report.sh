#!/usr/bin/env bash
# Copies the report of a run directory (Markdown, HTML, CSV, JSON summary, plots; not the
# raw results) into a folder under reports/, where it is committed.
#   scripts/publish-report.sh runs/workshop5-YYYYMMDDTHHMMSSZ reports/workshop5
set -euo pipefail
run=${1:?usage: publish-report.sh RUN_DIR DEST}
dest=${2:?usage: publish-report.sh RUN_DIR DEST}
[ -f "$run/report.md" ] || { echo "$run has no report.md: not a finished run directory" >&2; exit 2; }
rm -rf "$dest"
mkdir -p "$dest"
cp "$run"/report.md "$run"/report.html "$run"/results.csv "$run"/summary.json "$run"/run.json "$run"/plan.json "$dest"/
[ -d "$run/plots" ] && cp -r "$run/plots" "$dest"/
for d in "$run"/scenarios/*/; do
  id=$(basename "$d")
  mkdir -p "$dest/scenarios/$id"
  cp "$d"*.png "$d"outcome.json "$dest/scenarios/$id/" 2>/dev/null || true
  [ -f "$d/compose.yml" ] && cp "$d/compose.yml" "$dest/scenarios/$id/"
done
echo "published $run to $dest ($(du -sh "$dest" | cut -f1))"
