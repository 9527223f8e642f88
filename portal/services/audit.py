"""Audit trail: every write and every view of non-public data (海南 第五十一条; 湖南 第三十三条)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent
from ..models.base import utcnow

GENESIS = "0" * 64


def record_event(session: Session, actor: str, action: str, *, subject_id: int | None = None,
                 object_ref: str = "", purpose: str = "", detail: dict | None = None) -> AuditEvent:
    """Append one event, chained to the previous one by hash."""
    prev = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    event = AuditEvent(at=utcnow(), actor=actor, action=action, subject_id=subject_id,
                       object_ref=object_ref, purpose=purpose, detail=detail or {},
                       prev_hash=prev or GENESIS)
    event.hash = event.compute_hash()
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def verify_chain(session: Session) -> list[ChainProblem]:
    """Detect an altered, removed or reordered event (``credit-portal audit verify``)."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for event in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if event.prev_hash != prev:
            problems.append(ChainProblem(event.id, "前一事件缺失或被替换（链接哈希不一致）"))
        if event.compute_hash() != event.hash:
            problems.append(ChainProblem(event.id, "事件内容被修改（哈希不一致）"))
        prev = event.hash
    return problems
