#!/usr/bin/env bash
# Run a command with the local Kafka broker and Redis up; stop them afterwards
# if this script started them, whether the command passed or failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  echo "usage: deploy/local/with-stack.sh COMMAND [ARGS...]" >&2
  echo "  starts Kafka and Redis (deploy/local/stack.sh), runs COMMAND, stops what it started" >&2
  exit 2
fi
started=0
if ! "$here/stack.sh" status >/dev/null 2>&1; then
  started=1
  trap '"$here/stack.sh" stop || true' EXIT
  "$here/stack.sh" start
fi
export FIRESTORM_KAFKA_BOOTSTRAP="127.0.0.1:${FIRESTORM_KAFKA_PORT:-9092}"
export FIRESTORM_REDIS_URL="redis://127.0.0.1:${FIRESTORM_REDIS_PORT:-6379}/0"
set +e
"$@"
status=$?
set -e
[[ $started -eq 1 ]] && echo "with-stack: stopping the services it started" >&2
exit $status
