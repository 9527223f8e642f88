"""The index-job outbox as an ordered log, followed by each search node with its own cursor
(issue #17, layout 2: a tantivy index per web node, ``credit-portal index follow`` beside it).

Every change writes an ``IndexJob`` in its own transaction (``indexing.enqueue``). For a cursor to
be safe, a job's place in the log must follow *commit* order: a follower that has read up to
position P must never later see a job appear below P. ``seq`` gives that order:

* SQLite has one writer at a time, so ids are handed out in commit order: ``seq = id``.
* PostgreSQL hands out ids at INSERT, and transactions commit in any order. Just before a
  transaction that wrote jobs commits, it takes a transaction-level advisory lock and numbers its
  jobs from the ``index_log_seq`` sequence; the lock is held until its COMMIT, so numbers are
  taken in the order transactions commit (only job-writing commits queue on that lock, for the
  length of one UPDATE).

The numbering is ``db.log_order``, installed on every engine: ORM adds and Core bulk inserts
alike are numbered.

A follower applies jobs after its cursor in ``seq`` order, building documents from the database
as it is now (documents are keyed by the subject's public id, so applying one twice changes
nothing), and moves its cursor only after its index committed: a crash re-applies, never skips.
Jobs are pruned only when every registered node has passed them (``prune``); a node that leaves
for good is removed with ``forget`` (else the log grows, and ``index nodes`` shows its lag).
``prune`` is the only place jobs are deleted (the single-writer ``indexing.drain`` marks them done,
``expire`` adds them); in the same transaction it raises the prune watermark (``pruned_through``):
a reader that is not a registered node (the sharing feed, ``api_feed``) compares its cursor with
it to know whether jobs after its cursor are gone, instead of silently skipping them.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..models import IndexCursor, IndexJob, State, Subject

__all__ = ["IndexCursor", "follow_once", "forget", "head", "nodes", "prune", "pruned_through", "register"]
from ..models.base import utcnow

WATERMARK_KEY = "index_log_pruned_through"  # portal_state: the highest seq ever deleted


def head(session: Session) -> int:
    """The newest position in the log (0 when empty)."""
    return session.execute(select(func.coalesce(func.max(IndexJob.seq), 0))).scalar_one()


def register(session: Session, node: str, position: int | None = None) -> IndexCursor:
    """A node joins at ``position`` (default: the log's head now; the caller then rebuilds its
    index from the database, which covers everything up to there). Idempotent."""
    cursor = session.get(IndexCursor, node)
    if cursor is None:
        now = utcnow()
        cursor = IndexCursor(node=node, position=head(session) if position is None else position,
                             registered_at=now, updated_at=now)
        session.add(cursor)
        session.flush()
    return cursor


def forget(session: Session, node: str) -> bool:
    return session.execute(delete(IndexCursor).where(IndexCursor.node == node)).rowcount > 0


def follow_once(session: Session, node: str, backend, today: date, profile, limit: int = 2000) -> int:
    """Apply the jobs after ``node``'s cursor to ``backend``; returns how many jobs were passed."""
    from .indexing import build_documents

    cursor = session.get(IndexCursor, node)
    if cursor is None:
        raise LookupError(f"index node {node!r} is not registered")
    rows = session.execute(select(IndexJob.seq, IndexJob.subject_id).where(IndexJob.seq > cursor.position)
                           .order_by(IndexJob.seq).limit(limit)).all()
    if not rows:
        session.rollback()
        return 0
    subject_ids = sorted({sid for _, sid in rows})
    docs = build_documents(session, subject_ids, today, profile)
    public_ids = dict(session.execute(select(Subject.id, Subject.public_id).where(Subject.id.in_(subject_ids))).all())
    backend.upsert([d for d in docs.values() if d is not None])
    backend.delete([public_ids[sid] for sid, d in docs.items() if d is None and sid in public_ids])
    # only after the index committed: a crash before this line applies the same jobs again
    session.execute(text("UPDATE index_cursors SET position = :p, updated_at = :now WHERE node = :node"),
                    {"p": rows[-1][0], "now": utcnow(), "node": node})
    session.commit()
    return len(rows)


def prune(session: Session, keep_after: datetime | None = None) -> int:
    """Delete the jobs every registered node has passed (none while no node is registered), but
    none created at or after ``keep_after`` (nor any after those): feed consumers, which are no
    nodes, resume within that window (``PORTAL_FEED_KEEP_HOURS``) instead of resyncing."""
    low = session.execute(select(func.min(IndexCursor.position))).scalar_one()
    if low is None:
        return 0
    if keep_after is not None:
        recent = session.execute(select(func.min(IndexJob.seq)).where(IndexJob.created_at >= keep_after)).scalar_one()
        if recent is not None:
            low = min(low, recent - 1)
    # The newest job stays: SQLite numbers a job max(id) + 1 (``seq = id``), so an emptied table
    # would number the next job 1 again, below every cursor and the watermark.
    low = min(low, head(session) - 1)
    top = session.execute(select(func.max(IndexJob.seq)).where(IndexJob.seq <= low)).scalar_one()
    deleted = session.execute(delete(IndexJob).where(IndexJob.seq <= low)).rowcount
    if top is not None:
        _raise_watermark(session, top)
    session.commit()
    return deleted


def pruned_through(session: Session) -> int:
    """The highest ``seq`` ever deleted from the log (0: none yet). A cursor below it may have
    missed jobs; a cursor at or above it has missed none."""
    value = session.execute(select(State.value).where(State.key == WATERMARK_KEY)).scalar_one_or_none()
    return int(value) if value else 0


def _raise_watermark(session: Session, seq: int) -> None:
    """In the prune's own transaction, never lowered (two prunes may commit in any order). On the
    bare connection: the watermark is no public data, so the public version (``public_version``,
    which watches ORM writes to ``portal_state``) must not move with it."""
    conn = session.connection()
    params = {"k": WATERMARK_KEY, "v": str(seq), "n": seq}
    conn.execute(text("INSERT INTO portal_state (key, value) VALUES (:k, '0') ON CONFLICT (key) DO NOTHING"), params)
    conn.execute(text("UPDATE portal_state SET value = :v WHERE key = :k AND CAST(value AS BIGINT) < :n"), params)


def nodes(session: Session) -> list[dict]:
    """Every registered node: its position, how many jobs it has still to apply, when it moved."""
    top = head(session)
    out = []
    for c in session.execute(select(IndexCursor).order_by(IndexCursor.node)).scalars():
        behind = session.execute(select(func.count()).select_from(IndexJob)
                                 .where(IndexJob.seq > c.position)).scalar_one()
        out.append({"node": c.node, "position": c.position, "behind": behind, "head": top,
                    "updated_at": c.updated_at})
    return out
