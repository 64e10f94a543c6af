#!/bin/sh
# Installs the locked npm dependencies. `npm ci` first; if the registry mirror cannot
# serve rollup's optional packages for other platforms (they are then missing from
# package-lock.json and `npm ci` refuses the lock), fall back to `npm install`, which
# installs the same locked versions and leaves package-lock.json unchanged.
set -eu
npm ci --no-audit --no-fund || npm install --no-audit --no-fund
