"""Registered department clients of the government sharing API (海南 第二十五条; 湖南 第六、二十四条):
their hashed secrets, issued bearer tokens and the idempotency keys of their writes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ApiClient(Base):
    """One department's client: OAuth 2.0 client credentials, scopes, region, purpose (用途)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # the department (e.g. 长沙市医疗保障局)
    purpose: Mapped[str] = mapped_column(String(200))  # 用途: shown in 谁查看了我的信息
    secret_hash: Mapped[str] = mapped_column(String(200))  # argon2, like staff passwords
    scopes: Mapped[str] = mapped_column(String(300))  # space separated
    region_code: Mapped[str] = mapped_column(String(6), default="")  # "" = whole jurisdiction
    authority: Mapped[str] = mapped_column(String(120), default="")  # the unit whose records it writes
    rate_limit: Mapped[str] = mapped_column(String(40), default="120/minute")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ApiToken(Base):
    """An issued access token, stored as its SHA-256 (the token itself is never kept)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiIdempotency(Base):
    """The answer to a write sent with an ``Idempotency-Key``: the same key and body get the same
    answer again, never a second record."""

    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("client_pk", "key", name="uq_api_idempotency_client_key"),
                      Index("ix_api_idempotency_created", "created_at"))
