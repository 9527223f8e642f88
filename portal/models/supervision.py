"""Supervision workflows (issue 16): list procedures with their timeline and documents, early
warnings, complaints counted by the warning rule, commitments and self-declared information.

What is public: only the credit record a list procedure publishes (``ListCase.record_lineage_id``,
through ``domain.disclosure.public_view``), commitments (海南 第九条), and self-declarations
after staff checked them. Proposals, defences, warnings and complaints are staff / subject only.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ListCase(Base):
    """One procedure putting a subject on the serious-dishonesty list or the red list."""

    __tablename__ = "list_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)  # SX-2027-0001 / HM-2027-0001
    kind: Mapped[str] = mapped_column(String(10))  # domain.lists.SERIOUS | RED
    origin: Mapped[str] = mapped_column(String(20), default="manual")  # manual | escalation
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)  # 事由 (staff and subject only until published)
    basis: Mapped[str] = mapped_column(Text, default="")  # 依据
    measures: Mapped[str] = mapped_column(Text, default="")  # 失信惩戒措施提示 / 激励措施
    public_summary: Mapped[str] = mapped_column(Text, default="")  # what the public list shows
    source_records: Mapped[list] = mapped_column(JSON, default=list)  # record ids behind the proposal
    proposed_on: Mapped[date] = mapped_column(Date)
    step_entered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    earliest_on: Mapped[date | None] = mapped_column(Date)
    defence: Mapped[str] = mapped_column(Text, default="")  # 陈述申辩 (never public)
    defence_on: Mapped[date | None] = mapped_column(Date)
    hearing_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_on: Mapped[date | None] = mapped_column(Date)
    report_due_on: Mapped[date | None] = mapped_column(Date)
    reported_on: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
    listed_until: Mapped[date | None] = mapped_column(Date)
    record_lineage_id: Mapped[int | None] = mapped_column(Integer, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ListEvent(Base):
    __tablename__ = "list_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("list_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    on: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(12), default="")
    to_state: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)


class ListDocument(Base):
    """A verifiable PDF of a list procedure (事先告知书, 认定决定书), numbered like the case
    documents (``services.verifiable.new_number``) and kept byte for byte."""

    __tablename__ = "list_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("list_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[int] = mapped_column(ForeignKey("list_events.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    verify_token: Mapped[str] = mapped_column(String(32))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("case_id", "kind", "event_id", name="uq_list_documents_case_kind_event"),)


class EarlyWarning(Base):
    """One warning raised by a rule (淮安 三（二）); ``key`` makes ``warnings run`` idempotent."""

    __tablename__ = "early_warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    raised_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    to_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_by: Mapped[str] = mapped_column(String(120), default="")
    close_note: Mapped[str] = mapped_column(Text, default="")


class Complaint(Base):
    """A complaint about a unit registered by staff (staff only; counted by the warning rule)."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Commitment(Base):
    """A credit commitment (海南 第九、十条; 阳山 四（一）), public with its fulfilment (践诺)."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    ctype: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    signed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    via: Mapped[str] = mapped_column(String(10))  # online | paper
    signer: Mapped[str] = mapped_column(String(120))  # who signed (legal representative's name)
    signer_acr: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | broken | withdrawn
    broken_record_id: Mapped[int | None] = mapped_column(Integer)
    broken_on: Mapped[date | None] = mapped_column(Date)
    record_lineage_id: Mapped[int | None] = mapped_column(Integer)  # the public record (type commitment)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SelfDeclaration(Base):
    """自主申报 (淮安 三（六）): submitted by the subject with a truthfulness commitment, checked by
    staff; public (marked "自主申报") only once checked."""

    __tablename__ = "self_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    submitted_by: Mapped[str] = mapped_column(String(120))
    submitted_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="submitted")  # submitted | verified | rejected
    checked_by: Mapped[str] = mapped_column(String(120), default="")
    checked_on: Mapped[date | None] = mapped_column(Date)
    check_note: Mapped[str] = mapped_column(Text, default="")
    record_lineage_id: Mapped[int | None] = mapped_column(Integer)  # the public record once verified
