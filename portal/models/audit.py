"""Append-only, hash-chained audit events (海南 第五十一条; 湖南 第三十三条).

No code path updates or deletes an audit row: the session guard in ``portal.db`` refuses it.

Each event carries ``chain_version``: 0 for events written before the chain was keyed (plain
SHA-256 over the payload, kept verifiable as they were written), 1 for HMAC-SHA256 with the audit
key (``PORTAL_AUDIT_KEY``, kept outside the database). ``AuditHead`` is the one-row chain head
that serialises appends (``portal.services.audit.record_event``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

LEGACY, KEYED = 0, 1


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    object_ref: Mapped[str] = mapped_column(String(120), default="")
    purpose: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    chain_version: Mapped[int] = mapped_column(SmallInteger, default=KEYED, server_default="0")

    __table_args__ = (Index("ix_audit_events_subject_action", "subject_id", "action"),)

    def payload(self) -> str:
        return json.dumps(
            [self.at.isoformat(timespec="microseconds"), self.actor, self.action, self.subject_id,
             self.object_ref, self.purpose, self.detail, self.prev_hash],
            ensure_ascii=False, sort_keys=True, default=str,
        )

    def compute_hash(self, key: bytes | None = None) -> str:
        """The event's hash by its own version's rule: version 0 unkeyed SHA-256, version 1
        HMAC-SHA256 with ``key`` (required)."""
        if self.chain_version == LEGACY:
            return hashlib.sha256(self.payload().encode()).hexdigest()
        if not key:
            raise ValueError("a keyed audit event needs the audit key")
        return hmac.new(key, self.payload().encode(), hashlib.sha256).hexdigest()


class AuditHead(Base):
    """The chain head, one row (id 1): the last event's id and hash and the number of events.
    Every append locks this row first, so appends are serialised (PostgreSQL row lock; on
    SQLite the UPDATE takes the database write lock)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditFailureCount(Base):
    """Repeated failures (failed logins, failed OIDC callbacks) per action, source and minute:
    the first one is an audit event, the rest only count here until the window is summarised
    into one event (``portal.services.audit_rollup``)."""

    __tablename__ = "audit_failure_counts"

    action: Mapped[str] = mapped_column(String(60), primary_key=True)
    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    actor: Mapped[str] = mapped_column(String(120), default="")
    last_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_audit_failure_counts_window", "window_start"),)
