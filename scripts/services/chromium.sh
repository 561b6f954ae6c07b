#!/usr/bin/env bash
# Headless Chromium for the end-to-end tests (tests/e2e): installs Debian's `chromium` package when no browser is
# found, then prints the executable's path as the last line (`CHROMIUM=/usr/bin/chromium`). Not a service: nothing
# runs afterwards; playwright-core starts the browser per test file.
#
#   bash scripts/services/chromium.sh
#
# Environment: TOT_CHROMIUM (an executable to use instead; nothing is installed), TOT_DATA_DIR (see services.sh).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

CHROMIUM_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CHROMIUM_SCRIPT_DIR/../.." && pwd)"

# shellcheck source=common.sh
source "$CHROMIUM_SCRIPT_DIR/common.sh"

chromium_packages() { printf '%s\n' chromium fonts-liberation; }

# The first Chromium executable on this machine, or nothing (status 1).
chromium_executable() {
  local candidate
  if [[ -n "${TOT_CHROMIUM:-}" ]]; then
    [[ -x "$TOT_CHROMIUM" ]] || die "chromium: TOT_CHROMIUM=$TOT_CHROMIUM is not an executable"
    echo "$TOT_CHROMIUM"
    return 0
  fi
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

main() {
  local executable started
  if ! executable="$(chromium_executable)"; then
    started="$(now)"
    # The same lock as scripts/services.sh: two apt-get runs at once would fail on dpkg's own lock.
    acquire_lock
    local packages=()
    mapfile -t packages < <(chromium_packages)
    apt_install "${packages[@]}"
    executable="$(chromium_executable)" || die "chromium: installed ${packages[*]} but no chromium executable is on PATH"
    say "chromium: installed in $(seconds_since "$started")s"
  fi
  say "chromium: $("$executable" --version 2>/dev/null | head -n1)"
  echo "CHROMIUM=$executable"
}

main "$@"
