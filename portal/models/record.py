"""Credit records. Each row is one immutable version; a correction inserts a new version in the
same lineage and marks the old one superseded. Nothing is overwritten or deleted silently
(海南 第五十二条)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .subject import Subject


class CreditRecord(Base):
    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    lineage_id: Mapped[int | None] = mapped_column(Integer, index=True)  # id of the first version
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    record_type: Mapped[str] = mapped_column(String(40))
    info_class: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text, default="")
    # What public pages show instead of ``content`` when set (import column 公示摘要).
    public_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    doc_no: Mapped[str] = mapped_column(String(120), default="")
    authority: Mapped[str] = mapped_column(String(120), default="")
    decided_on: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(20))
    publish_from: Mapped[date] = mapped_column(Date)
    publish_until: Mapped[date | None] = mapped_column(Date)
    # 湖南 第十四条: only penalties under the ordinary procedure (普通程序) are 失信信息. True/False
    # for penalties; None when not recorded (records stored before 0007) or not a penalty.
    ordinary_procedure: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    change_reason: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    # 海南 第二十二条: the channel a record came in by ("" the health authorities; association
    # 行业协会, third_party 第三方信用服务机构), shown beside the record.
    source_channel: Mapped[str] = mapped_column(String(20), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    subject: Mapped[Subject] = relationship()

    __table_args__ = (
        Index("ix_credit_records_subject_current", "subject_id", "is_current"),
        Index("ix_credit_records_type_current", "record_type", "is_current"),
        Index("ix_credit_records_publish_until", "publish_until"),
    )
