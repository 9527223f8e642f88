"""Audit trail: every write and every view of non-public data (海南 第五十一条; 湖南 第三十三条).

The chain
---------
Every event stores the previous event's hash and its own: HMAC-SHA256 over its payload with the
audit key (``PORTAL_AUDIT_KEY``, or a key derived from ``PORTAL_DATA_KEY`` under its own label;
never stored in the database). Someone who can write the database but does not hold the key can
no longer edit an event and recompute the chain. Events written before the chain was keyed carry
``chain_version`` 0 and verify by the unkeyed SHA-256 rule they were written with; a version-0
event after a keyed one (or after the boundary a checkpoint recorded) is a downgrade and reported.

Serialised appends
------------------
``record_event`` first updates the one-row chain head (``audit_head``), then reads the previous
hash from it, inserts the event and moves the head. The UPDATE is the lock:

- PostgreSQL: a row lock held to the end of the transaction; a concurrent append waits on it and,
  under READ COMMITTED, its ``UPDATE … RETURNING`` then sees the head the first one committed.
- SQLite: Python's sqlite3 opens the transaction at the first write, so the UPDATE takes the
  database write lock (waiting up to the busy timeout) before the head is read — the effect of
  ``BEGIN IMMEDIATE`` without changing how any other transaction begins.

Event ids are allocated after the lock, so id order is chain order. The price: on PostgreSQL,
transactions that write audit events commit one at a time from their first audit event on, so
service verbs append their event as their last step (they all do).

Checkpoints (``portal.services.audit_anchor``) anchor the head outside the database, so deleting
the newest events, or rewriting the whole chain, is detected too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import AuditEvent, AuditHead
from ..models.audit import KEYED, LEGACY
from ..models.base import utcnow

GENESIS = "0" * 64
HEAD_ID = 1

_head = AuditHead.__table__


class AuditKeyMissing(RuntimeError):
    """A session made without the audit key (``portal.db.make_sessionmaker(audit_key=…)``)."""


def audit_key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if not key:
        raise AuditKeyMissing("this session carries no audit key (make it with Runtime.sessions)")
    return key


def record_event(session: Session, actor: str, action: str, *, subject_id: int | None = None,
                 object_ref: str = "", purpose: str = "", detail: dict | None = None) -> AuditEvent:
    """Append one event, chained to the previous one by HMAC; appends are serialised on the
    chain head (see the module docstring)."""
    key = audit_key(session)
    head = session.execute(update(_head).where(_head.c.id == HEAD_ID).values(seq=_head.c.seq + 1)
                           .returning(_head.c.seq, _head.c.hash)).first()
    if head is None:
        raise RuntimeError("audit_head is missing: run `credit-portal db upgrade`")
    event = AuditEvent(at=utcnow(), actor=actor, action=action, subject_id=subject_id,
                       object_ref=object_ref, purpose=purpose, detail=detail or {},
                       prev_hash=head.hash, chain_version=KEYED)
    event.hash = event.compute_hash(key)
    session.add(event)
    session.flush()
    session.execute(update(_head).where(_head.c.id == HEAD_ID).values(last_id=event.id, hash=event.hash))
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def verify_chain(session: Session, checkpoints: list | None = None) -> list[ChainProblem]:
    """Detect an altered, removed, reordered or downgraded event (``credit-portal audit verify``).

    ``checkpoints``: the valid signed checkpoints (``audit_anchor.read_checkpoints``); each must
    still match the event it names, which detects deleting the newest events and rewriting the
    chain. Without them only the database's own head is compared (an attacker can move it)."""
    key = audit_key(session)
    checkpoints = checkpoints or []
    legacy_until = min((c.legacy_until for c in checkpoints), default=None)
    by_id = {c.event_id: c for c in checkpoints if c.event_id}  # event 0: taken on an empty chain
    problems: list[ChainProblem] = []
    prev, keyed_seen, seq, last_id = GENESIS, False, 0, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000))
    for event in rows.scalars():
        seq += 1
        last_id = event.id
        if event.prev_hash != prev:
            problems.append(ChainProblem(event.id, "前一事件缺失或被替换（链接哈希不一致）"))
        if event.chain_version == LEGACY:
            if keyed_seen or (legacy_until is not None and event.id > legacy_until):
                problems.append(ChainProblem(event.id, "事件被改用旧的无密钥哈希重写（版本降级）"))
        elif event.chain_version != KEYED:
            problems.append(ChainProblem(event.id, "事件的哈希版本未知"))
        else:
            keyed_seen = True
        if event.chain_version in (LEGACY, KEYED) and event.compute_hash(key) != event.hash:
            problems.append(ChainProblem(event.id, "事件内容被修改（哈希不一致）"))
        checkpoint = by_id.get(event.id)
        if checkpoint is not None and (checkpoint.hash != event.hash or checkpoint.seq != seq):
            problems.append(ChainProblem(event.id, f"与 {checkpoint.at} 的检查点不一致：事件被改写或之前的事件被删除"))
        prev = event.hash
    present = set(by_id) & _existing_ids(session, by_id)
    for checkpoint in by_id.values():
        if checkpoint.event_id not in present:
            problems.append(ChainProblem(checkpoint.event_id,
                                         f"{checkpoint.at} 的检查点记录的事件已不存在（最新事件被删除）"))
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one_or_none()
    if head is not None and (head.last_id, head.hash, head.seq) != (last_id, prev, seq):
        problems.append(ChainProblem(head.last_id, "链头记录与最新事件不一致（最新事件被删除或链头被改动）"))
    return problems


def _existing_ids(session: Session, ids) -> set[int]:
    if not ids:
        return set()
    return set(session.execute(select(AuditEvent.id).where(AuditEvent.id.in_(list(ids)))).scalars())


def chain_head(session: Session) -> tuple[int, int, str, int]:
    """(seq, last event id, last hash, last legacy event id) as committed."""
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one()
    legacy_until = session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))
                                   .where(AuditEvent.chain_version == LEGACY)).scalar_one()
    return head.seq, head.last_id, head.hash, legacy_until
