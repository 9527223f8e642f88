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
