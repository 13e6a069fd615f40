"""Officer actions that need no worker: feedback on an incident, read back from the stores.

Shared by the console (``f``) and the pages, so a verdict is recorded the same
way from both: the incident's record and its highest severity from the alert
store, the verdict and its audit entry into the action store.
"""

from __future__ import annotations

from typing import Any

from alerting.audit import AuditEntry
from alerting.feedback import VERDICTS, Feedback, verdict_label
from models.verdict import severity_rank
from streams.errors import FirestormError

__all__ = ["give_feedback"]


def give_feedback(alerts: Any, actions: Any, incident_id: str, verdict: str, by: str,
                  via: str, origin: str, now: float) -> Feedback:
    """Record ``by``'s verdict on an incident; FirestormError says what is wrong."""
    if verdict not in VERDICTS:
        raise FirestormError(f"choose one of: {', '.join(verdict_label(v) for v in VERDICTS)}")
    by = " ".join(by.split())[:80]
    if not by:
        raise FirestormError("type your name: feedback counts once per incident, and says"
                             " whose it is")
    record = alerts.incident(incident_id)
    if record is None:
        raise FirestormError(f"no incident {incident_id!r} (it may have expired)")
    timeline = alerts.timeline(incident_id)
    severity = max([record.severity, *(e.severity for e in (timeline.events if timeline
                                                             else ()))], key=severity_rank)
    feedback = Feedback(record.incident_id, record.entity_id, record.entity_name, severity,
                        verdict, by, now, via, origin)
    actions.add_feedback(feedback)
    actions.add_audit(AuditEntry(now, record.incident_id, "feedback", by, via, origin, verdict))
    return feedback
