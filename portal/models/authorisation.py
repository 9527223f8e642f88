"""Written authorisations (书面授权) and issued credit reports (信用报告).

A credit subject may let a named third party see its non-public information, for an agreed
purpose, within an agreed scope and period (海南 第二十七条; 征信业管理条例 第十八条). The
grantee's ID number / USCC is stored only as a keyed lookup hash plus its masked form.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .subject import Subject


class Authorisation(Base):
    __tablename__ = "authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    grantor_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    grantee_kind: Mapped[str] = mapped_column(String(10))  # vocab.SubjectKind: person / org
    grantee_hash: Mapped[str] = mapped_column(String(64), index=True)
    grantee_name: Mapped[str] = mapped_column(String(200))
    grantee_masked: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200))
    # Scope: the information classes (vocab.InfoClass) the grantee may see, and whether that
    # includes non-public records (shared / on-request scope, expired or repaired history).
    info_classes: Mapped[list] = mapped_column(JSON, default=list)
    include_non_public: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    grantor: Mapped[Subject] = relationship()

    __table_args__ = (Index("ix_authorisations_grantee_valid", "grantee_hash", "valid_until"),)

    def state(self, today: date) -> str:
        """``revoked``, ``pending`` (not yet valid), ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if today < self.valid_from:
            return "pending"
        if today > self.valid_until:
            return "expired"
        return "active"


class Report(Base):
    """One issued credit report. The PDF itself is not kept; its SHA-256 is, so that anyone
    holding a copy can check it against ``/verify/report/<report_no>``."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_no: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(120))  # actor
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    via: Mapped[str] = mapped_column(String(20))  # permissions.Via
    authorisation_id: Mapped[int | None] = mapped_column(ForeignKey("authorisations.id"))
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    verify_token: Mapped[str] = mapped_column(String(32))
    # A public credit report (services.public_report): the public data version and day it shows,
    # and its bytes (public data only), so that an unchanged organisation gets the same report.
    public_version: Mapped[str | None] = mapped_column(String(48))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)

    subject: Mapped[Subject] = relationship()

    __table_args__ = (Index("ix_reports_subject_public_version", "subject_id", "public_version", unique=True),)
