"""Public notices of commendation and typical cases (issue 16; 阳山 四（五）: 加大对守信行为的表彰和
宣传力度……及时曝光违背医疗卫生诚信要求的典型案例; 淮安 三（五）).

A notice links public credit records (typical dishonesty cases: their penalty records) or public
subjects (A-grade units of a year). The links are checked against the privacy boundary when the
notice is published and again on every public read: a link that is not public (any more) never
shows."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PublicNotice(Base):
    __tablename__ = "public_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # GS-2027-0001
    kind: Mapped[str] = mapped_column(String(20))  # commendation | typical_case
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    state: Mapped[str] = mapped_column(String(12), default="draft", index=True)  # draft | published | withdrawn
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(120), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by: Mapped[str] = mapped_column(String(120), default="")
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")


class PublicNoticeLink(Base):
    """One linked public record (``target = "record"``, ``ref`` its lineage id) or public subject
    (``target = "subject"``, ``ref`` its id), with a short label (e.g. "2026 年度 A 级")."""

    __tablename__ = "public_notice_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notices.id"), index=True)
    target: Mapped[str] = mapped_column(String(10))
    ref: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (UniqueConstraint("notice_id", "target", "ref", name="uq_public_notice_links"),)
