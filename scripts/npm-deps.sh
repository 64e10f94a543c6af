#!/bin/sh
# Installs the locked npm dependencies on euca's Node.js (scripts/with-node.sh: Node 24
# LTS, or the machine's with EUCA_NODE=system), so better-sqlite3 is built for the
# runtime that will load it. `npm ci` first; if the registry mirror cannot serve rollup's
# optional packages for other platforms (they are then missing from package-lock.json
# and `npm ci` refuses the lock), fall back to `npm install`, which installs the same
# locked versions and leaves package-lock.json unchanged.
set -eu
cd "$(dirname "$0")/.."
EUCA_NO_REBUILD=1 exec ./scripts/with-node.sh sh -c 'npm ci --no-audit --no-fund || npm install --no-audit --no-fund'
