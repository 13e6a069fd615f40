"""``firestorm notify``: deliver alert events to people, per the escalation policy.

Reads the alert log (``firestorm:alerts:log``) with the consumer group
``firestorm-notify``, plans notifications with the pure planner, hands them
to the Redis journal in the same transaction that XACKs the entry (so a crash
never loses one), and delivers them through the webhook and email notifiers
with retries. Re-notifies unacknowledged critical incidents on a timer.
Logs key=value lines; never the text of a post.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from alerting.errors import AlertStoreUnavailable
from alerting.liveness import judge
from alerting.notifiers.action_links import ActionLinks
from alerting.notifiers.notification import Notification
from alerting.notifiers.planner import NotificationPlanner
from alerting.notifiers.policy import Channel, EscalationPolicy, WebhookChannel, parse_policy
from streams.errors import ConfigError
from streams.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from alerting.notifiers.outbox import Notifier
    from alerting.notifiers.planner import PlannerState
    from alerting.notifiers.redis_journal import RedisJournal
    from streams.metrics import Metrics

__all__ = ["add_parser", "run"]

log = logging.getLogger("firestorm.notify")

TICK_SECONDS = 30.0  # the re-notify timer runs at least this often (sooner when one is due)
LIVENESS_SECONDS = 10.0  # how often the heartbeats are judged for the dead-man alert


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "notify", help="send alerts to Slack/Teams webhooks and email, per the policy",
        description="Read alert events from Redis and notify the duty press officer as the"
                    " escalation policy says (routes by severity, quiet hours, re-notify of"
                    " unacknowledged critical incidents, one message per story). Sends a"
                    " dead-man alert when the worker or the mention feed goes silent."
                    " Failed deliveries are kept and retried on the next start. See"
                    " docs/notifications.md.")
    p.add_argument("--policy", metavar="FILE",
                   help="escalation policy YAML (default: FIRESTORM_NOTIFY_POLICY)")
    p.add_argument("--once", action="store_true",
                   help="handle the alerts waiting now, deliver them, then exit")
    p.add_argument("--max-seconds", type=float, default=0.0, metavar="S",
                   help="exit after S seconds (default: run until interrupted)")
    p.add_argument("--list-failed", action="store_true",
                   help="print the failed notifications (JSON, one a line) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    settings.configure_logging()
    if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("firestorm notify reads the alert log in Redis: set"
                          " FIRESTORM_REDIS_URL to a redis:// or rediss:// URL")
    policy = load_policy(args.policy or settings.notify_policy)
    return asyncio.run(_serve(args, settings, policy))


def load_policy(path: str) -> EscalationPolicy:
    """Read and parse the policy, then fill its ``${ENV_NAME}`` secrets."""
    if not path:
        raise ConfigError("no escalation policy: pass --policy FILE or set"
                          " FIRESTORM_NOTIFY_POLICY (see deploy/examples/notify-policy.yaml)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the escalation policy {path!r}: {exc.strerror}") from None
    policy = parse_policy(text, path)
    # Secrets named in the policy file are the one thing read from the environment
    # outside Settings: their names are the operator's choice, not ours.
    return policy.with_secrets(Settings.secrets(policy.secrets()))


def _notifier(channel: Channel, policy: EscalationPolicy,
              actions: ActionLinks | None = None) -> Notifier:
    if isinstance(channel, WebhookChannel):
        from alerting.notifiers.webhook import WebhookNotifier

        return WebhookNotifier(channel, link=policy.link, actions=actions)
    from alerting.notifiers.email import EmailNotifier

    return EmailNotifier(channel, link=policy.link, actions=actions)


def action_links(settings: Settings, policy: EscalationPolicy) -> ActionLinks | None:
    """Signed ack/feedback links for messages, when both the key and the pages' URL are set."""
    if policy.pages_url and settings.link_key:
        return ActionLinks(settings.link_key.encode(), policy.pages_url, policy.link_minutes)
    if policy.pages_url:
        log.warning("messages carry no acknowledge links: %s sets pages_url but"
                    " FIRESTORM_LINK_KEY is not set (use the same key as firestorm pages)",
                    policy.source)
    return None


async def _serve(args: argparse.Namespace, settings: Settings, policy: EscalationPolicy) -> int:
    from alerting.action_store import open_action_store
    from alerting.notifiers.outbox import Outbox
    from alerting.notifiers.redis_journal import RedisJournal
    from streams.metrics import Metrics
    from streams.probes import serve_probes

    options = {"ssl_ca_certs": settings.redis_ca} if settings.redis_ca else {}
    journal = RedisJournal(settings.redis_url, **options)
    # Silences are read fresh at every step: one set by an officer counts from the next event.
    silence_store = open_action_store(settings.redis_url, **options)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.max_seconds if args.max_seconds > 0 else None
    inflight: set[asyncio.Task[bool]] = set()
    metrics = Metrics("notify")
    redis_ok = [False]  # the last Redis call answered: readiness

    async def ready() -> tuple[bool, str]:
        return redis_ok[0], "Redis is not answering"

    def spawn(notifications: Iterable[Notification]) -> None:
        for n in notifications:
            task = loop.create_task(outbox.deliver(n), name=n.id)
            inflight.add(task)
            task.add_done_callback(_finished(inflight, metrics, n.channel))
        metrics.outbox_depth.set(len(inflight))

    probes = None
    if not (args.list_failed or args.once):  # a long-running notify is watched and probed
        probes = await serve_probes(metrics, ready, settings.notify_host, settings.notify_port)
    try:
        await journal.ensure_group()
        redis_ok[0] = True
        if args.list_failed:
            for failure in await journal.failed():
                print(json.dumps(failure.to_dict(), ensure_ascii=False))
            return 0
        links = action_links(settings, policy)
        outbox = Outbox({c.name: _notifier(c, policy, links) for c in policy.channels}, journal,
                        policy.retry)
        planner = NotificationPlanner(policy)
        state, waiting, failed = await recover(journal, redis_ok)
        spawn([*waiting, *failed])  # handed over before a stop or crash; failed last run
        log.info("notify started policy=%s channels=%d routes=%d renotify_min=%g pending=%d"
                 " replaying_failed=%d watching=%d", policy.source, len(policy.channels),
                 len(policy.routes), policy.renotify_critical_minutes, len(waiting),
                 len(failed), len(state.watching))
        backoff = 0.0
        started = time.time()
        judged = float("-inf")  # loop time of the last liveness check
        while deadline is None or loop.time() < deadline:
            try:
                silences = await asyncio.to_thread(silence_store.silences)
                new_state, due = planner.on_timer(state, time.time(), silences)
                if due:
                    await journal.commit(due, new_state)
                    spawn(due)
                state = new_state
                if loop.time() - judged >= LIVENESS_SECONDS:
                    state = await _dead_man(journal, planner, state, started,
                                            settings.silent_after, spawn)
                    judged = loop.time()
                wait = min(TICK_SECONDS, LIVENESS_SECONDS)
                next_due = planner.next_due(state)
                if next_due is not None:
                    wait = min(wait, max(0.05, next_due - time.time()))
                if deadline is not None:
                    wait = min(wait, max(0.001, deadline - loop.time()))
                entries = await journal.read(block_ms=1 if args.once else int(wait * 1000))
                if entries:  # the read may have waited: a silence set meanwhile counts
                    silences = await asyncio.to_thread(silence_store.silences)
                for stream_id, event in entries:
                    if isinstance(event, str):
                        log.warning("alert log entry skipped stream_id=%s reason=%s",
                                    stream_id, event)
                        await journal.commit([], None, [stream_id])
                        continue
                    new_state, planned = planner.on_event(state, event, time.time(), silences)
                    await journal.commit(planned, new_state, [stream_id])
                    state = new_state
                    metrics.alerts.labels("notify", event.event, event.severity).inc()
                    log.info("alert event stream_id=%s event_id=%s event=%s severity=%s"
                             " notifications=%d", stream_id, event.event_id, event.event,
                             event.severity, len(planned))
                    spawn(planned)
                backoff = 0.0
                redis_ok[0] = True
                metrics.outbox_depth.set(len(inflight))
                if args.once and not entries:
                    break
            except AlertStoreUnavailable as exc:
                redis_ok[0] = False
                backoff = min(max(backoff * 2, 0.5), 30.0)
                log.warning("redis failing retry_in=%.1fs error=%s", backoff, exc)
                await asyncio.sleep(backoff)
                journal.rewind()  # redo from the last acknowledged entry
                try:
                    state = await journal.load_state()
                except AlertStoreUnavailable:
                    continue
        if args.once:
            await asyncio.gather(*inflight, return_exceptions=True)
        else:  # unfinished deliveries stay in the journal's pending set for the next start
            for task in inflight:
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)
        log.info("notify stopped watching=%d", len(state.watching))
        return 0
    finally:
        if probes is not None:
            await probes.cleanup()
        await journal.close()
        silence_store.close()


async def recover(journal: RedisJournal, redis_ok: list[bool] | None = None,
                  max_backoff: float = 30.0) -> tuple[PlannerState, list[Notification],
                                                      list[Notification]]:
    """The planner's state, the deliveries handed over by the last run and the ones that
    failed: read again until Redis answers. Redis can go away between creating the
    consumer group and these reads; notify waits for it, as its main loop does, rather
    than die at start-up with the alerts of the last run undelivered."""
    backoff = 0.0
    while True:
        try:
            state = await journal.load_state()
            return state, await journal.pending(), await journal.requeue_failed()
        except AlertStoreUnavailable as exc:
            if redis_ok is not None:
                redis_ok[0] = False
            backoff = min(max(backoff * 2, 0.5), max_backoff)
            log.warning("redis failing at start-up retry_in=%.1fs error=%s", backoff, exc)
            await asyncio.sleep(backoff)


async def _dead_man(journal: RedisJournal, planner: NotificationPlanner, state: PlannerState,
                    started: float, silent_after: float,
                    spawn: Callable[[Iterable[Notification]], None]) -> PlannerState:
    """Judge the heartbeats; send the dead-man alert (or the all-clear) the policy asks for."""
    now = time.time()
    beats, history = await journal.liveness()
    new_state, alarms = planner.on_liveness(state, judge(beats, history, now, silent_after),
                                            now, started)
    if new_state != state:
        await journal.commit(alarms, new_state)
        for n in alarms:
            log.warning("dead-man alert id=%s channel=%s event=%s", n.id, n.channel,
                        n.event.event)
        spawn(alarms)
    return new_state


def _finished(inflight: set[asyncio.Task[bool]], metrics: Metrics,
              channel: str) -> Callable[[asyncio.Task[bool]], None]:
    def done(task: asyncio.Task[bool]) -> None:
        inflight.discard(task)
        metrics.outbox_depth.set(len(inflight))
        if not task.cancelled() and task.exception() is None:
            outcome = "delivered" if task.result() else "failed"
            metrics.notifications.labels(channel, outcome).inc()
        if not task.cancelled() and task.exception() is not None:
            # The journal could not record the outcome (Redis down): the notification
            # is still pending there and is delivered again on the next start.
            log.error("notification outcome not recorded id=%s error=%s", task.get_name(),
                      task.exception())
    return done
