#!/bin/sh
# Runs a command on euca's Node.js: Node 24 LTS (the supported runtime), brought from the
# npm registry's `node` package into .runtime/node24 the first time (the official binary
# and its headers; Debian 12's own nodejs is 18), or with EUCA_NODE=system the `node`
# already on PATH (Node 20 or later). The runtime goes first on PATH and node-gyp is given
# its headers (it cannot download them here), and better-sqlite3, the one native addon,
# is rebuilt when node_modules holds a build for another runtime's ABI (not with
# EUCA_NO_REBUILD=1: scripts/npm-deps.sh, about to replace node_modules anyway).
#
#   ./scripts/with-node.sh npm test
#   EUCA_NODE=system ./scripts/with-node.sh npm run test:compat
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
  echo "usage: [EUCA_NODE=24|system] $0 COMMAND [ARG...]" >&2
  exit 2
fi
# node-gyp builds native addons against Node 24.18.1's headers on any Node 24 (it cannot
# fetch headers here). From 24.19.0 on, node::ObjectWrap's inline destructor removes an
# environment cleanup hook and aborts the process when an object is collected outside a JS
# context (nodejs/node#65446): better-sqlite3 12's statements did, at random, on every 24.x
# runtime. Built against 24.18.1's headers the addon runs on every 24.x (same ABI, 137).
# better-sqlite3 13 avoids it (Node-API) but does not run on Node 20.
pin_node24_headers() {
  headers="$root/.runtime/node24-headers"
  case "$(uname -m)" in aarch64) arch=arm64 ;; *) arch=x64 ;; esac
  if [ ! -d "$headers/node_modules/node-linux-$arch/include/node" ]; then
    mkdir -p "$headers"
    npm install --prefix "$headers" --no-audit --no-fund --no-save --loglevel=error "node-linux-$arch@24.18.1" >&2
  fi
  npm_config_nodedir="$headers/node_modules/node-linux-$arch"
  export npm_config_nodedir
}

case "${EUCA_NODE:-24}" in
  system)
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -lt 20 ]; then
      echo "with-node: the node on PATH is not Node 20 or later; run without EUCA_NODE=system to use Node 24" >&2
      exit 1
    fi
    if [ "$major" = 24 ]; then pin_node24_headers; fi
    ;;
  24)
    dir="$root/.runtime/node24"
    if [ ! -x "$dir/node_modules/node/bin/node" ]; then
      echo "with-node: bringing Node.js 24 LTS into $dir (npm registry, package node@24)" >&2
      mkdir -p "$dir"
      npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error node@24 >&2
    fi
    PATH="$dir/node_modules/node/bin:$PATH"
    export PATH
    pin_node24_headers
    ;;
  *)
    echo "with-node: EUCA_NODE is 24 or system, not ${EUCA_NODE}" >&2
    exit 2
    ;;
esac
# Rebuilt when it does not load on this runtime, or (Node 24) was built against other headers.
addon="$root/node_modules/better-sqlite3"
if [ -z "${EUCA_NO_REBUILD:-}" ] && [ -d "$addon" ] &&
  { ! (cd "$root" && node -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null) ||
    { [ -n "${npm_config_nodedir:-}" ] && ! grep -qF "\"nodedir\": \"$npm_config_nodedir\"" "$addon/build/config.gypi" 2>/dev/null; }; }; then
  echo "with-node: building better-sqlite3 for Node $(node -v)" >&2
  (cd "$root" && npm rebuild better-sqlite3 --loglevel=error >&2)
fi
echo "with-node: Node $(node -v) ($(command -v node))" >&2
exec "$@"
