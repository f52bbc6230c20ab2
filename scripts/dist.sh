# Sourced after scripts/node24.sh: nodeqos_cli prints the path of the compiled CLI (dist/cli/main.js), building it
# first (npm run build) when it is missing or older than any source. Users run compiled JavaScript: it starts in
# about half the time of type stripping. NODEQOS_FROM_SOURCE=1 prints src/cli/main.ts instead (development).
nodeqos_cli() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ "${NODEQOS_FROM_SOURCE:-}" = "1" ]; then
    echo "$root/src/cli/main.ts"
    return
  fi
  local stamp="$root/dist/.built"
  if [ ! -f "$stamp" ] || [ -n "$(find "$root/src" "$root/tsconfig.json" "$root/tsconfig.build.json" \
    "$root/package-lock.json" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    mkdir -p "$root/.tools"
    (
      # One build at a time; a second caller waits, then finds it fresh.
      flock 9
      if [ ! -f "$stamp" ] || [ -n "$(find "$root/src" "$root/tsconfig.json" "$root/tsconfig.build.json" \
        "$root/package-lock.json" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
        echo "nodeqos: compiling the CLI into dist/ (npm run build)" >&2
        rm -rf "$root/dist"
        # Only a successful build is marked fresh; a failed one leaves no stamp, so the next call tries again.
        if ! (cd "$root" && npm run --silent build >&2); then
          echo "nodeqos: the build failed (above); NODEQOS_FROM_SOURCE=1 runs the sources" >&2
          exit 1
        fi
        touch "$stamp"
      fi
    ) 9>"$root/.tools/dist.lock" || return 1
  fi
  echo "$root/dist/cli/main.js"
}
