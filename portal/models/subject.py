"""Credit subjects: organisations (by USCC) and natural persons (by resident ID number)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)  # opaque, used in public URLs
    kind: Mapped[str] = mapped_column(String(10))  # vocab.SubjectKind
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Identity number: encrypted at rest, found by keyed hash, displayed masked (DOMAIN.md).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_cipher: Mapped[str] = mapped_column(Text)
    code_masked: Mapped[str] = mapped_column(String(32))
    # The USCC of an organisation is public registration information; persons have none here.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    licence_no: Mapped[str] = mapped_column(String(80), default="", index=True)
    licence_valid_until: Mapped[date | None] = mapped_column(Date)
    legal_rep: Mapped[str] = mapped_column(String(80), default="")
    birth_on: Mapped[date | None] = mapped_column(Date)  # persons only; minors are never published
    status: Mapped[str] = mapped_column(String(20), default="active")
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    source_key: Mapped[str | None] = mapped_column(String(40), unique=True)  # demo / import key
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # The public data version of the last change scoped to this subject (its records, grades,
    # plates, cases): a cached page of it stays valid across other subjects' changes
    # (``public_version``, ``web.page_cache``). Written on a bare connection, never by the ORM.
    public_stamp: Mapped[str | None] = mapped_column(String(16))
    # When that change was committed (naive UTC): the subject pages' "数据更新时间"
    # (``public_version.subject_changed_at``). Written with the stamp, never by the ORM.
    public_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    employer: Mapped[Subject | None] = relationship(remote_side=[id])

    __table_args__ = (Index("ix_subjects_kind_category_region", "kind", "category", "region_code"),)
