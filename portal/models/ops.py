"""Operational tables: the index outbox, the holiday override table, key/value state."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class IndexJob(Base):
    """Written in the same transaction as the change it reflects; drained by one writer."""

    __tablename__ = "index_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    # The job's place in the outbox log, in commit order (``services.index_log``): on SQLite the
    # id (one writer at a time); on PostgreSQL assigned at commit under a lock.
    seq: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_index_jobs_pending", "done_at", "id"), Index("ix_index_jobs_seq", "seq", unique=True))


class IndexCursor(Base):
    """How far one search node's own index has applied the outbox log (``index follow``)."""

    __tablename__ = "index_cursors"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class HolidayOverride(Base):
    """Staff-editable calendar entries for years chinesecalendar does not cover yet."""

    __tablename__ = "holiday_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[str] = mapped_column(String(80), default="system")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class State(Base):
    __tablename__ = "portal_state"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
