"""Append-only, hash-chained audit events (海南 第五十一条; 湖南 第三十三条).

No code path updates or deletes an audit row: the session guard in ``portal.db`` refuses it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


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

    __table_args__ = (Index("ix_audit_events_subject_action", "subject_id", "action"),)

    def payload(self) -> str:
        return json.dumps(
            [self.at.isoformat(timespec="microseconds"), self.actor, self.action, self.subject_id,
             self.object_ref, self.purpose, self.detail, self.prev_hash],
            ensure_ascii=False, sort_keys=True, default=str,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.payload().encode()).hexdigest()
