"""Audit trail: every write and every view of non-public data (海南 第五十一条; 湖南 第三十三条).

The chain
---------
Every event stores the previous event's hash and its own: HMAC-SHA256 over its payload with the
audit key (``PORTAL_AUDIT_KEY``, or a key derived from ``PORTAL_DATA_KEY`` under its own label;
never stored in the database). Someone who can write the database but does not hold the key can
no longer edit an event and recompute the chain. Events written before the chain was keyed carry
``chain_version`` 0 and verify by the unkeyed SHA-256 rule they were written with; a version-0
event after a keyed one (or after the boundary a checkpoint recorded) is a downgrade and reported.

Serialised appends, at commit
-----------------------------
``record_event`` only queues the event on the session. When the transaction commits (or earlier,
when the same transaction reads the audit table, so it always sees its own events), ``seal``
updates the one-row chain head (``audit_head``) — that UPDATE is the lock — reads the previous
hash from it, hashes the queued events in order, inserts them and moves the head:

- PostgreSQL: a row lock held to the end of the transaction; a concurrent sealer waits on it and,
  under READ COMMITTED, its ``UPDATE … RETURNING`` then sees the head the first one committed.
- SQLite: Python's sqlite3 opens the transaction at the first write, so the UPDATE takes the
  database write lock (waiting up to the busy timeout) before the head is read — the effect of
  ``BEGIN IMMEDIATE`` without changing how any other transaction begins.

So parallel requests can no longer chain two events to the same predecessor (issue 12), ids are
allocated under the lock (id order is chain order), and the head is locked only for the commit
itself and as the transaction's last lock: a long transaction (``plates issue --all``, grading)
does not hold up other requests' audit events on PostgreSQL, and no lock cycle can form through
the head. Events of a savepoint that is rolled back are dropped with it; a transaction's events
are adjacent in the chain. ``at`` is when the event was recorded, so across transactions the
chain order is commit order, not always ``at`` order.

Checkpoints (``portal.services.audit_anchor``) anchor the head outside the database, so deleting
the newest events, or rewriting the whole chain, is detected too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from ..models import AuditEvent, AuditHead
from ..models.audit import KEYED, LEGACY
from ..models.base import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
PENDING = "audit_pending"  # session.info: [(owning transaction, event)] not yet chained

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
    """Queue one event on the session's transaction; it is chained and inserted when the
    transaction commits (see the module docstring: ``seal``)."""
    audit_key(session)  # a session without the key fails here, not at commit
    event = AuditEvent(at=utcnow(), actor=actor, action=action, subject_id=subject_id,
                       object_ref=object_ref, purpose=purpose, detail=detail or {},
                       prev_hash="", hash="", chain_version=KEYED)
    session.connection()  # the transaction the event belongs to has begun
    owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append((owner, event))
    return event


def seal(session: Session) -> int:
    """Chain and insert the session's queued events under the head lock; their number."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return 0
    key = audit_key(session)
    events = [event for _, event in pending]
    session.flush()  # everything else first: holding the head, this transaction waits for nothing
    head = session.execute(update(_head).where(_head.c.id == HEAD_ID).values(seq=_head.c.seq + len(events))
                           .returning(_head.c.hash)).first()
    if head is None:
        raise RuntimeError("audit_head is missing: run `credit-portal db upgrade`")
    prev = head.hash
    for event in events:
        event.prev_hash = prev
        event.hash = prev = event.compute_hash(key)
    session.add_all(events)
    session.flush()
    session.execute(update(_head).where(_head.c.id == HEAD_ID).values(last_id=events[-1].id, hash=prev))
    return len(events)


@sa_event.listens_for(Session, "before_commit")
def _seal_at_commit(session: Session) -> None:
    seal(session)


_AUDIT_TABLES = frozenset({AuditEvent.__table__, AuditHead.__table__})


@sa_event.listens_for(Session, "do_orm_execute")
def _seal_before_reading(state) -> None:
    """A transaction that reads the audit table sees its own events: seal them first."""
    if state.is_select and state.session.info.get(PENDING) and \
            _AUDIT_TABLES & set(find_tables(state.statement, check_columns=True, include_joins=True)):
        seal(state.session)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    """Events recorded in a transaction or savepoint that was rolled back never happened."""
    pending = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [(owner, e) for owner, e in pending if not _within(owner, previous_transaction)]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's transaction is over: committed (sealed) or not
        session.info.pop(PENDING, None)


def _within(owner, transaction) -> bool:
    while owner is not None:
        if owner is transaction:
            return True
        owner = owner.parent
    return False


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
