"""What every service verb needs: a session, the key material, the active profile, today, who acts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ..crypto import DataProtector


@dataclass
class ServiceContext:
    session: Session
    protector: DataProtector
    profile: Any  # portal.profiles.Profile
    today: date
    actor: str = "system"
    # Who asks (portal.permissions): a StaffUser, an Identity, or None for the operator's own
    # processes (command line, jobs). Verbs check it themselves.
    caller: Any = None
    # The staff caller's login (``web_sessions.id``), when the request came with one.
    web_session: str = ""

    def __post_init__(self) -> None:
        """A staff caller's writes commit only while the account is active and its login exists
        (``services.staff_guard``): re-checked inside each write's transaction, for every verb."""
        from ..models import StaffUser
        from .staff_guard import watch

        if isinstance(self.caller, StaffUser):
            watch(self.session, self.caller, self.web_session)
