#!/usr/bin/env bash
# The whole test suite: typecheck, lint, unit tests, then integration tests against the real Kafka, PostgreSQL with
# PostGIS and Redis, which scripts/services.sh installs and starts when they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."

phase() {
  local name=$1
  shift
  local started=$SECONDS
  echo "==> ${name}"
  "$@"
  echo "==> ${name}: $((SECONDS - started)) s"
}

phase "dependencies" bash scripts/ensure-deps.sh
phase "typecheck" npx tsc -p tsconfig.json --noEmit
phase "typecheck web" npx tsc -p web/tsconfig.json --noEmit
phase "lint" npx eslint .
phase "services" bash scripts/services.sh up
results=.data/test-results
mkdir -p "$results"
phase "unit tests" npx vitest run --project unit --coverage \
  --reporter=default --reporter=json --outputFile.json="$results/unit.json"
# Integration files share the real services and spawn engines: one file at a time. The global setup reuses the
# services started above.
phase "integration tests" npx vitest run --project integration --no-file-parallelism \
  --reporter=default --reporter=json --outputFile.json="$results/integration.json"
# The web pages in headless Chromium (scripts/services/chromium.sh installs it when missing), each file with its own
# embedded engine.
phase "e2e tests" npx vitest run --project e2e --no-file-parallelism \
  --reporter=default --reporter=json --outputFile.json="$results/e2e.json"

# One plain closing line over all projects.
node -e '
  const files = process.argv.slice(1).map((file) => JSON.parse(require("node:fs").readFileSync(file, "utf8")));
  const sum = (key) => files.reduce((total, result) => total + result[key], 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
' "$results/unit.json" "$results/integration.json" "$results/e2e.json"
