#!/usr/bin/env bash
# AIFF local infrastructure without Docker: Kafka 3.9.1 (KRaft, jars from Maven Central),
# PostgreSQL 15 and Redis from Debian packages, all bound to 127.0.0.1.
#
#   deploy/stack.sh up                 start everything (idempotent; verifies readiness)
#   deploy/stack.sh down               stop everything, keep the data
#   deploy/stack.sh status             one line per service; exit 0 only if all are up
#   deploy/stack.sh logs [-f] [svc]    last lines of the logs (or follow with -f)
#   deploy/stack.sh restart [svc]      stop + start one service (kafka|postgres|redis) or all
#   deploy/stack.sh clean              stop everything and delete $AIFF_STATE_DIR
#   deploy/stack.sh tools              install the checkers the tests run (promtool, from Debian's prometheus)
#
# Environment (defaults match src/aiff/settings.py):
#   AIFF_STATE_DIR  (<repo>/.state)   data, logs ($STATE/logs) and pid files ($STATE/run)
#   AIFF_CACHE_DIR  ($HOME/.cache/aiff) Kafka jars, resolved once into kafka-3.9.1/libs
#   AIFF_KAFKA_PORT 19092, AIFF_KAFKA_CONTROLLER_PORT 19093, AIFF_PG_PORT 55432, AIFF_REDIS_PORT 56379
#   AIFF_KAFKA_HEAP_OPTS ("-Xms1g -Xmx1g"): with ZGC, headroom means fewer concurrent cycles (each takes CPU
#                        from the live path on 2 cores): 512 MB ran one every ~5 s under 200 events/s, 1 GB one every ~12 s
#   AIFF_KAFKA_GC_OPTS   ("-XX:+UseZGC"): the broker is on the live feed's path, and G1's young pauses
#                        (15-25 ms every few seconds under load on 2 cores) were its latency tail
#   AIFF_PG_NICE (5)     Postgres' CPU priority: the read models are written in batches and not on the live
#                        feed's path (Kafka -> live worker -> Redis -> API), which keeps priority 0 on a busy box
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$REPO/deploy"

STATE="${AIFF_STATE_DIR:-$REPO/.state}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
CACHE="${AIFF_CACHE_DIR:-${HOME:-/root}/.cache/aiff}"

KAFKA_VERSION=3.9.1
KAFKA_PORT="${AIFF_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${AIFF_KAFKA_CONTROLLER_PORT:-19093}"
PG_PORT="${AIFF_PG_PORT:-55432}"
REDIS_PORT="${AIFF_REDIS_PORT:-56379}"
KAFKA_HEAP_OPTS="${AIFF_KAFKA_HEAP_OPTS:--Xms1g -Xmx1g}"
KAFKA_GC_OPTS="${AIFF_KAFKA_GC_OPTS:--XX:+UseZGC}"
PG_NICE="${AIFF_PG_NICE:-5}"

KAFKA_TIMEOUT=120
PG_TIMEOUT=30
REDIS_TIMEOUT=30

LOGS="$STATE/logs"
RUN="$STATE/run"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_MARKER="$KAFKA_HOME/.resolved"
KAFKA_DIR="$STATE/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_PIDFILE="$RUN/kafka.pid"
KAFKA_LOG="$LOGS/kafka.log"
READINESS_TOPIC=_aiff_readiness

PG_BIN=/usr/lib/postgresql/15/bin
PG_DATA="$STATE/postgres/data"
PG_SOCKDIR="$RUN/postgres"      # unix socket dir, owned by the postgres user
PG_PIDFILE="$RUN/postgres.pid"  # copy of the first line of $PG_DATA/postmaster.pid
PG_LOG="$LOGS/postgres.log"
PG_APP_USER=aiff
PG_APP_PASSWORD=aiffpass
PG_DATABASES=(aiff_db aiff_test)

REDIS_DIR="$STATE/redis"
REDIS_PIDFILE="$RUN/redis.pid"
REDIS_LOG="$LOGS/redis.log"

SERVICES=(kafka postgres redis)

# ----------------------------------------------------------------------------------------------
# helpers

say() { printf '%s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
is_root() { [[ "$(id -u)" == 0 ]]; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -s "$1" ]] && head -n1 "$1" | tr -dc '0-9' || true; }

# wait_gone PID SECONDS: 0 when the process exited in time
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
}

# not_ready SERVICE SECONDS LOGFILE [REASON]: the standard timeout failure
not_ready() {
  {
    if [[ -n "${4:-}" ]]; then
      printf 'ERROR: %s did not become ready (%s); last log lines:\n' "$1" "$4"
    else
      printf 'ERROR: %s did not become ready within %ss; last log lines:\n' "$1" "$2"
    fi
    tail -n 40 "$3" 2>/dev/null | sed 's/^/  | /' || true
  } >&2
  exit 1
}

wait_apt() {
  local i=0
  while pgrep -x 'apt|apt-get|dpkg|unattended-upgr' >/dev/null 2>&1 \
      || { command -v fuser >/dev/null && fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; }; do
    ((i++ == 0)) && say "waiting for another apt/dpkg run to finish…"
    sleep 2
  done
}

# need CHECK-PATH-OR-COMMAND PACKAGE: install the Debian package when missing (root only)
need() {
  local what=$1 pkg=$2
  if [[ "$what" == /* ]]; then [[ -x "$what" ]] && return 0; else command -v "$what" >/dev/null && return 0; fi
  if ! is_root; then
    die "'$what' is missing; install it first: sudo apt-get install -y $pkg"
  fi
  say "installing $pkg with apt-get (missing: $what)…"
  wait_apt
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  if [[ "$what" == /* ]]; then [[ -x "$what" ]]; else command -v "$what" >/dev/null; fi \
    || die "installing $pkg did not provide $what"
}

prepare_dirs() {
  mkdir -p "$LOGS" "$RUN" "$KAFKA_DATA" "$REDIS_DIR" "$STATE/postgres"
}

# ----------------------------------------------------------------------------------------------
# Kafka

kafka_java_opts() {
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP_OPTS) gc=($KAFKA_GC_OPTS)
  printf '%s\n' "${heap[@]}" "${gc[@]}" -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$DEPLOY/kafka/log4j.properties" "-Dkafka.logs.dir=$LOGS"
}

# Small short-lived JVM for the admin tools (StorageTool, TopicCommand).
kafka_tool() {
  java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$DEPLOY/kafka/log4j.properties" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_pom_sum() { sha256sum "$DEPLOY/kafka/pom.xml" | cut -d' ' -f1; }

kafka_resolve() {
  need java openjdk-17-jre-headless
  if [[ -f "$KAFKA_MARKER" && "$(cat "$KAFKA_MARKER")" == "$(kafka_pom_sum)" ]]; then
    return 0
  fi
  need mvn maven
  local t0 tmp
  t0=$(now)
  say "kafka: resolving jars from Maven Central (first run only)…"
  mkdir -p "$KAFKA_HOME"
  tmp="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp"
  if ! mvn -q -B -f "$DEPLOY/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime "-DoutputDirectory=$tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
    tail -n 30 "$KAFKA_HOME/mvn.log" >&2
    rm -rf "$tmp"
    die "kafka: mvn dependency:copy-dependencies failed (full output: $KAFKA_HOME/mvn.log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" && -f "$tmp/kafka-tools-$KAFKA_VERSION.jar" ]] \
    || die "kafka: resolved classpath in $tmp lacks kafka_2.13/kafka-tools $KAFKA_VERSION"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  kafka_pom_sum >"$KAFKA_MARKER"
  say "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS ($(elapsed "$t0"))"
}

kafka_pid() {
  local pid
  pid=$(read_pid "$KAFKA_PIDFILE")
  if pid_alive "$pid" && grep -qa 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null; then
    printf '%s' "$pid"
  fi
}

kafka_render_config() {
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@LOG_DIR@|$KAFKA_DATA|g" \
      "$DEPLOY/kafka/server.properties" >"$KAFKA_PROPS.tmp"
  mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

kafka_format() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local cid
  if [[ -s "$KAFKA_DIR/cluster.id" ]]; then
    cid=$(cat "$KAFKA_DIR/cluster.id")
  else
    cid=$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOG" | tail -n1)
    [[ -n "$cid" ]] || die "kafka: StorageTool random-uuid produced no id (see $KAFKA_LOG)"
    printf '%s\n' "$cid" >"$KAFKA_DIR/cluster.id"
  fi
  say "kafka: formatting storage in $KAFKA_DATA (cluster id $cid)…"
  kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" --ignore-formatted >>"$KAFKA_LOG" 2>&1 \
    || { tail -n 20 "$KAFKA_LOG" >&2; die "kafka: storage format failed"; }
}

# kafka_probe: a client creates the readiness topic and then sees it in the topic list.
kafka_probe() {
  local out="$RUN/kafka-probe.out" bs="127.0.0.1:$KAFKA_PORT"
  kafka_tool_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --if-not-exists \
      --topic "$READINESS_TOPIC" --partitions 1 --replication-factor 1 >"$out" 2>&1 || return 1
  kafka_tool_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --list >"$out" 2>&1 || return 1
  grep -qx "$READINESS_TOPIC" "$out"
}

# kafka_tool_run: kafka_tool with a hard 40 s limit (the admin client otherwise retries for 60 s)
kafka_tool_run() {
  timeout 40 java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$DEPLOY/kafka/log4j.properties" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_wait_ready() {
  local t0=$1 pid=$2 deadline=$((SECONDS + KAFKA_TIMEOUT))
  while ((SECONDS < deadline)); do
    pid_alive "$pid" || { rm -f "$KAFKA_PIDFILE"; not_ready kafka "$KAFKA_TIMEOUT" "$KAFKA_LOG" "process $pid exited"; }
    if port_open "$KAFKA_PORT" && kafka_probe; then
      say "kafka: ready on 127.0.0.1:$KAFKA_PORT ($(elapsed "$t0"))"
      return 0
    fi
    sleep 0.5
  done
  tail -n 5 "$RUN/kafka-probe.out" 2>/dev/null | sed 's/^/kafka probe: /' >&2 || true
  not_ready kafka "$KAFKA_TIMEOUT" "$KAFKA_LOG"
}

# kafka_start: launch the broker in the background (no-op when running); kafka_up also waits.
# KAFKA_STARTED_PID is the pid it launched (or found): kafka_wait must not look the broker up again by its
# command line, which shows `setsid`/`nohup` until the exec of java has happened (a race that made
# `stack.sh up kafka` exit 1 while the broker was starting).
KAFKA_T0=
KAFKA_STARTED_PID=
kafka_start() {
  local pid
  KAFKA_T0=$(now)
  pid=$(kafka_pid)
  if [[ -n "$pid" ]]; then
    KAFKA_STARTED_PID=$pid
    say "kafka: already running (pid $pid)"
    return 0
  fi
  kafka_resolve
  port_open "$KAFKA_PORT" && die "kafka: 127.0.0.1:$KAFKA_PORT is taken by another process"
  port_open "$KAFKA_CONTROLLER_PORT" && die "kafka: 127.0.0.1:$KAFKA_CONTROLLER_PORT is taken by another process"
  kafka_render_config
  kafka_format
  say "kafka: starting broker+controller (KRaft) on 127.0.0.1:$KAFKA_PORT/$KAFKA_CONTROLLER_PORT…"
  local opts
  mapfile -t opts < <(kafka_java_opts)
  printf '\n===== %s stack.sh: starting kafka =====\n' "$(date -Is)" >>"$KAFKA_LOG"
  setsid nohup java "${opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
    >>"$KAFKA_LOG" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PIDFILE"
  KAFKA_STARTED_PID=$pid
}

kafka_wait() {
  local pid=${KAFKA_STARTED_PID:-}
  [[ -n "$pid" ]] || pid=$(kafka_pid)
  [[ -n "$pid" ]] || not_ready kafka "$KAFKA_TIMEOUT" "$KAFKA_LOG" "no broker process (pid file $KAFKA_PIDFILE)"
  say "kafka: waiting for a client to create and list topic $READINESS_TOPIC…"
  kafka_wait_ready "${KAFKA_T0:-$(now)}" "$pid"
}

kafka_up() { kafka_start; kafka_wait; }

kafka_down() {
  local pid
  pid=$(kafka_pid)
  if [[ -z "$pid" ]]; then
    rm -f "$KAFKA_PIDFILE"
    say "kafka: not running"
    return 0
  fi
  say "kafka: stopping (pid $pid)…"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 45; then
    say "kafka: still alive after 45 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "kafka: pid $pid survived SIGKILL"
  fi
  rm -f "$KAFKA_PIDFILE"
  say "kafka: stopped"
}

kafka_status() {
  local pid
  pid=$(kafka_pid)
  if [[ -n "$pid" ]] && port_open "$KAFKA_PORT"; then
    printf '%-9s up    pid %-8s 127.0.0.1:%s (controller %s)\n' kafka "$pid" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  else
    printf '%-9s down  pid %-8s 127.0.0.1:%s\n' kafka "${pid:--}" "$KAFKA_PORT"
    return 1
  fi
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL 15 (Debian). The server refuses to run as root: as root we run it as the `postgres`
# system user through runuser; as any other user it runs as that user.

PG_AS=()
pg_init_user() {
  if is_root; then
    id postgres >/dev/null 2>&1 || die "postgres: the 'postgres' system user is missing (apt-get install postgresql)"
    PG_AS=(runuser -u postgres --)
    PG_OWNER=postgres
  else
    PG_AS=()
    PG_OWNER=$(id -un)
  fi
}

# The postgres user must be able to traverse every parent of $STATE (e.g. /work/... owned by root).
pg_fix_traversal() {
  is_root || return 0
  "${PG_AS[@]}" test -x "$STATE" 2>/dev/null && return 0
  local d=$STATE
  while [[ "$d" != / ]]; do
    if ! "${PG_AS[@]}" test -x "$d" 2>/dev/null; then
      say "postgres: chmod o+x $d (so the postgres user can reach $PG_DATA)"
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

pg_pid() {
  local pid
  pid=$(read_pid "$PG_DATA/postmaster.pid")
  pid_alive "$pid" && printf '%s' "$pid"
  return 0
}

pg_psql_admin() {
  "${PG_AS[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_write_config() {
  # Re-written on every start so port / socket changes apply; included from postgresql.conf.
  cat >"$PG_DATA/aiff.conf" <<EOF
# Managed by deploy/stack.sh (re-written on every start).
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
max_connections = 200
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 64MB
# Local dev stack only: a crash may lose the last few hundred ms of commits, never corrupts data.
synchronous_commit = off
# Autovacuum in gentler steps (default 2ms): its once-a-minute passes over the busy tables took a core for
# ~2 s and showed up in the live feed's latency on 2 cores; these tables are small, it still keeps up.
autovacuum_vacuum_cost_delay = 10ms
password_encryption = scram-sha-256
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  chown "$PG_OWNER" "$PG_DATA/aiff.conf"
  grep -q "^include_if_exists = 'aiff.conf'" "$PG_DATA/postgresql.conf" \
    || printf "\ninclude_if_exists = 'aiff.conf'\n" >>"$PG_DATA/postgresql.conf"
}

pg_initdb() {
  [[ -s "$PG_DATA/PG_VERSION" ]] && return 0
  say "postgres: initdb in $PG_DATA…"
  mkdir -p "$PG_DATA"
  chown "$PG_OWNER" "$PG_DATA"
  chmod 700 "$PG_DATA"
  # trust on the unix socket (a postgres-owned dir under $STATE/run), scram passwords over TCP
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 \
    || { tail -n 20 "$PG_LOG" >&2; die "postgres: initdb failed"; }
}

pg_bootstrap_roles() {
  local db
  pg_psql_admin <<EOF
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$PG_APP_USER', '$PG_APP_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_APP_USER') \gexec
ALTER ROLE $PG_APP_USER WITH LOGIN CREATEDB PASSWORD '$PG_APP_PASSWORD';
EOF
  for db in "${PG_DATABASES[@]}"; do
    pg_psql_admin <<EOF
SELECT format('CREATE DATABASE %I OWNER %I', '$db', '$PG_APP_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$db') \gexec
EOF
  done
}

pg_tcp_ok() {
  PGPASSWORD="$PG_APP_PASSWORD" PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" \
    -U "$PG_APP_USER" -d "${PG_DATABASES[0]}" -c 'select 1' 2>/dev/null | grep -qx 1
}

pg_wait_ready() {
  local t0=$1 deadline=$((SECONDS + PG_TIMEOUT))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; do
    ((SECONDS >= deadline)) && not_ready postgres "$PG_TIMEOUT" "$PG_LOG"
    sleep 0.2
  done
  pg_bootstrap_roles || not_ready postgres "$PG_TIMEOUT" "$PG_LOG"
  until pg_tcp_ok; do
    ((SECONDS >= deadline)) && not_ready postgres "$PG_TIMEOUT" "$PG_LOG"
    sleep 0.2
  done
  pg_pid >"$PG_PIDFILE"
  say "postgres: ready on 127.0.0.1:$PG_PORT, db ${PG_DATABASES[*]} owned by $PG_APP_USER ($(elapsed "$t0"))"
}

pg_up() {
  local t0 pid
  t0=$(now)
  need "$PG_BIN/postgres" postgresql
  pg_init_user
  pid=$(pg_pid)
  if [[ -n "$pid" ]]; then
    say "postgres: already running (pid $pid), checking readiness…"
    pg_wait_ready "$t0"
    return 0
  fi
  port_open "$PG_PORT" && die "postgres: 127.0.0.1:$PG_PORT is taken by another process"
  pg_fix_traversal
  mkdir -p "$PG_SOCKDIR"
  chown "$PG_OWNER" "$PG_SOCKDIR"
  chmod 755 "$PG_SOCKDIR"
  touch "$PG_LOG"
  chown "$PG_OWNER" "$PG_LOG"
  pg_initdb
  pg_write_config
  say "postgres: starting on 127.0.0.1:$PG_PORT…"
  printf '\n===== %s stack.sh: starting postgres =====\n' "$(date -Is)" >>"$PG_LOG"
  nice -n "$PG_NICE" "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W start >/dev/null \
    || not_ready postgres "$PG_TIMEOUT" "$PG_LOG"
  pg_wait_ready "$t0"
}

pg_down() {
  local pid
  pg_init_user
  pid=$(pg_pid)
  if [[ -z "$pid" ]]; then
    rm -f "$PG_PIDFILE"
    say "postgres: not running"
    return 0
  fi
  say "postgres: stopping (pid $pid, fast mode)…"
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null \
    || { kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$PG_PIDFILE"
  say "postgres: stopped"
}

pg_status() {
  local pid
  pid=$(pg_pid)
  if [[ -n "$pid" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 2>/dev/null; then
    printf '%-9s up    pid %-8s 127.0.0.1:%s\n' postgres "$pid" "$PG_PORT"
  else
    printf '%-9s down  pid %-8s 127.0.0.1:%s\n' postgres "${pid:--}" "$PG_PORT"
    return 1
  fi
}

# ----------------------------------------------------------------------------------------------
# Redis (Debian redis-server): a cache / pub-sub / rate-limiter here, so no persistence at all.

redis_pid() {
  local pid
  pid=$(read_pid "$REDIS_PIDFILE")
  pid_alive "$pid" && printf '%s' "$pid"
  return 0
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_wait_ready() {
  local t0=$1 deadline=$((SECONDS + REDIS_TIMEOUT))
  until redis_ping; do
    ((SECONDS >= deadline)) && not_ready redis "$REDIS_TIMEOUT" "$REDIS_LOG"
    sleep 0.1
  done
  say "redis: ready on 127.0.0.1:$REDIS_PORT ($(elapsed "$t0"))"
}

redis_up() {
  local t0 pid
  t0=$(now)
  need redis-server redis-server
  need redis-cli redis-tools
  pid=$(redis_pid)
  if [[ -n "$pid" ]]; then
    say "redis: already running (pid $pid), checking readiness…"
    redis_wait_ready "$t0"
    return 0
  fi
  port_open "$REDIS_PORT" && die "redis: 127.0.0.1:$REDIS_PORT is taken by another process"
  say "redis: starting on 127.0.0.1:$REDIS_PORT…"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" \
    --save '' --appendonly no \
    --client-output-buffer-limit 'pubsub 64mb 32mb 60' \
    || not_ready redis "$REDIS_TIMEOUT" "$REDIS_LOG"
  redis_wait_ready "$t0"
}

redis_down() {
  local pid
  pid=$(redis_pid)
  if [[ -z "$pid" ]]; then
    rm -f "$REDIS_PIDFILE"
    say "redis: not running"
    return 0
  fi
  say "redis: stopping (pid $pid)…"
  # By pid, not `redis-cli -p PORT shutdown`: the port in this shell's environment may be another stack's.
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 15 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5 || true; }
  rm -f "$REDIS_PIDFILE"
  say "redis: stopped"
}

redis_status() {
  local pid
  pid=$(redis_pid)
  if [[ -n "$pid" ]] && redis_ping; then
    printf '%-9s up    pid %-8s 127.0.0.1:%s\n' redis "$pid" "$REDIS_PORT"
  else
    printf '%-9s down  pid %-8s 127.0.0.1:%s\n' redis "${pid:--}" "$REDIS_PORT"
    return 1
  fi
}

# ----------------------------------------------------------------------------------------------
# dispatch

check_services() {
  local s
  for s in "$@"; do
    case "$s" in
      kafka | postgres | pg | redis) ;;
      *) die "unknown service '$s' (kafka|postgres|redis)" ;;
    esac
  done
}

# svc_call SERVICE ACTION
svc_call() {
  case "$1" in
    kafka) "kafka_$2" ;;
    postgres | pg) "pg_$2" ;;
    redis) "redis_$2" ;;
  esac
}

cmd_up() {
  local t0 s want_kafka=0
  t0=$(now)
  check_services "$@"
  prepare_dirs
  # Kafka starts first (slowest), the others come up while its JVM boots.
  for s in "$@"; do [[ "$s" == kafka ]] && want_kafka=1; done
  ((want_kafka)) && kafka_start
  for s in "$@"; do [[ "$s" == kafka ]] || svc_call "$s" up; done
  ((want_kafka)) && kafka_wait
  say "stack: up ($(elapsed "$t0")); state in $STATE, logs in $LOGS"
}

cmd_down() {
  local s
  check_services "$@"
  mkdir -p "$RUN"
  for s in "$@"; do svc_call "$s" down; done
}

cmd_status() {
  local rc=0 s
  for s in "${SERVICES[@]}"; do svc_call "$s" status || rc=1; done
  return $rc
}

cmd_logs() {
  local follow=0 files=() s
  if [[ "${1:-}" == -f || "${1:-}" == --follow ]]; then follow=1; shift; fi
  if [[ $# -eq 0 ]]; then set -- "${SERVICES[@]}"; fi
  for s in "$@"; do
    case "$s" in
      kafka) files+=("$KAFKA_LOG") ;;
      postgres | pg) files+=("$PG_LOG") ;;
      redis) files+=("$REDIS_LOG") ;;
      *) die "unknown service '$s' (kafka|postgres|redis)" ;;
    esac
  done
  if ((follow)); then
    exec tail -n 50 -F "${files[@]}"
  fi
  tail -n "${AIFF_LOG_LINES:-100}" "${files[@]}"
}

cmd_clean() {
  cmd_down "${SERVICES[@]}"
  case "$STATE" in
    "" | / | "$HOME" | "$REPO") die "refusing to delete state dir '$STATE'" ;;
  esac
  say "clean: deleting $STATE"
  rm -rf "$STATE"
}

# The tests check deploy/prometheus/ with Prometheus' own promtool (Debian package `prometheus`, 2.42 on bookworm).
cmd_tools() {
  need promtool prometheus
  say "tools: $(promtool --version 2>&1 | head -n 1)"
}

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up)
      [[ $# -eq 0 ]] && set -- "${SERVICES[@]}"
      cmd_up "$@"
      ;;
    down | stop)
      [[ $# -eq 0 ]] && set -- "${SERVICES[@]}"
      cmd_down "$@"
      ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    restart)
      [[ $# -eq 0 ]] && set -- "${SERVICES[@]}"
      cmd_down "$@"
      cmd_up "$@"
      ;;
    clean) cmd_clean ;;
    tools) cmd_tools ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
