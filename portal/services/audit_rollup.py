"""Repeated failures (failed OIDC callbacks, failed staff logins) in bounded audit rows.

An attacker who fails 200 times must not write 200 audit rows. Per action, source (client
address + reason, or account + reason) and minute, the first failure is an audit event as before;
the following ones only increment a counter row (``audit_failure_counts``). Once the minute is
over, the next failure anywhere — or ``credit-portal audit checkpoint`` — turns each counter
that saw more than one failure into one ``<action>.repeated`` event carrying the count, and
deletes the counters. So every failure is accounted for in the chain, in at most two rows per
source and minute. Events that matter on their own (an account being locked) are written
with ``always=True``, outside the counting.

Lock order: counter rows first, the audit chain head last (``record_event``), as in every
other audited write, so two failures can never wait on each other in a cycle.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..models import AuditEvent, AuditFailureCount
from ..models.base import utcnow
from .audit import record_event

_counts = AuditFailureCount.__table__
WINDOW = timedelta(minutes=1)


def window_of(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def record_repeated(session: Session, actor: str, action: str, *, source: str, object_ref: str = "",
                    detail: dict | None = None, now: datetime | None = None,
                    always: bool = False) -> AuditEvent | None:
    """Account for one failure; returns the event when this one was written as an event."""
    now = now or utcnow()
    window = window_of(now)
    source = (source or "unknown")[:120]
    if always:
        flush_closed(session, before=window)
        return record_event(session, actor, action, object_ref=object_ref, detail=detail)
    count = _bump(session, action, source, window, actor[:120], now)
    flush_closed(session, before=window)
    if count != 1:
        return None
    return record_event(session, actor, action, object_ref=object_ref,
                        detail={**(detail or {}), "window": window.isoformat(timespec="minutes"),
                                "repeats_counted": True})


def _bump(session: Session, action: str, source: str, window: datetime, actor: str, now: datetime) -> int:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_counts).values(action=action, source=source, window_start=window, count=1, actor=actor,
                                  last_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[_counts.c.action, _counts.c.source, _counts.c.window_start],
                                      set_={"count": _counts.c.count + 1, "last_at": now})
    return session.execute(stmt.returning(_counts.c.count)).scalar_one()


def flush_closed(session: Session, before: datetime | None = None) -> int:
    """Summarise every counter of a minute before ``before`` (default: the current minute) into one
    ``<action>.repeated`` event when it counted more than the first failure; delete the counters.
    ``DELETE … RETURNING`` claims each counter once, whichever process flushes."""
    before = before or window_of(utcnow())
    claimed = session.execute(delete(_counts).where(_counts.c.window_start < before)
                              .returning(_counts.c.action, _counts.c.source, _counts.c.window_start,
                                         _counts.c.count, _counts.c.actor, _counts.c.last_at)).all()
    written = 0
    for row in sorted(claimed, key=lambda r: (r.window_start, r.action, r.source)):
        if row.count > 1:
            record_event(session, row.actor, f"{row.action}.repeated"[:60],
                         detail={"source": row.source, "window": row.window_start.isoformat(timespec="minutes"),
                                 "more": row.count - 1, "last_at": row.last_at.isoformat(timespec="seconds")})
            written += 1
    return written


def failure_total(session: Session, action: str) -> int:
    """How many failures of ``action`` the chain accounts for: events plus summarised repeats."""
    from sqlalchemy import select

    events = session.execute(select(AuditEvent.action, AuditEvent.detail)
                             .where(AuditEvent.action.in_([action, f"{action}.repeated"[:60]]))).all()
    return sum(1 if a == action else int(d.get("more", 0)) for a, d in events)
