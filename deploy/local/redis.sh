#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Our own Redis server on 127.0.0.1 (Debian's redis-server binary, not its
# systemd service), state under $FIRESTORM_STACK_DIR/redis.
set -euo pipefail

LOG_TAG=redis
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

REDIS_PORT="${FIRESTORM_REDIS_PORT:-6379}"
APPENDONLY="${FIRESTORM_REDIS_APPENDONLY:-yes}"
START_TIMEOUT="${FIRESTORM_REDIS_START_TIMEOUT:-20}"
STOP_TIMEOUT="${FIRESTORM_REDIS_STOP_TIMEOUT:-15}"
require_int FIRESTORM_REDIS_PORT "$REDIS_PORT"
require_int FIRESTORM_REDIS_START_TIMEOUT "$START_TIMEOUT"
require_int FIRESTORM_REDIS_STOP_TIMEOUT "$STOP_TIMEOUT"
[[ "$APPENDONLY" == yes || "$APPENDONLY" == no ]] \
  || die "FIRESTORM_REDIS_APPENDONLY must be yes or no, got '$APPENDONLY'"

REDIS_HOME="${STACK_DIR}/redis"
DATA_DIR="${REDIS_HOME}/data"
CONF="${REDIS_HOME}/redis.conf"
PID_FILE="${REDIS_HOME}/redis.pid"
LOG_FILE="${REDIS_HOME}/redis.log"
# Debian's packaged service (systemd unit or init script) writes this pid file.
SYSTEM_PID_FILE="/run/redis/redis-server.pid"

usage() {
  cat <<EOF
Usage: $(basename "$0") {start|stop|status|logs [-f]}

  start    install redis-server (apt) if missing, start our own instance on
           127.0.0.1:${REDIS_PORT}, wait for PING -> PONG (idempotent)
  stop     SHUTDOWN NOSAVE, then SIGTERM/SIGKILL by pid if needed (idempotent)
  status   exit 0 when running and answering PING, 3 when stopped, 1 when unhealthy
  logs     tail the Redis log (-f to follow)

Environment:
  FIRESTORM_STACK_DIR           state dir (default <repo>/.stack; now ${STACK_DIR})
  FIRESTORM_REDIS_PORT          port (default 6379)
  FIRESTORM_REDIS_APPENDONLY    yes|no (default yes: an append-only file in the state dir)
  FIRESTORM_REDIS_START_TIMEOUT seconds to wait for PONG (default 20)
  FIRESTORM_REDIS_STOP_TIMEOUT  seconds before SIGKILL on stop (default 15)
EOF
}

# Install Debian's redis-server (+ redis-tools for redis-cli) without letting
# the package start its own system instance: policy-rc.d exiting 101 tells
# invoke-rc.d not to start services. An existing policy-rc.d is left alone.
install_redis() {
  command -v apt-get >/dev/null 2>&1 || die "redis-server not found and no apt-get: install Redis 6+ yourself"
  local policy=/usr/sbin/policy-rc.d created=0 t0
  t0="$(now)"
  log "redis-server not found: installing Debian's redis-server (apt-get)"
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created=1
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
  if ((rc == 0)); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      redis-server redis-tools || rc=$?
  fi
  if ((created)); then
    as_root rm -f "$policy"
  fi
  ((rc == 0)) || die "apt-get failed (exit $rc) installing redis-server"
  log "installed redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') in $(elapsed "$t0")s"
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    install_redis
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after install"
}

cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

ping_ok() { [[ "$(cli ping 2>/dev/null)" == "PONG" ]]; }

running_pid() {
  local pid
  pid="$(read_pid "$PID_FILE")"
  if [[ -n "$pid" ]] && pid_alive "$pid" && pid_cmdline_has "$pid" "redis-server" \
    && pid_cmdline_has "$pid" ":${REDIS_PORT}"; then
    printf '%s' "$pid"
  fi
}

# pid listening on 127.0.0.1:PORT (empty if unknown).
listener_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

# Something else holds our port. If it is Debian's own system redis (started
# by the package's postinst or a service manager), stop it: the stack must
# talk to our instance. Anything else: refuse.
free_port_from_system_redis() {
  local pid sys_pid=""
  pid="$(listener_pid "$REDIS_PORT")"
  [[ -f "$SYSTEM_PID_FILE" ]] && sys_pid="$(read_pid "$SYSTEM_PID_FILE")"
  if [[ -n "$pid" && "$pid" == "$sys_pid" ]] \
    || { [[ -n "$pid" ]] && pid_cmdline_has "$pid" "redis-server" && [[ -z "$(running_pid)" ]] \
      && [[ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" == /var/lib/redis ]]; }; then
    warn "port ${REDIS_PORT} is held by the system redis-server (pid $pid); stopping it so our instance can run"
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      as_root systemctl stop redis-server || true
    elif command -v service >/dev/null 2>&1; then
      as_root service redis-server stop || true
    fi
    if pid_alive "$pid"; then
      as_root kill -TERM "$pid" 2>/dev/null || true
      local tries=0
      while pid_alive "$pid" && ((tries < 50)); do
        sleep 0.1
        tries=$((tries + 1))
      done
    fi
    port_open "$REDIS_PORT" && die "could not free port ${REDIS_PORT} from the system redis-server (pid $pid)"
    return 0
  fi
  die "port ${REDIS_PORT} on 127.0.0.1 is in use by another process${pid:+ (pid $pid)}; set FIRESTORM_REDIS_PORT"
}

write_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONF" <<EOF
# Generated by deploy/local/redis.sh on every start; edit the script, not this file.
bind 127.0.0.1
port ${REDIS_PORT}
protected-mode yes
daemonize yes
supervised no
pidfile ${PID_FILE}
logfile ${LOG_FILE}
loglevel notice
dir ${DATA_DIR}
save ""
# The append-only file keeps open incidents, the alert log and the dedupe markers
# through a Redis restart: an emptied Redis must never read as an all-clear.
appendonly ${APPENDONLY}
appendfsync everysec
databases 16
EOF
}

cmd_start() {
  ensure_stack_dir
  local pid t0 deadline
  ensure_redis
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid) on 127.0.0.1:${REDIS_PORT}"
    return 0
  fi
  rm -f "$PID_FILE"
  t0="$(now)"
  if port_open "$REDIS_PORT"; then
    free_port_from_system_redis
  fi
  write_config
  log "starting redis-server on 127.0.0.1:${REDIS_PORT}"
  redis-server "$CONF" || {
    [[ -s "$LOG_FILE" ]] && tail -n 20 "$LOG_FILE" >&2
    die "redis-server failed to start"
  }
  deadline=$(($(date +%s) + START_TIMEOUT))
  until ping_ok; do
    if (($(date +%s) >= deadline)); then
      [[ -s "$LOG_FILE" ]] && tail -n 20 "$LOG_FILE" >&2
      die "no PONG after ${START_TIMEOUT}s"
    fi
    pid="$(read_pid "$PID_FILE")"
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      [[ -s "$LOG_FILE" ]] && tail -n 20 "$LOG_FILE" >&2
      die "redis-server exited during startup"
    fi
    sleep 0.1
  done
  pid="$(running_pid)"
  [[ -n "$pid" ]] || die "something answers PING on ${REDIS_PORT} but it is not our redis-server (pid file ${PID_FILE})"
  log "ready in $(elapsed "$t0")s (pid $pid, $(cli info server | awk -F: '/^redis_version/ { print "redis " $2 }' | tr -d '\r'))"
  log "logs: ${LOG_FILE}"
}

cmd_stop() {
  local pid t0
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  t0="$(now)"
  log "stopping redis-server (pid $pid)"
  cli shutdown nosave >/dev/null 2>&1 || true
  stop_pid "$pid" "$STOP_TIMEOUT" "redis-server"
  rm -f "$PID_FILE"
  log "stopped in $(elapsed "$t0")s"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    log "stopped (state dir ${REDIS_HOME})"
    return 3
  fi
  if ping_ok; then
    log "running (pid $pid) on 127.0.0.1:${REDIS_PORT}: PONG"
    return 0
  fi
  log "running (pid $pid) but NOT answering PING on 127.0.0.1:${REDIS_PORT}"
  return 1
}

cmd_logs() { show_logs "$LOG_FILE" "${1:-}"; }

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "${2:-}" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

# Run unless sourced (tests source the script to call single functions).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
