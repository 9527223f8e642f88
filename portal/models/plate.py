"""QR identity plates (二维码身份牌, 淮安 三(七)) and their anonymous daily scan counts.

A plate row is never deleted: revocation and reissue change its status and link the successor,
so an old plate keeps answering with a banner that points to the current one.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .subject import Subject


class Plate(Base):
    __tablename__ = "plates"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate_no: Mapped[str] = mapped_column(String(32), unique=True)  # human: HN-430102-000123
    token: Mapped[str] = mapped_column(String(24), unique=True)  # opaque, signed; in the QR URL
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")  # domain.plates.PlateStatus
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoked_reason: Mapped[str] = mapped_column(String(20), default="")  # domain.plates.REVOKE_REASONS
    revoked_note: Mapped[str] = mapped_column(String(200), default="")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("plates.id"))
    created_by: Mapped[str] = mapped_column(String(120), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The QR code rendered once for ``qr_url`` (packed module matrix), never per scan.
    qr_url: Mapped[str] = mapped_column(String(300), default="")
    qr_modules: Mapped[str] = mapped_column(Text, default="")
    # The grade the plate was last printed with (when the profile prints one): a plate whose
    # printed grade is not the grade in force is offered for reprinting (issue #13).
    printed_grade: Mapped[str] = mapped_column(String(4), default="", server_default="")
    printed_grade_year: Mapped[int | None] = mapped_column(Integer)

    subject: Mapped[Subject] = relationship()
    replaced_by: Mapped[Plate | None] = relationship(remote_side=[id])

    __table_args__ = (Index("ix_plates_subject_status", "subject_id", "status"),)


class PlateScanDay(Base):
    """How often a plate was scanned on one day (China time). Nothing personal: no IP, no agent."""

    __tablename__ = "plate_scan_days"

    plate_id: Mapped[int] = mapped_column(ForeignKey("plates.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
