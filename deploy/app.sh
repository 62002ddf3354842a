#!/usr/bin/env bash
# The AIFF processes of the local system: `aiff worker` (all consumers) and `aiff api`, in the background.
#   deploy/app.sh start | stop | status | urls
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${AIFF_STATE_DIR:-$REPO/.state}"
BIN="${AIFF_BIN:-$REPO/.venv/bin}"
LOGS="$STATE/logs"; RUN="$STATE/run"
mkdir -p "$LOGS" "$RUN"
STATE="$(cd "$STATE" && pwd)"; LOGS="$STATE/logs"; RUN="$STATE/run"
# The processes keep their state (e.g. the API's generated JWT key, $STATE/jwt-secret) where this script does.
export AIFF_STATE_DIR="$STATE"
PORT="${AIFF_API_PORT:-8085}"

running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_one() {
  local name=$1; shift
  if running "$name"; then echo "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  rm -f "$RUN/$name.pid"
  # The process writes its own pid (setsid may fork), then becomes the command. The redirections cover the
  # whole background job and `exec` leaves no shell waiting behind it: a shell that kept our stdout open
  # for the daemon's lifetime made `make up | tail` wait forever.
  (cd "$REPO" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@") >>"$LOGS/$name.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -s "$RUN/$name.pid" ] && break; sleep 0.1; done
  echo "$name: started (pid $(cat "$RUN/$name.pid")), log $LOGS/$name.log"
}

wait_for() {
  local name=$1 timeout=$2 check=$3 start=$SECONDS
  until eval "$check"; do
    if ! running "$name"; then echo "ERROR: $name exited; last log lines:" >&2; tail -n 30 "$LOGS/$name.log" >&2; exit 1; fi
    if (( SECONDS - start > timeout )); then echo "ERROR: $name not ready within ${timeout}s; last log lines:" >&2; tail -n 30 "$LOGS/$name.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "$name: ready ($(( SECONDS - start )) s)"
}

# CPU scheduling policy prefix: `idle` runs only when no other process wants the CPU (a live-path wakeup always
# preempts it), `batch` is never treated as interactive; both are open to unprivileged users. Needs util-linux chrt.
policy() {
  case "$1" in
    idle|batch) if command -v chrt >/dev/null; then echo "chrt --$1 0"; fi ;;
    *) ;;
  esac
}

start_worker() {
  # start_worker NAME METRICS_PORT_OFFSET NICENESS POLICY CONSUMER...; each process serves /metrics on its own port.
  local name=$1 offset=$2 niceness=$3 sched; sched=$(policy "$4"); shift 4
  if running "$name"; then echo "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  local mark; mark=$(stat -c %s "$LOGS/$name.log" 2>/dev/null || echo 0)
  local base="${AIFF_WORKER_METRICS_PORT:-9108}" port=0
  [ "$base" != 0 ] && port=$((base + offset))
  # shellcheck disable=SC2086
  AIFF_WORKER_METRICS_PORT=$port start_one "$name" $sched nice -n "$niceness" "$BIN/aiff" worker "$@"
  wait_for "$name" 60 "tail -c +$((mark + 1)) '$LOGS/$name.log' | grep -q 'workers running'"
}

stop_one() {
  local name=$1
  if ! running "$name"; then rm -f "$RUN/$name.pid"; return; fi
  local pid; pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
  echo "$name: stopped"
}

case "${1:-}" in
  start)
    # Four processes, so that CPU-heavy work never delays the projector or the live feed: the projector, the
    # live feed (latency-critical: Kafka -> Redis), the assignment engine (its solves), and analytics + AI
    # (models, reports) + SLA clocks. Only the live feed and the API (with Kafka and Redis) are on a dispatcher's screen's path,
    # so the rest runs at a lower CPU priority: the projector at nice 5 (and Postgres, see stack.sh), the engine at
    # nice 10 under the `batch` policy, analytics + AI under the `idle` policy (they run when the cores are
    # otherwise free; AIFF_INSIGHT_POLICY=other turns it off). When the cores are busy the screens go first; the
    # projector and engine decide in 20/200 ms windows anyway, and the insights catch up afterwards.
    # shellcheck disable=SC2086
    start_worker worker 0 "${AIFF_PROJECTOR_NICE:-5}" other ${AIFF_WORKERS:-projector}
    # shellcheck disable=SC2086
    [ -n "${AIFF_LIVE_WORKERS-live}" ] && start_worker worker-live 1 0 other ${AIFF_LIVE_WORKERS-live}
    # shellcheck disable=SC2086
    [ -n "${AIFF_ENGINE_WORKERS-assignment}" ] && start_worker worker-engine 2 "${AIFF_ENGINE_NICE:-10}" "${AIFF_ENGINE_POLICY:-batch}" ${AIFF_ENGINE_WORKERS-assignment}
    # shellcheck disable=SC2086
    [ -n "${AIFF_INSIGHT_WORKERS-analytics ai sla}" ] && start_worker worker-insights 3 "${AIFF_INSIGHT_NICE:-15}" "${AIFF_INSIGHT_POLICY:-idle}" ${AIFF_INSIGHT_WORKERS-analytics ai sla}
    if "$BIN/python" -c "import aiff.api.serve" 2>/dev/null; then
      start_one api "$BIN/aiff" api --port "$PORT"
      wait_for api 60 "curl -fs -o /dev/null http://127.0.0.1:$PORT/health"
    fi
    ;;
  stop) stop_one api; stop_one worker; stop_one worker-live; stop_one worker-engine; stop_one worker-insights ;;
  status)
    total=0
    for n in worker worker-live worker-engine worker-insights api kafka postgres redis; do
      if running "$n"; then
        pid=$(cat "$RUN/$n.pid")
        # a process and its children (Postgres backends): proportional set size, so shared pages count once
        kb=0
        for p in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null); do
          kb=$((kb + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
        done
        total=$((total + kb))
        [ "$n" = kafka ] || [ "$n" = postgres ] || [ "$n" = redis ] || echo "$n: up (pid $pid, $((kb / 1024)) MiB)"
      else
        [ "$n" = kafka ] || [ "$n" = postgres ] || [ "$n" = redis ] || echo "$n: down"
      fi
    done
    echo "memory of the whole local system (stack + workers + API, PSS): $((total / 1024)) MiB" ;;
  urls)
    echo
    echo "AIFF is up."
    if running api; then
      if [ ! -f "$STATE/admin-password" ] && "$BIN/python" -c "import aiff.tools.users" 2>/dev/null; then
        pw=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)
        if "$BIN/aiff" users create --username admin --password "$pw" --role admin >/dev/null 2>&1; then
          umask 077; echo "$pw" >"$STATE/admin-password"
        fi
      fi
      echo "  dispatcher dashboard  http://127.0.0.1:$PORT/"
      echo "  field portal          http://127.0.0.1:$PORT/field"
      echo "  API docs (OpenAPI)    http://127.0.0.1:$PORT/docs"
      [ -f "$STATE/admin-password" ] && echo "  login                 admin / $(cat "$STATE/admin-password")   (saved in $STATE/admin-password)"
    fi
    prefix="${AIFF_TOPIC_PREFIX:-aiff}"
    echo "  Postgres read models  psql ${DATABASE_URL:-postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_db}"
    echo "  Kafka                 ${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:19092} (topics $prefix.tickets, $prefix.teams, $prefix.requests, $prefix.dead-letters; engine work: $prefix.assignment-work)"
    echo "  logs                  $LOGS/"
    echo "  stop everything       make down"
    ;;
  *) echo "usage: $0 start|stop|status|urls" >&2; exit 2 ;;
esac
