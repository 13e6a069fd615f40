#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The whole local stack: Kafka (KRaft, one node) + Redis, on 127.0.0.1.
set -euo pipefail

LOG_TAG=stack
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA="${LOCAL_DIR}/kafka.sh"
REDIS="${LOCAL_DIR}/redis.sh"

usage() {
  cat <<EOF
Usage: $(basename "$0") {start|stop|status|smoke}

  start    start Redis and Kafka (idempotent), print where logs are
  stop     stop Kafka and Redis (idempotent)
  status   exit 0 only when both run and answer
  smoke    Kafka produce/consume round trip + Redis PING

Each service also has its own script: kafka.sh and redis.sh
({start|stop|status|logs}). Environment: see '$(basename "$KAFKA") --help'
and '$(basename "$REDIS") --help'. State dir: ${STACK_DIR}
EOF
}

cmd_start() {
  local t0
  t0="$(now)"
  "$REDIS" start
  "$KAFKA" start
  log "stack up in $(elapsed "$t0")s (state: ${STACK_DIR})"
  log "  Kafka: 127.0.0.1:${FIRESTORM_KAFKA_PORT:-9092}  logs: ${STACK_DIR}/kafka/logs/server.log  ($KAFKA logs -f)"
  log "  Redis: 127.0.0.1:${FIRESTORM_REDIS_PORT:-6379}  logs: ${STACK_DIR}/redis/redis.log  ($REDIS logs -f)"
  log "  stop with: $0 stop"
}

cmd_stop() {
  local rc=0
  "$KAFKA" stop || rc=1
  "$REDIS" stop || rc=1
  return "$rc"
}

cmd_status() {
  local kafka_rc=0 redis_rc=0
  "$KAFKA" status || kafka_rc=$?
  "$REDIS" status || redis_rc=$?
  if ((kafka_rc != 0)); then
    return "$kafka_rc"
  fi
  return "$redis_rc"
}

cmd_smoke() {
  "$KAFKA" smoke
  [[ "$(redis-cli -h 127.0.0.1 -p "${FIRESTORM_REDIS_PORT:-6379}" ping)" == PONG ]] \
    || die "Redis did not answer PING"
  log "redis PING -> PONG"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  smoke) cmd_smoke ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
