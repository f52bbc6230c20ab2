#!/usr/bin/env bash
# Stages the root filesystem (scripts/stage-image.sh) and builds the Containerfile with buildah, without any
# registry. The last line of stdout is the image reference.
#   scripts/run image                      -> <chart image.repository>:<chart appVersion>, as the chart pulls it
#   scripts/run image --tag REF            -> another reference (tests use a throwaway one)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/scripts/node24.sh"
cd "$here"
ref=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) ref="$2"; shift 2 ;;
    --tag=*) ref="${1#--tag=}"; shift ;;
    *) echo "usage: scripts/run image [--tag REF]" >&2; exit 2 ;;
  esac
done
if ! command -v buildah > /dev/null; then
  echo "build-image: buildah is not installed (Debian/Ubuntu: apt-get install -y buildah)" >&2
  exit 1
fi
# The chart's default image (values.yaml image.repository, Chart.yaml appVersion), so helm install finds it.
[ -n "$ref" ] || ref="$(node scripts/chart-image.ts)"
scripts/stage-image.sh "$here/.image"
previous="$(buildah images --quiet --noheading "$ref" 2> /dev/null || true)"
# --layers=false: one layer, no intermediate images left behind. Output goes to stderr; stdout is the reference.
buildah bud --layers=false --quiet -f Containerfile -t "$ref" . >&2
# A rebuild moves the tag; the image it came from would stay behind untagged.
if [ -n "$previous" ] && [ "$previous" != "$(buildah images --quiet --noheading "$ref")" ]; then
  buildah rmi "$previous" > /dev/null 2>&1 || true
fi
size="$(buildah images --noheading --format '{{.Size}}' "$ref")"
echo "build-image: built $ref ($size uncompressed)" >&2
echo "$ref"
