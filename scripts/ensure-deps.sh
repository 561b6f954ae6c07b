#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json. Safe to run often.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "==> installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
