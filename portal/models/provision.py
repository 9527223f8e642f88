"""The providers' workspace (信息提供单位): drafts of single records awaiting 审核 and uploaded
files awaiting confirmation. Neither is a credit record: no page, search, API or index reads
these tables, so nothing here is public before a reviewer publishes it (海南 第二十二条: records
from other channels are reviewed before publication)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class RecordDraft(Base):
    __tablename__ = "record_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")  # draft | submitted | approved | rejected
    channel: Mapped[str] = mapped_column(String(20), default="")  # "" official, association, third_party
    authority: Mapped[str] = mapped_column(String(120), default="")
    region_code: Mapped[str] = mapped_column(String(6), default="")
    title: Mapped[str] = mapped_column(String(300), default="")  # for lists; the full form is in payload
    # The form's values as JSON, encrypted with the data key (it holds the subject's ID number).
    payload_cipher: Mapped[str] = mapped_column(Text)
    drafted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    record_id: Mapped[int | None] = mapped_column(Integer)  # the published record (lineage id)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_record_drafts_authority_state", "authority", "state"),)


class ProviderUpload(Base):
    __tablename__ = "provider_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(120))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    authority: Mapped[str] = mapped_column(String(120), default="")
    region_code: Mapped[str] = mapped_column(String(6), default="")
    state: Mapped[str] = mapped_column(String(20), default="checking")  # checking | ready | invalid | confirmed
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)  # estimate, for the progress bar
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    confirmed_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
