# Shared settings and helpers of scripts/services.sh (sourced, not run). Needs REPO_ROOT.
# shellcheck shell=bash disable=SC2034  # variables here are read by the other files of scripts/services.sh

TOT_DATA_DIR="${TOT_DATA_DIR:-$REPO_ROOT/.data}"
mkdir -p "$TOT_DATA_DIR"
TOT_DATA_DIR="$(cd "$TOT_DATA_DIR" && pwd)"
TOT_PG_PORT="${TOT_PG_PORT:-25432}"
TOT_REDIS_PORT="${TOT_REDIS_PORT:-26379}"
TOT_KAFKA_PORT="${TOT_KAFKA_PORT:-29092}"
TOT_KAFKA_CONTROLLER_PORT="${TOT_KAFKA_CONTROLLER_PORT:-29093}"
TOT_SERVICES_TIMEOUT="${TOT_SERVICES_TIMEOUT:-180}"
TOT_CACHE_DIR="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tot-dispatch"
SERVICES_LOG_DIR="$TOT_DATA_DIR/logs"
mkdir -p "$SERVICES_LOG_DIR"

for port_var in TOT_PG_PORT TOT_REDIS_PORT TOT_KAFKA_PORT TOT_KAFKA_CONTROLLER_PORT TOT_SERVICES_TIMEOUT; do
  [[ "${!port_var}" =~ ^[0-9]+$ ]] || { echo "services: $port_var must be a number, got '${!port_var}'" >&2; exit 2; }
done
unset port_var

# How each service came up in this run ("started", "already running", ...), for the summary.
declare -gA START_KIND=()

say() { printf '[services] %s\n' "$*"; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

now() { date +%s.%N; }
seconds_since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }

# contains NEEDLE ITEM... — whether NEEDLE is one of the items.
contains() {
  local needle="$1" item
  shift
  for item in "$@"; do [[ "$item" == "$needle" ]] && return 0; done
  return 1
}

# Serialises concurrent `up`/`down` runs (two test runs starting at once). The lock fd is 9; every command that may leave
# a daemon behind is run with `9>&-` so the daemon does not inherit (and hold) the lock.
acquire_lock() {
  exec 9>"$TOT_DATA_DIR/.services.lock"
  if ! flock -w 900 9; then die "another scripts/services.sh holds $TOT_DATA_DIR/.services.lock for more than 900s"; fi
}

# Whether something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fails if PORT is already taken (by something that is not ours, since ours was found not running).
require_port_free() {
  local name="$1" port="$2" env_var="$3"
  if port_open "$port"; then
    die "$name: port $port on 127.0.0.1 is already in use by another process; stop it or choose another port with $env_var"
  fi
}

# The pid in FILE if that process is alive, else nothing (and status 1).
live_pid() {
  local file="$1" pid
  [[ -s "$file" ]] || return 1
  pid="$(head -n1 "$file" | tr -dc '0-9')"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Prints the last lines of a log file, for error messages.
log_tail() {
  local file="$1"
  if [[ -s "$file" ]]; then
    echo "----- last lines of $file -----" >&2
    tail -n 40 "$file" >&2 || true
    echo "-----" >&2
  else
    echo "(nothing logged in $file)" >&2
  fi
}

# wait_ready NAME READY_FN ALIVE_FN LOG... — polls READY_FN until it succeeds, for at most TOT_SERVICES_TIMEOUT seconds.
# Fails at once, with the tails of the logs, if ALIVE_FN says the process died.
wait_ready() {
  local name="$1" ready_fn="$2" alive_fn="$3"
  shift 3
  local deadline=$((SECONDS + TOT_SERVICES_TIMEOUT)) log
  while true; do
    if "$ready_fn"; then return 0; fi
    if ! "$alive_fn"; then
      for log in "$@"; do log_tail "$log"; done
      die "$name exited while starting (logs: $*)"
    fi
    if ((SECONDS >= deadline)); then
      for log in "$@"; do log_tail "$log"; done
      die "$name did not answer within ${TOT_SERVICES_TIMEOUT}s (logs: $*; raise TOT_SERVICES_TIMEOUT if the machine is slow)"
    fi
    sleep 0.5
  done
}

# stop_pid NAME PIDFILE GRACE — SIGTERM, wait up to GRACE seconds, then SIGKILL. Removes the pid file.
stop_pid() {
  local name="$1" file="$2" grace="$3" pid
  if ! pid="$(live_pid "$file")"; then
    say "$name: not running"
    rm -f "$file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" "$grace" || {
    say "$name: pid $pid still alive after ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "$name: pid $pid survived SIGKILL"
  }
  rm -f "$file"
  say "$name: stopped (pid $pid)"
}

# wait_gone PID SECONDS — whether the process ended within the time.
wait_gone() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Runs a command as root: directly when we are root, else through sudo without a password prompt.
as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $* (run as root, or install it yourself)"
  fi
}

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
package_known() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }

# Installs the Debian packages that are missing, in one apt-get call; runs `apt-get update` first only if one of them
# is unknown to the package lists, or once more if the install fails on stale lists.
apt_install() {
  local missing=() package
  for package in "$@"; do
    if ! package_installed "$package" && ! contains "$package" "${missing[@]}"; then missing+=("$package"); fi
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0

  local log="$SERVICES_LOG_DIR/apt.log" updated=0
  say "installing Debian packages: ${missing[*]} (log: $log)"
  for package in "${missing[@]}"; do
    if ! package_known "$package"; then
      as_root apt-get update -q >>"$log" 2>&1 9>&- || { log_tail "$log"; die "apt-get update failed"; }
      updated=1
      break
    fi
  done
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}")
  if ! as_root "${install[@]}" >>"$log" 2>&1 </dev/null 9>&-; then
    if ((updated)); then log_tail "$log"; die "apt-get install ${missing[*]} failed"; fi
    as_root apt-get update -q >>"$log" 2>&1 9>&- || { log_tail "$log"; die "apt-get update failed"; }
    as_root "${install[@]}" >>"$log" 2>&1 </dev/null 9>&- || { log_tail "$log"; die "apt-get install ${missing[*]} failed"; }
  fi
}

# Writes services.env with the URLs of all three services (they follow from the ports, whichever were started).
write_env_file() {
  local file="$TOT_DATA_DIR/services.env"
  cat >"$file.tmp" <<EOF
# Written by scripts/services.sh up; read by tests/integration/global-setup.ts.
KAFKA_BROKERS=127.0.0.1:$TOT_KAFKA_PORT
DATABASE_URL=postgres://tot:tot@127.0.0.1:$TOT_PG_PORT/tot
REDIS_URL=redis://127.0.0.1:$TOT_REDIS_PORT
EOF
  mv "$file.tmp" "$file"
}
