"""Who is logged in, bound to the Flask session: the login stores an ``Identity`` after a verified
real-name authentication; views and ``portal.permissions`` only ever read it through
``current_identity()``.

The pure parts (``Identity``, assurance levels, the audit actor form) live in
``portal.domain.identity`` and are re-exported here so existing imports keep working.
"""
from __future__ import annotations

from flask import session

from .domain.identity import (
    ACR_BY_NAME,
    ACR_FACE,
    ACR_LEVELS,
    ACR_PASSWORD,
    Identity,
    acr_satisfies,
    person_actor,
)

__all__ = ["ACR_BY_NAME", "ACR_FACE", "ACR_LEVELS", "ACR_PASSWORD", "SESSION_KEY", "Identity", "acr_satisfies",
           "clear_identity", "current_identity", "person_actor", "set_identity"]

SESSION_KEY = "identity"


def current_identity() -> Identity | None:
    data = session.get(SESSION_KEY)
    if not data:
        return None
    try:
        return Identity.from_dict(data)
    except TypeError:  # a session written by an older version
        session.pop(SESSION_KEY, None)
        return None


def set_identity(identity: Identity) -> None:
    session.clear()  # a fresh session at login: nothing from before survives
    _rotate()
    session[SESSION_KEY] = identity.to_dict()


def clear_identity() -> None:
    session.clear()
    _rotate()


def _rotate() -> None:
    """A new session id (server-side sessions, ``portal.auth.sessions``): a session id known
    before the login, or after the logout, is worthless."""
    rotate = getattr(session, "rotate", None)
    if rotate is not None:
        rotate()
