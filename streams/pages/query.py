"""The incident list's filters: parsed from the query string, applied to records.

Pure. A bad value raises :class:`QueryError`, whose message says what is
accepted; the list shows it above an empty table with status 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from alerting.timeline import IncidentRecord
from models.verdict import SEVERITIES

__all__ = ["STATES", "IncidentQuery", "QueryError"]

STATES = ("open", "resolved", "acknowledged", "unacknowledged")


class QueryError(ValueError):
    """A filter value the list cannot use; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class IncidentQuery:
    """Which incidents to list. Dates are UTC days, both ends included.

    An incident is in a date range when it was active on any of those days
    (opened on or before ``until`` and last seen on or after ``since``).

    >>> q = IncidentQuery.parse({"severity": "critical", "from": "2024-05-01"})
    >>> q.severity, q.since
    ('critical', datetime.date(2024, 5, 1))
    >>> IncidentQuery.parse({"state": "closed"})
    Traceback (most recent call last):
    ...
    streams.pages.query.QueryError: state 'closed': must be one of open, resolved, \
acknowledged, unacknowledged
    """

    entity: str | None = None
    severity: str | None = None
    state: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> IncidentQuery:
        def get(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value or None

        severity, state = get("severity"), get("state")
        if severity is not None and severity not in SEVERITIES:
            raise QueryError(f"severity {severity!r}: must be one of {', '.join(SEVERITIES)}")
        if state is not None and state not in STATES:
            raise QueryError(f"state {state!r}: must be one of {', '.join(STATES)}")
        query = cls(get("entity"), severity, state, _day(get("from"), "from"),
                    _day(get("to"), "to"))
        if query.since and query.until and query.since > query.until:
            raise QueryError(f"from {query.since} is after to {query.until}")
        return query

    def matches(self, record: IncidentRecord) -> bool:
        if self.entity is not None and record.entity_id != self.entity:
            return False
        if self.severity is not None and record.severity != self.severity:
            return False
        if self.state in ("open", "resolved") and record.status != self.state:
            return False
        if self.state == "acknowledged" and not record.acknowledged_by:
            return False
        if self.state == "unacknowledged" and record.acknowledged_by:
            return False
        start = record.opened_at if record.opened_at is not None else record.last_at
        if self.until is not None and _day_of(start) > self.until:
            return False
        end = record.resolved_at if record.resolved_at is not None else record.last_at
        return self.since is None or _day_of(max(end, record.last_at)) >= self.since

    def select(self, records: Iterable[IncidentRecord]) -> list[IncidentRecord]:
        return [r for r in records if self.matches(r)]

    def as_params(self) -> dict[str, str]:
        """The query string that gives this query back (for links and the form)."""
        out = {"entity": self.entity, "severity": self.severity, "state": self.state,
               "from": self.since and self.since.isoformat(),
               "to": self.until and self.until.isoformat()}
        return {k: v for k, v in out.items() if v}


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name} {text!r}: must be a date like 2024-05-01") from None


def _day_of(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()
