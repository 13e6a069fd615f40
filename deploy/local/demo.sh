#!/usr/bin/env bash
# The demo: Kafka + Redis + a Firestorm worker, a sample stream with a storm in it,
# the alert arriving in this terminal, the console, an acknowledgement and the
# incident's timeline page.   usage: demo.sh [start|stop]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${FIRESTORM_STACK_DIR:-$repo/.stack}/demo"
bin="$repo/.venv/bin"
sample="$repo/deploy/examples/sample-mentions.jsonl"
mkdir -p "$state"

stop_pid() {  # stop_pid PIDFILE: stop the demo process it names, if running
  if [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; then
    kill "$(cat "$1")" && echo "demo: stopped $(basename "$1" .pid)"
    for _ in $(seq 50); do kill -0 "$(cat "$1")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$1"
}

case "${1:-start}" in
  stop)
    stop_pid "$state/worker.pid"
    stop_pid "$state/pages.pid"
    "$here/stack.sh" stop
    exit 0 ;;
  start) ;;
  *) echo "usage: deploy/local/demo.sh [start|stop]" >&2; exit 2 ;;
esac

"$here/stack.sh" start
stop_pid "$state/worker.pid"

# Each run gets its own topics and consumer group, so a second demo starts from
# a clean slate instead of resuming the first one's baselines.
run="demo-$(date +%Y%m%d-%H%M%S)"
export FIRESTORM_APP_ID="firestorm-$run"
export FIRESTORM_TOPIC_MENTIONS="mentions-$run"
export FIRESTORM_TOPIC_DEAD="mentions-dead-$run"
export FIRESTORM_TOPIC_OBSERVATIONS="observations-$run"
export FIRESTORM_DATA_DIR="$state/worker-data/$run"
export FIRESTORM_WATCHLIST="$repo/deploy/examples/watchlist.yaml"
export FIRESTORM_KAFKA_BOOTSTRAP="127.0.0.1:${FIRESTORM_KAFKA_PORT:-9092}"
export FIRESTORM_REDIS_URL="redis://127.0.0.1:${FIRESTORM_REDIS_PORT:-6379}/0"
# The demo's alerts, incidents and dedupe keys from earlier runs would hide this
# run's (same sample, same incident ids): start the local Redis empty.
redis-cli -p "${FIRESTORM_REDIS_PORT:-6379}" flushdb >/dev/null
echo "demo: emptied the local Redis (database 0) for a clean run"
export FIRESTORM_PSEUDONYM_KEY="${FIRESTORM_PSEUDONYM_KEY:-demo-key-not-for-production}"

echo "demo: starting a Firestorm worker (log: $state/worker.log)"
"$bin/firestorm" worker >"$state/worker.log" 2>&1 &
echo $! >"$state/worker.pid"

# The timeline pages for comms leads, behind a token made for this demo.
export FIRESTORM_PAGES_PORT="${FIRESTORM_PAGES_PORT:-8088}"
if [[ ! -s "$state/pages-token" ]]; then
  "$bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$state/pages-token"
fi
FIRESTORM_PAGES_TOKEN="$(cat "$state/pages-token")"
export FIRESTORM_PAGES_TOKEN
stop_pid "$state/pages.pid"
"$bin/firestorm" pages >"$state/pages.log" 2>&1 &
echo $! >"$state/pages.pid"

echo "demo: listening for alerts on Redis channel firestorm:alerts"
"$bin/firestorm" alerts --count 1 --timeout 180 >"$state/alerts.out" 2>&1 &
listener=$!
for _ in $(seq 50); do grep -q listening "$state/alerts.out" 2>/dev/null && break; sleep 0.1; done

echo "demo: feeding $(wc -l <"$sample") sample mentions (a quiet day, then a boycott storm"
echo "      on a partner of the Work Programme, and 5 malformed lines), retimed to end now"
"$bin/firestorm" produce --input "$sample" --retime
started=$(date +%s.%N)

if ! wait "$listener"; then
  echo "demo: no alert within 180s; the worker log says:" >&2
  tail -n 30 "$state/worker.log" >&2
  exit 1
fi
echo
echo "demo: FIRST ALERT, $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')s after the stream was fed:"
echo
grep -v '^listening' "$state/alerts.out"

sleep 3  # let the storm's later minutes (escalation) land too
echo
echo "demo: the duty officer's console (firestorm console --once):"
echo
"$bin/firestorm" console --once

incident=$("$bin/python" - <<'PY'
import os

from alerting.store import open_store
from models.verdict import severity_rank

records = open_store(os.environ["FIRESTORM_REDIS_URL"]).open_incidents()
records = [r for r in records if r.entity_id == "acme-stores"] or records
print(max(records, key=lambda r: severity_rank(r.severity)).incident_id if records else "")
PY
)
[[ -n "$incident" ]] || { echo "demo: no open incident found in Redis" >&2; exit 1; }
echo
echo "demo: the officer acknowledges it: firestorm ack $incident --by duty-officer"
"$bin/firestorm" ack "$incident" --by duty-officer
for _ in $(seq 100); do
  "$bin/firestorm" console --once 2>/dev/null | grep -q "acknowledged by duty-officer" && break
  sleep 0.2
done
"$bin/firestorm" console --once | grep -B1 -A1 "acknowledged by duty-officer" \
  || echo "demo: the acknowledgement has not come back yet; see $state/worker.log" >&2

page="http://127.0.0.1:$FIRESTORM_PAGES_PORT/incidents/$incident"
for _ in $(seq 50); do
  curl -fsS -o "$state/incident.html" -H "Authorization: Bearer $FIRESTORM_PAGES_TOKEN" "$page" \
    2>/dev/null && break
  sleep 0.2
done
if grep -q "<svg" "$state/incident.html" 2>/dev/null; then
  echo
  echo "demo: the incident's timeline page (volume against its baseline band, negative"
  echo "      share, lifecycle events, top posts, JSON/CSV export) is at"
  echo "        $page"
  echo "      log in with the token in $state/pages-token"
else
  echo "demo: the timeline page did not answer; see $state/pages.log" >&2
fi

cat <<EOF

demo: what is running, and where
  worker      pid $(cat "$state/worker.pid"), log $state/worker.log
              health http://127.0.0.1:${FIRESTORM_WEB_PORT:-6066}/health
  pages       http://127.0.0.1:$FIRESTORM_PAGES_PORT/  (token in $state/pages-token)
  Kafka, Redis: deploy/local/stack.sh status (logs under ${FIRESTORM_STACK_DIR:-$repo/.stack})
  topics      $FIRESTORM_TOPIC_MENTIONS, dead letters in $FIRESTORM_TOPIC_DEAD
  console     $bin/firestorm console      (live; 'a' acknowledges, 'q' quits)
  stop it all make demo-stop
EOF
