# Redis for scripts/services.sh (sourced, not run): our own redis-server, never the Debian default instance.
# shellcheck shell=bash disable=SC2034  # variables here are read by the other files of scripts/services.sh

REDIS_DIR="$TOT_DATA_DIR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_packages() { printf '%s\n' redis-server redis-tools; }

redis_pid() { live_pid "$REDIS_PIDFILE"; }
redis_alive() { redis_pid >/dev/null; }

redis_ready() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$TOT_REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_start() {
  if redis_alive; then
    local running_port
    running_port="$(awk '$1 == "port" { print $2 }' "$REDIS_CONF" 2>/dev/null)"
    if [[ "$running_port" != "$TOT_REDIS_PORT" ]]; then
      die "redis: already running on port ${running_port:-?}, not TOT_REDIS_PORT=$TOT_REDIS_PORT; run 'down redis' first"
    fi
    START_KIND["redis"]="already running"
    return 0
  fi
  START_KIND["redis"]="started"
  require_port_free redis "$TOT_REDIS_PORT" TOT_REDIS_PORT
  mkdir -p "$REDIS_DIR"
  rm -f "$REDIS_PIDFILE"
  cat >"$REDIS_CONF" <<EOF
# Written by scripts/services.sh on every start.
port $TOT_REDIS_PORT
bind 127.0.0.1
protected-mode yes
daemonize yes
pidfile $REDIS_PIDFILE
logfile $REDIS_LOG
dir $REDIS_DIR
dbfilename dump.rdb
appendonly no
save 300 1
maxmemory 512mb
maxmemory-policy noeviction
EOF
  say "redis: starting on 127.0.0.1:$TOT_REDIS_PORT (log: $REDIS_LOG)"
  redis-server "$REDIS_CONF" </dev/null >>"$REDIS_LOG" 2>&1 9>&- ||
    { log_tail "$REDIS_LOG"; die "redis: redis-server failed to start"; }
}

# daemonize writes the pid file shortly after the fork; until then "alive" means "the pid file is still coming".
redis_alive_or_starting() { redis_alive || [[ ! -s "$REDIS_PIDFILE" ]]; }

redis_wait() {
  if redis_ready && redis_alive; then return 0; fi
  wait_ready redis redis_ready redis_alive_or_starting "$REDIS_LOG"
  redis_alive || die "redis: answers on port $TOT_REDIS_PORT but $REDIS_PIDFILE names no live process"
}

redis_stop() {
  local pid
  if ! pid="$(redis_pid)"; then
    say "redis: not running"
    rm -f "$REDIS_PIDFILE"
    return 0
  fi
  # SHUTDOWN saves the dataset first; the connection closes without a reply, hence `|| true`.
  redis-cli -h 127.0.0.1 -p "$TOT_REDIS_PORT" shutdown >/dev/null 2>&1 || true
  if wait_gone "$pid" 20; then
    rm -f "$REDIS_PIDFILE"
    say "redis: stopped (pid $pid)"
  else
    stop_pid redis "$REDIS_PIDFILE" 10
  fi
}

redis_status() {
  local pid
  if pid="$(redis_pid)"; then
    printf '%-9s %-8s %-8s %-12s %s\n' redis running "$pid" "$TOT_REDIS_PORT" "redis://127.0.0.1:$TOT_REDIS_PORT"
  else
    printf '%-9s %-8s %-8s %-12s %s\n' redis stopped - "$TOT_REDIS_PORT" "(data: $REDIS_DIR)"
    return 1
  fi
}
