"""Notices outside the portal (issue 14): how a login wants to be told (``NotifyContact``), and
the outbox of messages to send (``NoticeOutbox``), each sent once by ``credit-portal notify send``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class NotifyContact(Base):
    """One login's (iss, sub) channel choice: ``email`` (the default), ``sms`` or ``none`` (opted
    out). Addresses are personal data: stored encrypted with the data key, never logged."""

    __tablename__ = "notify_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str] = mapped_column(String(300))
    sub: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(10), default="email")  # email | sms | none
    email_enc: Mapped[str] = mapped_column(Text, default="")
    phone_enc: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("iss", "sub", name="uq_notify_contacts_login"),)


class NoticeOutbox(Base):
    """One message for one notice on one channel; the unique key makes "each notice once" a
    database fact. ``state``: pending → sent | skipped (opted out since) | failed (after retries)."""

    __tablename__ = "notice_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("notify_contacts.id"))
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("notification_id", "channel", name="uq_notice_outbox_once"),)


class NotifyContactSubject(Base):
    """A subject whose own notices a contact asked to be told about: written when the login saves
    its channel on ``/me`` for the subjects it manages then (itself, the organisation it legally
    represents), so that a notice that is not about a case (list procedures, warnings, issue 16)
    still finds the legal representative who never filed a case."""

    __tablename__ = "notify_contact_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("notify_contacts.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)

    __table_args__ = (UniqueConstraint("contact_id", "subject_id", name="uq_notify_contact_subjects"),)
