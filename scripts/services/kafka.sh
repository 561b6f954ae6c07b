# Apache Kafka in KRaft mode for scripts/services.sh (sourced, not run): one process that is broker and controller,
# run with the installed JDK (17+) from the Maven Central jars of org.apache.kafka:kafka_2.13 and its dependencies
# (scripts/kafka/pom.xml), cached outside the repository.
# shellcheck shell=bash disable=SC2034  # variables here are read by the other files of scripts/services.sh

TOT_KAFKA_VERSION="${TOT_KAFKA_VERSION:-3.9.2}"
TOT_KAFKA_HEAP="${TOT_KAFKA_HEAP:-512m}"
KAFKA_HOME_DIR="$TOT_CACHE_DIR/kafka-$TOT_KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME_DIR/libs"
KAFKA_DIR="$TOT_DATA_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOG_DIR="$KAFKA_DIR/logs"
KAFKA_LOG="$KAFKA_LOG_DIR/server.log"
KAFKA_OUT="$KAFKA_LOG_DIR/kafka.out"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG4J="$KAFKA_DIR/log4j.properties"
KAFKA_TOOLS_LOG4J="$KAFKA_DIR/tools-log4j.properties"
KAFKA_TOOLS_PROPS="$KAFKA_DIR/tools.properties"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"

# The java to run Kafka with: $JAVA_HOME/bin/java if set, else the one on PATH, else Debian's JDK 17 location.
kafka_java() {
  local candidate
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    if [[ -n "$candidate" && -x "$candidate" ]] && java_major_at_least_17 "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

java_major_at_least_17() {
  local version major
  version="$("$1" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
  major="${version%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 17))
}

kafka_packages() {
  kafka_java >/dev/null || echo openjdk-17-jre-headless
  if [[ ! -f "$KAFKA_HOME_DIR/.complete" ]] && ! command -v mvn >/dev/null 2>&1; then echo maven; fi
}

# Downloads the Kafka jars once per version into the cache (an interrupted download never looks complete).
kafka_fetch() {
  KAFKA_JAVA="$(kafka_java)" || die "kafka: no Java 17 or newer found (set JAVA_HOME or install openjdk-17-jre-headless)"
  [[ -f "$KAFKA_HOME_DIR/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "kafka: mvn not found (install the Debian package maven)"
  mkdir -p "$TOT_CACHE_DIR"
  local staging log="$SERVICES_LOG_DIR/kafka-fetch.log"
  staging="$(mktemp -d "$TOT_CACHE_DIR/.kafka-$TOT_KAFKA_VERSION.XXXXXX")"
  say "kafka: fetching org.apache.kafka:kafka_2.13:$TOT_KAFKA_VERSION and dependencies with Maven into $KAFKA_HOME_DIR"
  if ! mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/scripts/kafka/pom.xml" -Dkafka.version="$TOT_KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging/libs" \
    </dev/null >>"$log" 2>&1 9>&-; then
    rm -rf "$staging"
    log_tail "$log"
    die "kafka: Maven could not fetch org.apache.kafka:kafka_2.13:$TOT_KAFKA_VERSION (log: $log)"
  fi
  [[ -f "$staging/libs/kafka_2.13-$TOT_KAFKA_VERSION.jar" ]] ||
    die "kafka: kafka_2.13-$TOT_KAFKA_VERSION.jar missing from the Maven output in $staging/libs"
  rm -rf "$KAFKA_HOME_DIR"
  mv "$staging" "$KAFKA_HOME_DIR"
  touch "$KAFKA_HOME_DIR/.complete"
}

kafka_pid() {
  local pid
  pid="$(live_pid "$KAFKA_PIDFILE")" || return 1
  # Guards against a recycled pid: the process must still be our broker.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}
kafka_alive() { kafka_pid >/dev/null; }

# Runs a Kafka command-line class with a small, quick-starting JVM.
kafka_tool() {
  "$KAFKA_JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIBS/*" "$@"
}

# Readiness: the broker port accepts connections and a topic listing through the admin API succeeds.
kafka_ready() {
  port_open "$TOT_KAFKA_PORT" || return 1
  timeout 60 "$KAFKA_JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$TOT_KAFKA_PORT" --command-config "$KAFKA_TOOLS_PROPS" --list \
    >/dev/null 2>>"$KAFKA_LOG_DIR/probe.log"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOG_DIR"
  cat >"$KAFKA_PROPS" <<EOF
# Written by scripts/services.sh on every start: one node that is broker and controller (KRaft), on 127.0.0.1 only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TOT_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TOT_KAFKA_PORT,CONTROLLER://127.0.0.1:$TOT_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TOT_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
background.threads=4
log.cleaner.dedupe.buffer.size=33554432
log.retention.hours=24
EOF
  cat >"$KAFKA_LOG4J" <<EOF
# Written by scripts/services.sh: the broker logs to files in $KAFKA_LOG_DIR.
log4j.rootLogger=INFO, server
log4j.appender.server=org.apache.log4j.RollingFileAppender
log4j.appender.server.File=$KAFKA_LOG
log4j.appender.server.MaxFileSize=20MB
log4j.appender.server.MaxBackupIndex=3
log4j.appender.server.layout=org.apache.log4j.PatternLayout
log4j.appender.server.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stateChange=org.apache.log4j.RollingFileAppender
log4j.appender.stateChange.File=$KAFKA_LOG_DIR/state-change.log
log4j.appender.stateChange.MaxFileSize=20MB
log4j.appender.stateChange.MaxBackupIndex=1
log4j.appender.stateChange.layout=org.apache.log4j.PatternLayout
log4j.appender.stateChange.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=INFO, stateChange
log4j.additivity.state.change.logger=false
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
  cat >"$KAFKA_TOOLS_LOG4J" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  cat >"$KAFKA_TOOLS_PROPS" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=15000
EOF
}

# A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints).
kafka_cluster_id() {
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_CLUSTER_ID_FILE"
  fi
  cat "$KAFKA_CLUSTER_ID_FILE"
}

kafka_start() {
  KAFKA_JAVA="$(kafka_java)" || die "kafka: no Java 17 or newer found"
  if kafka_alive; then
    local running_port
    running_port="$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1://p' "$KAFKA_PROPS" 2>/dev/null)"
    if [[ "$running_port" != "$TOT_KAFKA_PORT" ]]; then
      die "kafka: already running on port ${running_port:-?}, not TOT_KAFKA_PORT=$TOT_KAFKA_PORT; run 'down kafka' first"
    fi
    START_KIND["kafka"]="already running"
    return 0
  fi
  START_KIND["kafka"]="started"
  rm -f "$KAFKA_PIDFILE"
  require_port_free kafka "$TOT_KAFKA_PORT" TOT_KAFKA_PORT
  require_port_free kafka-controller "$TOT_KAFKA_CONTROLLER_PORT" TOT_KAFKA_CONTROLLER_PORT
  kafka_write_config
  : >"$KAFKA_LOG_DIR/probe.log"
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    say "kafka: formatting storage in $KAFKA_DATA"
    kafka_tool kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "$KAFKA_PROPS" \
      >>"$KAFKA_LOG_DIR/format.log" 2>&1 || { log_tail "$KAFKA_LOG_DIR/format.log"; die "kafka: formatting storage failed"; }
    START_KIND["kafka"]="formatted+started"
  fi
  say "kafka: starting $TOT_KAFKA_VERSION on 127.0.0.1:$TOT_KAFKA_PORT, controller :$TOT_KAFKA_CONTROLLER_PORT (log: $KAFKA_LOG)"
  # setsid: the broker outlives this script and the terminal's Ctrl-C; in a script without job control the background
  # child is no process group leader, so setsid execs in place and $! is the JVM's pid.
  setsid nohup "$KAFKA_JAVA" -Xms256m "-Xmx$TOT_KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_LOG_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" </dev/null >>"$KAFKA_OUT" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$KAFKA_PIDFILE"
  # Until setsid and nohup have exec'd the JVM, the pid's command line is not yet kafka.Kafka.
  local deadline=$((SECONDS + 10))
  while ! kafka_alive && kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
}

kafka_wait() {
  KAFKA_JAVA="${KAFKA_JAVA:-$(kafka_java)}"
  kafka_alive || { log_tail "$KAFKA_OUT"; log_tail "$KAFKA_LOG"; die "kafka: not running (pid file $KAFKA_PIDFILE)"; }
  if [[ "${START_KIND["kafka"]:-}" == "already running" ]] && kafka_ready; then return 0; fi
  wait_ready kafka kafka_ready kafka_alive "$KAFKA_OUT" "$KAFKA_LOG" "$KAFKA_LOG_DIR/probe.log"
}

kafka_stop() {
  # A controlled shutdown of broker and controller takes a few seconds.
  if kafka_alive; then
    stop_pid kafka "$KAFKA_PIDFILE" 60
  else
    say "kafka: not running"
    rm -f "$KAFKA_PIDFILE"
  fi
}

kafka_status() {
  local pid
  if pid="$(kafka_pid)"; then
    printf '%-9s %-8s %-8s %-12s %s\n' kafka running "$pid" "$TOT_KAFKA_PORT/$TOT_KAFKA_CONTROLLER_PORT" \
      "127.0.0.1:$TOT_KAFKA_PORT (KRaft $TOT_KAFKA_VERSION, controller 127.0.0.1:$TOT_KAFKA_CONTROLLER_PORT)"
  else
    printf '%-9s %-8s %-8s %-12s %s\n' kafka stopped - "$TOT_KAFKA_PORT/$TOT_KAFKA_CONTROLLER_PORT" "(data: $KAFKA_DATA)"
    return 1
  fi
}
