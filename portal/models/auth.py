"""Login bindings and server-side web sessions.

A login binding ties an account at an identity provider, ``(iss, sub)``, to the portal: the
keyed hash of the identity number the provider asserted and, when one exists, the person's credit
subject. Web sessions live in the database so that the session id can be rotated at login and
revoked at logout; the cookie carries only a random token whose SHA-256 is the row id.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class LoginBinding(Base):
    __tablename__ = "login_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str] = mapped_column(String(300))
    sub: Mapped[str] = mapped_column(String(255))
    # Keyed lookup hash of the resident ID number first asserted for this account (never the number).
    person_hash: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    last_acr: Mapped[str] = mapped_column(String(120), default="")
    login_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("iss", "sub", name="uq_login_bindings_iss_sub"),)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_web_sessions_last_seen_at", "last_seen_at"),)
