"""Failed-login counters for the staff login's back-off (``services.staff``).

One row per throttle key: a client address, a username as typed, or the pair, each stored only
as a keyed hash (a username field sometimes holds a password typed in the wrong box).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class LoginThrottle(Base):
    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<kind>:<keyed hash>"
    failures: Mapped[int] = mapped_column(Integer, default=0)  # since the counter last reset
    refused: Mapped[int] = mapped_column(Integer, default=0)  # attempts answered "wait" (no audit row each)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
