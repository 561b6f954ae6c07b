#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json. Safe to run often.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "==> installing npm dependencies"
  # `npm ci` installs exactly the lock. Some npm configurations write locks without the other platforms' optional
  # packages (rollup, msgpackr-extract), which `npm ci` then calls out of sync; `npm install` honours the locked
  # versions all the same.
  if ! npm ci --no-audit --no-fund; then
    echo "==> npm ci refused the lock file; installing with npm install (locked versions kept)"
    npm install --no-audit --no-fund
  fi
fi
