#!/usr/bin/env bash
# The demo: Kafka + Redis + a Firestorm worker, a sample stream with a storm in it,
# and the alert arriving in this terminal.   usage: demo.sh [start|stop]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${FIRESTORM_STACK_DIR:-$repo/.stack}/demo"
bin="$repo/.venv/bin"
sample="$repo/deploy/examples/sample-mentions.jsonl"
mkdir -p "$state"

stop_worker() {
  if [[ -f "$state/worker.pid" ]] && kill -0 "$(cat "$state/worker.pid")" 2>/dev/null; then
    kill "$(cat "$state/worker.pid")" && echo "demo: worker stopped"
    for _ in $(seq 50); do kill -0 "$(cat "$state/worker.pid")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$state/worker.pid"
}

case "${1:-start}" in
  stop)
    stop_worker
    "$here/stack.sh" stop
    exit 0 ;;
  start) ;;
  *) echo "usage: deploy/local/demo.sh [start|stop]" >&2; exit 2 ;;
esac

"$here/stack.sh" start
stop_worker

# Each run gets its own topics and consumer group, so a second demo starts from
# a clean slate instead of resuming the first one's baselines.
run="demo-$(date +%Y%m%d-%H%M%S)"
export FIRESTORM_APP_ID="firestorm-$run"
export FIRESTORM_TOPIC_MENTIONS="mentions-$run"
export FIRESTORM_TOPIC_DEAD="mentions-dead-$run"
export FIRESTORM_TOPIC_OBSERVATIONS="observations-$run"
export FIRESTORM_DATA_DIR="$state/worker-data/$run"
export FIRESTORM_KAFKA_BOOTSTRAP="127.0.0.1:${FIRESTORM_KAFKA_PORT:-9092}"
export FIRESTORM_REDIS_URL="redis://127.0.0.1:${FIRESTORM_REDIS_PORT:-6379}/0"
export FIRESTORM_PSEUDONYM_KEY="${FIRESTORM_PSEUDONYM_KEY:-demo-key-not-for-production}"

echo "demo: starting a Firestorm worker (log: $state/worker.log)"
"$bin/firestorm" worker >"$state/worker.log" 2>&1 &
echo $! >"$state/worker.pid"

echo "demo: listening for alerts on Redis channel firestorm:alerts"
"$bin/firestorm" alerts --count 1 --timeout 180 >"$state/alerts.out" 2>&1 &
listener=$!
for _ in $(seq 50); do grep -q listening "$state/alerts.out" 2>/dev/null && break; sleep 0.1; done

echo "demo: feeding $(wc -l <"$sample") sample mentions (3 quiet hours, then a boycott storm"
echo "      on a partner of the Work Programme, and 5 malformed lines), retimed to end now"
"$bin/firestorm" produce --input "$sample" --retime
started=$(date +%s)

if wait "$listener"; then
  echo
  echo "demo: ALERT received $(( $(date +%s) - started ))s after the stream was fed:"
  echo
  grep -v '^listening' "$state/alerts.out"
else
  echo "demo: no alert within 180s; the worker log says:" >&2
  tail -n 30 "$state/worker.log" >&2
  exit 1
fi

cat <<EOF

demo: what is running, and where
  worker      pid $(cat "$state/worker.pid"), log $state/worker.log
              health http://127.0.0.1:${FIRESTORM_WEB_PORT:-6066}/health
  Kafka, Redis: deploy/local/stack.sh status (logs under ${FIRESTORM_STACK_DIR:-$repo/.stack})
  topics      $FIRESTORM_TOPIC_MENTIONS, dead letters in $FIRESTORM_TOPIC_DEAD
  more alerts $bin/firestorm alerts        (live, Ctrl-C to stop)
  stop it all make demo-stop
EOF
