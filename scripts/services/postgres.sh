# PostgreSQL 15 + PostGIS 3 for scripts/services.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # variables here are read by the other files of scripts/services.sh
#
# The server runs as the `postgres` OS user (PostgreSQL refuses to run as root) from our own cluster in
# $TOT_DATA_DIR/postgres, never the Debian default cluster. If that user cannot reach the data dir (a repository under
# a private home directory), the cluster lives in /var/lib/postgresql/tot-dispatch/<hash> and
# $TOT_DATA_DIR/postgres is a symbolic link to it; no directory permissions are changed.

PG_BIN=/usr/lib/postgresql/15/bin

postgres_packages() { printf '%s\n' postgresql-15 postgresql-15-postgis-3; }

# Runs a command as the OS user that owns the cluster (from /, which that user can always enter; paths are absolute).
pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Sets PG_ROOT (the directory holding data/, run/ and the log) and the paths inside it.
pg_paths() {
  local link="$TOT_DATA_DIR/postgres"
  if [[ -L "$link" ]]; then
    PG_ROOT="$(readlink -f "$link")"
  elif ((EUID == 0)) && ! runuser -u postgres -- test -x "$TOT_DATA_DIR" 2>/dev/null; then
    PG_ROOT="/var/lib/postgresql/tot-dispatch/$(printf '%s' "$TOT_DATA_DIR" | md5sum | cut -c1-12)"
  else
    PG_ROOT="$link"
  fi
  PGDATA_DIR="$PG_ROOT/data"
  PG_SOCKET_DIR="$PG_ROOT/run"
  PG_LOG="$PG_ROOT/postgres.log"
}

postgres_pid() { [[ -d "$PGDATA_DIR" ]] && live_pid "$PGDATA_DIR/postmaster.pid"; }

postgres_alive() { postgres_pid >/dev/null; }

# Readiness: PostGIS answers through psql, as the tot user, over TCP.
postgres_ready() {
  PGPASSWORD=tot PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -w -h 127.0.0.1 -p "$TOT_PG_PORT" -U tot -d tot -tAc \
    'SELECT postgis_full_version()' >/dev/null 2>&1
}

# psql as the superuser over the unix socket (local connections use trust authentication).
pg_superuser_psql() {
  pg_as_owner "$PG_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$TOT_PG_PORT" -U postgres "$@"
}

pg_initdb() {
  if [[ "$PG_ROOT" != "$TOT_DATA_DIR/postgres" ]]; then
    say "postgres: the postgres user cannot reach $TOT_DATA_DIR; using $PG_ROOT (linked from $TOT_DATA_DIR/postgres)"
    mkdir -p "$PG_ROOT"
    ln -sfn "$PG_ROOT" "$TOT_DATA_DIR/postgres"
  fi
  mkdir -p "$PGDATA_DIR" "$PG_SOCKET_DIR"
  touch "$PG_LOG"
  # The server (as postgres) appends to the log that pg_ctl opens; all of PG_ROOT must be the owner's.
  if ((EUID == 0)); then chown -R postgres:postgres "$PG_ROOT"; fi
  chmod 700 "$PGDATA_DIR"
  say "postgres: initdb into $PGDATA_DIR"
  pg_as_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
    { log_tail "$PG_LOG"; die "postgres: initdb failed"; }
  printf "\n# Settings of scripts/services.sh, rewritten on every start.\ninclude_if_exists = 'tot.conf'\n" |
    pg_as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

pg_write_config() {
  # Unix socket paths are limited to 107 bytes.
  if (( ${#PG_SOCKET_DIR} + 20 > 107 )); then
    die "postgres: socket directory path too long ($PG_SOCKET_DIR); use a shorter TOT_DATA_DIR"
  fi
  pg_as_owner tee "$PGDATA_DIR/tot.conf" >/dev/null <<EOF
port = $TOT_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 128MB
EOF
}

postgres_fetch() {
  [[ -x "$PG_BIN/postgres" ]] || die "postgres: $PG_BIN/postgres missing after installing postgresql-15"
  [[ -f /usr/share/postgresql/15/extension/postgis.control ]] ||
    die "postgres: PostGIS extension missing after installing postgresql-15-postgis-3"
}

postgres_start() {
  pg_paths
  if postgres_alive; then
    # Line 4 of postmaster.pid is the port the running server listens on.
    local running_port
    running_port="$(sed -n 4p "$PGDATA_DIR/postmaster.pid")"
    if [[ "$running_port" != "$TOT_PG_PORT" ]]; then
      die "postgres: already running on port $running_port, not TOT_PG_PORT=$TOT_PG_PORT; run 'down postgres' first"
    fi
    START_KIND["postgres"]="already running"
    return 0
  fi
  START_KIND["postgres"]="started"
  if [[ ! -s "$PGDATA_DIR/PG_VERSION" ]]; then
    pg_initdb
    START_KIND["postgres"]="initdb+started"
  fi
  require_port_free postgres "$TOT_PG_PORT" TOT_PG_PORT
  pg_write_config
  # A postmaster.pid left by a crash names a dead process; the server removes it itself.
  say "postgres: starting on 127.0.0.1:$TOT_PG_PORT (log: $PG_LOG)"
  # -w: pg_ctl returns once the server accepts connections (or fails if it exits), so no check can run before the
  # server has written its postmaster.pid.
  pg_as_owner "$PG_BIN/pg_ctl" start -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$TOT_SERVICES_TIMEOUT" >/dev/null 9>&- ||
    { log_tail "$PG_LOG"; die "postgres: pg_ctl start failed (log: $PG_LOG)"; }
}

# The superuser can connect over the unix socket, i.e. the server accepts connections.
pg_accepting() { pg_superuser_psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; }

# Creates role tot/tot, database tot and the postgis extension in it, if missing.
pg_bootstrap() {
  pg_superuser_psql -d postgres >>"$PG_LOG" 2>&1 <<'SQL' || { log_tail "$PG_LOG"; die "postgres: creating role/database tot failed"; }
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tot') THEN
    CREATE ROLE tot LOGIN CREATEDB PASSWORD 'tot';
  END IF;
END
$$;
SELECT 'CREATE DATABASE tot OWNER tot' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tot')\gexec
SQL
  pg_superuser_psql -d tot -c 'CREATE EXTENSION IF NOT EXISTS postgis' >>"$PG_LOG" 2>&1 ||
    { log_tail "$PG_LOG"; die "postgres: CREATE EXTENSION postgis failed"; }
}

postgres_wait() {
  if postgres_ready; then return 0; fi
  wait_ready postgres pg_accepting postgres_alive "$PG_LOG"
  pg_bootstrap
  wait_ready postgres postgres_ready postgres_alive "$PG_LOG"
}

postgres_stop() {
  pg_paths
  local pid
  if ! pid="$(postgres_pid)"; then
    say "postgres: not running"
    return 0
  fi
  if ! pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 30 >/dev/null 2>&1; then
    say "postgres: fast shutdown timed out, using immediate shutdown"
    pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m immediate -w -t 15 >/dev/null 2>&1 || true
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || die "postgres: pid $pid survived SIGKILL"
    fi
  fi
  say "postgres: stopped (pid $pid)"
}

postgres_status() {
  pg_paths
  local pid
  if pid="$(postgres_pid)"; then
    printf '%-9s %-8s %-8s %-12s %s\n' postgres running "$pid" "$TOT_PG_PORT" \
      "postgres://tot:tot@127.0.0.1:$TOT_PG_PORT/tot"
  else
    printf '%-9s %-8s %-8s %-12s %s\n' postgres stopped - "$TOT_PG_PORT" "(data: $PGDATA_DIR)"
    return 1
  fi
}
