#!/usr/bin/env bash
# Starts, stops and reports the project's own PostgreSQL+PostGIS, Redis and Kafka (KRaft) instances, natively, without
# Docker. See docs/SERVICES.md.
#
#   bash scripts/services.sh up     [postgres|redis|kafka ...]   install what is missing, start, wait until each answers
#   bash scripts/services.sh down   [postgres|redis|kafka ...]   stop what `up` started (pid files in the data dir)
#   bash scripts/services.sh status [postgres|redis|kafka ...]   what runs where; exit 3 if one of them is not running
#
# With no service named, all three. Environment: TOT_DATA_DIR (default .data/ in the repository), TOT_PG_PORT (25432),
# TOT_REDIS_PORT (26379), TOT_KAFKA_PORT (29092), TOT_KAFKA_CONTROLLER_PORT (29093), TOT_KAFKA_VERSION,
# TOT_SERVICES_TIMEOUT (seconds each service may take to answer, default 180).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SERVICES_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SERVICES_SCRIPT_DIR/.." && pwd)"

# shellcheck source=services/common.sh
source "$SERVICES_SCRIPT_DIR/services/common.sh"
# shellcheck source=services/postgres.sh
source "$SERVICES_SCRIPT_DIR/services/postgres.sh"
# shellcheck source=services/redis.sh
source "$SERVICES_SCRIPT_DIR/services/redis.sh"
# shellcheck source=services/kafka.sh
source "$SERVICES_SCRIPT_DIR/services/kafka.sh"

readonly ALL_SERVICES=(postgres redis kafka)

usage() {
  echo "usage: bash scripts/services.sh up|down|status [postgres|redis|kafka ...]" >&2
  exit 2
}

# Starts the requested services. Kafka is launched first because its JVM takes longest to answer; PostgreSQL and Redis
# start while it boots, then each is waited for in turn.
cmd_up() {
  local wall_start svc
  wall_start="$(now)"
  acquire_lock

  local packages=()
  for svc in "$@"; do
    mapfile -t -O "${#packages[@]}" packages < <("${svc}_packages")
  done
  local install_start fetch_start
  install_start="$(now)"
  apt_install "${packages[@]}"
  INSTALL_SECONDS="$(seconds_since "$install_start")"
  fetch_start="$(now)"
  for svc in "$@"; do
    if [[ "$(type -t "${svc}_fetch")" == function ]]; then "${svc}_fetch"; fi
  done
  FETCH_SECONDS="$(seconds_since "$fetch_start")"

  declare -gA STARTED_AT=()
  for svc in kafka postgres redis; do
    if contains "$svc" "$@"; then
      STARTED_AT[$svc]="$(now)"
      "${svc}_start"
    fi
  done
  # Quickest first, so each started service's time is launch-to-answer, not time spent waiting for another.
  declare -gA TOOK=()
  local wait_start
  for svc in redis postgres kafka; do
    contains "$svc" "$@" || continue
    wait_start="$(now)"
    "${svc}_wait"
    if [[ "${START_KIND[$svc]}" == "already running" ]]; then
      TOOK[$svc]="$(seconds_since "$wait_start")"
    else
      TOOK[$svc]="$(seconds_since "${STARTED_AT[$svc]}")"
    fi
  done

  write_env_file
  say "install: Debian packages ${INSTALL_SECONDS}s, binaries and Kafka jars ${FETCH_SECONDS}s"
  for svc in "$@"; do
    say "$(printf '%-9s %-19s ready in %5ss' "$svc" "(${START_KIND[$svc]:-started})" "${TOOK[$svc]}")"
  done
  say "all up in $(seconds_since "$wall_start")s; environment in $TOT_DATA_DIR/services.env"
}

cmd_down() {
  acquire_lock
  local svc
  # Reverse order of dependence does not matter here; stop Kafka first because it takes longest.
  for svc in kafka redis postgres; do
    if contains "$svc" "$@"; then "${svc}_stop"; fi
  done
}

cmd_status() {
  local svc code=0
  printf '%-9s %-8s %-8s %-12s %s\n' SERVICE STATE PID PORT URL
  for svc in "$@"; do
    "${svc}_status" || code=3
  done
  if [[ -f "$TOT_DATA_DIR/services.env" ]]; then
    echo "environment file: $TOT_DATA_DIR/services.env"
  fi
  return "$code"
}

main() {
  [[ $# -ge 1 ]] || usage
  local command="$1"
  shift
  local services=() svc
  for svc in "$@"; do
    contains "$svc" "${ALL_SERVICES[@]}" || die "unknown service '$svc' (expected one of: ${ALL_SERVICES[*]})"
    contains "$svc" "${services[@]}" || services+=("$svc")
  done
  if [[ ${#services[@]} -eq 0 ]]; then services=("${ALL_SERVICES[@]}"); fi
  case "$command" in
    up) cmd_up "${services[@]}" ;;
    down) cmd_down "${services[@]}" ;;
    status) cmd_status "${services[@]}" ;;
    *) usage ;;
  esac
}

main "$@"
