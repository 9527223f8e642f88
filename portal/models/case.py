"""Objection (异议) and credit-repair (信用修复) cases, their timeline, evidence, the inbox,
and commission staff accounts.

A case stores the state the pure engine (``portal.domain.cases``) computed: the current step,
its entry day, the due date (stored once, "overdue" is derived), extension and clock stops. The
timeline (``case_events``) is append-only.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)  # YY-2026-000123 / XF-2026-000045
    kind: Mapped[str] = mapped_column(String(12))  # objection | repair
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    record_lineage_id: Mapped[int] = mapped_column(Integer, index=True)
    record_id: Mapped[int | None] = mapped_column(Integer)  # the version the application was about
    ground: Mapped[str] = mapped_column(String(40), default="")  # objection ground code
    statement: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(40))  # the step id
    received_on: Mapped[date] = mapped_column(Date)
    step_entered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    earliest_on: Mapped[date | None] = mapped_column(Date)  # public notice: first day to decide
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    stops: Mapped[list] = mapped_column(JSON, default=list)  # [[first, last], ...] of this step
    stop_from: Mapped[date | None] = mapped_column(Date)
    stop_reason: Mapped[str] = mapped_column(String(40), default="")
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(40), default="")
    outcome_reason: Mapped[str] = mapped_column(Text, default="")
    applicant_iss: Mapped[str] = mapped_column(String(300), default="")
    applicant_sub: Mapped[str] = mapped_column(String(255), default="")
    applicant_name: Mapped[str] = mapped_column(String(120), default="")
    applicant_via: Mapped[str] = mapped_column(String(20), default="")  # permissions.Via: self | legal_rep
    applicant_acr: Mapped[str] = mapped_column(String(100), default="")  # how the real name was checked
    # An open request for more material (补正材料): asked on, and what is asked for.
    materials_requested_on: Mapped[date | None] = mapped_column(Date)
    materials_request: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str] = mapped_column(String(6), default="")
    authority: Mapped[str] = mapped_column(String(120), default="")
    # SHA-256 of the public look-up code (services.progress); the code itself is never stored.
    lookup_code_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", back_populates="case")
    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.id", back_populates="case")
    documents: Mapped[list[CaseDocument]] = relationship(order_by="CaseDocument.id", back_populates="case")

    __table_args__ = (Index("ix_cases_kind_closed_due", "kind", "closed_on", "due_on"),)

    @property
    def open(self) -> bool:
        return self.closed_on is None


class CaseEvent(Base):
    """One line of a case's timeline; never updated or deleted."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    on: Mapped[date] = mapped_column(Date)  # the business day the act counts for
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40), default="")
    to_state: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    stop_from: Mapped[date | None] = mapped_column(Date)
    stop_until: Mapped[date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="events")


class Evidence(Base):
    """An uploaded file, stored outside static/ under a random name (PORTAL_VAR_DIR/evidence)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stage: Mapped[str] = mapped_column(String(12), default="filing")  # filing | supplement (补正材料)

    case: Mapped[Case] = relationship(back_populates="evidence")


class CaseDocument(Base):
    """A PDF issued for a case (the application, a result notice, the repair confirmation notice;
    湖南医保 附件1–4), kept byte for byte so that every download is the same document and its
    SHA-256 can be checked on the public verify page. Issued once per (case, kind, event)."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # services.case_documents.KINDS
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))  # the decision it records
    issued_on: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    verify_token: Mapped[str] = mapped_column(String(32))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    case: Mapped[Case] = relationship(back_populates="documents")

    __table_args__ = (Index("ix_case_documents_case_kind_event", "case_id", "kind", "event_id", unique=True),)


class Notification(Base):
    """The inbox: a subject's (``subject_id``) or a staff member's (``staff_id``) messages."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class StaffUser(Base):
    """A commission staff account: argon2 password hash, TOTP secret encrypted with the data key."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(Text)  # DataProtector-encrypted base32 secret
    roles: Mapped[list] = mapped_column(JSON, default=list)  # profile step roles
    authority: Mapped[str] = mapped_column(String(120), default="")
    region_code: Mapped[str] = mapped_column(String(6), default="")  # "" = whole jurisdiction
    # A providing unit of another channel (海南 第二十二条): "" official, association, third_party.
    channel: Mapped[str] = mapped_column(String(20), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The password was set by someone else (a reset or the generated first one): the owner must
    # choose their own before anything else (services.staff_passwords).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)  # a code is accepted once
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
