#!/usr/bin/env bash
# The demo: Kafka + Redis + a Firestorm worker, a sample stream with a storm in it,
# the alert arriving in this terminal, the console, the incident's timeline page,
# and the duty officer acknowledging from that page in Chromium.
# usage: demo.sh [start|stop]
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
"$here/test-tools.sh" install  # Debian's chromium, for the last step (acknowledge in a browser)
stop_pid "$state/worker.pid"

# Each run gets its own topics and consumer group, so a second demo starts from
# a clean slate instead of resuming the first one's baselines. A second shell
# needs the same names: they are written to $state/env (`source` it) and printed.
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
# The key that signs the /ack/ links in messages; made for this demo, kept beside its token.
if [[ ! -s "$state/link-key" ]]; then
  "$bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$state/link-key"
fi
FIRESTORM_LINK_KEY="$(cat "$state/link-key")"
export FIRESTORM_LINK_KEY

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

# The worker creates its topics; `firestorm produce` refuses a topic that does not
# exist (it would be created by the send and read by nobody), so wait for it.
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:${FIRESTORM_WEB_PORT:-6066}/health" >/dev/null 2>&1 && break
  kill -0 "$(cat "$state/worker.pid")" 2>/dev/null \
    || { echo "demo: the worker stopped; its log says:" >&2; tail -n 30 "$state/worker.log" >&2; exit 1; }
  sleep 0.3
done

# What a second shell needs to talk to this demo (`firestorm ack`, `console`, `silence`).
{
  echo "# source this file in a second shell to talk to the running demo"
  for name in FIRESTORM_APP_ID FIRESTORM_TOPIC_MENTIONS FIRESTORM_TOPIC_DEAD \
      FIRESTORM_TOPIC_OBSERVATIONS FIRESTORM_KAFKA_BOOTSTRAP FIRESTORM_REDIS_URL \
      FIRESTORM_PAGES_PORT FIRESTORM_PAGES_TOKEN FIRESTORM_LINK_KEY; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done
} >"$state/env"
chmod 600 "$state/env"

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

other=$("$bin/python" - "$incident" <<'PY'
import os
import sys
import time

from alerting.links import LinkClaim, sign_link
from alerting.store import open_store

others = [r for r in open_store(os.environ["FIRESTORM_REDIS_URL"]).open_incidents()
          if r.incident_id != sys.argv[1] and not r.acknowledged_by]
if others:
    claim = LinkClaim("ack", others[0].incident_id, time.time() + 4 * 3600,
                      f"demo-{time.time_ns()}", "demo")
    print(f"{others[0].incident_id} http://127.0.0.1:{os.environ['FIRESTORM_PAGES_PORT']}"
          f"/ack/{sign_link(os.environ['FIRESTORM_LINK_KEY'].encode(), claim)}")
PY
)

echo
echo "demo: in a second shell, talk to this demo with its topic names (written to $state/env):"
echo
sed -n 's/^export FIRESTORM_\(PAGES_TOKEN\|LINK_KEY\)=.*/export FIRESTORM_\1=<see the file>/;/^export/p' "$state/env" | sed 's/^/        /'
echo
echo "      e.g.  source $state/env && $bin/firestorm console"
if [[ -n "$other" ]]; then
  echo
  echo "demo: a message about ${other%% *} would carry a signed, single-use link (4 hours):"
  echo "        ${other#* }"
fi

echo
echo "demo: the duty officer acknowledges $incident from its incident page, in Chromium:"
if "$bin/python" "$here/demo_ack.py" --url "http://127.0.0.1:$FIRESTORM_PAGES_PORT" \
    --token-file "$state/pages-token" --incident "$incident" --by duty-officer \
    --screenshot "$state/ack-from-page.png"; then
  "$bin/firestorm" console --once | grep -B1 -A1 "acknowledged by duty-officer" \
    || echo "demo: the console does not show it yet; see $state/worker.log" >&2
else
  echo "demo: the acknowledgement from the page did not land; see $state/pages.log and" \
       "$state/worker.log" >&2
  exit 1
fi

cat <<EOF

demo: what is running, and where
  worker      pid $(cat "$state/worker.pid"), log $state/worker.log
              health http://127.0.0.1:${FIRESTORM_WEB_PORT:-6066}/health
  pages       http://127.0.0.1:$FIRESTORM_PAGES_PORT/  (token in $state/pages-token)
  Kafka, Redis: deploy/local/stack.sh status (logs under ${FIRESTORM_STACK_DIR:-$repo/.stack})
  topics      $FIRESTORM_TOPIC_MENTIONS, dead letters in $FIRESTORM_TOPIC_DEAD
  second shell source $state/env   (these topic names, the pages' token and link key)
  console     $bin/firestorm console      (live; 'a' acknowledges, 'f' rates, 'q' quits)
  stop it all make demo-stop
EOF
