"""Server-side web sessions behind Flask's ``session`` API.

The cookie holds a random token; the database row is keyed by its SHA-256, so a copy of the
table does not yield usable cookies. Kept server-side so that

* the session id is rotated at login (``session.rotate()``, called by ``identity.set_identity``):
  a session id planted before login is worthless afterwards (session fixation);
* logout really ends the session (the row is deleted), not just the browser's copy;
* idle and absolute timeouts are enforced by the server (``PORTAL_SESSION_IDLE_MINUTES``,
  ``PORTAL_SESSION_MAX_HOURS``), whatever the browser does;
* the OIDC ``state``, ``nonce`` and PKCE verifier never travel in a cookie.

Anonymous visitors who never store anything get no row and no cookie (public pages stay
cacheable and cost no write).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response, current_app, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, or_, update
from werkzeug.datastructures import CallbackDict

from ..models import WebSession
from ..models.base import utcnow

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


def _sid(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_id(session) -> str:
    """The ``web_sessions.id`` of a request's session, "" when it has none stored yet."""
    token = getattr(session, "token", None)
    return _sid(token) if token else ""


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict | None = None, token: str | None = None,
                 created_at: datetime | None = None, last_seen_at: datetime | None = None):
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.modified = False
        self.rotate_requested = False
        self.expired = False  # the browser presented a session that timed out or was ended

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.token is None

    def rotate(self) -> None:
        """Issue a new session id when this response is saved; the old row is deleted."""
        self.rotate_requested = True
        self.modified = True


def _limits(app: Flask) -> tuple[timedelta, timedelta]:
    return (timedelta(minutes=float(app.config["PORTAL_SESSION_IDLE_MINUTES"])),
            timedelta(hours=float(app.config["PORTAL_SESSION_MAX_HOURS"])))


def _expired(row: WebSession, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
    return now - row.last_seen_at > idle or now - row.created_at > absolute


class DatabaseSessionInterface(SessionInterface):
    session_class = ServerSession

    def _sessions(self, app: Flask):
        return app.extensions["portal"].sessions()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not token or len(token) > 100:
            return ServerSession()
        now = utcnow()
        idle, absolute = _limits(app)
        with self._sessions(app) as db:
            row = db.get(WebSession, _sid(token))
            if row is not None and not _expired(row, now, idle, absolute):
                return ServerSession(dict(row.data or {}), token, row.created_at, row.last_seen_at)
            if row is not None:
                db.delete(row)
                db.commit()
        session = ServerSession()
        session.expired = True
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session.modified and session.token is None:
            if session.expired:
                response.delete_cookie(name, domain=domain, path=path)
            return
        # The request is over: release whatever the view left uncommitted (teardown would roll it
        # back anyway) so that this write does not wait on the request's own SQLite lock.
        request_db = g.get("db")
        if request_db is not None:
            request_db.rollback()
        now = utcnow()
        with self._sessions(app) as db:
            if session.token and (session.rotate_requested or not session):
                db.execute(delete(WebSession).where(WebSession.id == _sid(session.token)))
                if not session:
                    db.commit()
                    response.delete_cookie(name, domain=domain, path=path)
                    session.token = None
                    return
                session.token = None
            if session.token is None:
                if not session:
                    db.commit()
                    return
                if session.rotate_requested:
                    purge_expired(db, app, now)
                session.token = secrets.token_urlsafe(32)
                session.created_at = session.last_seen_at = now
                db.add(WebSession(id=_sid(session.token), data=dict(session), created_at=now, last_seen_at=now))
                db.commit()
                response.set_cookie(name, session.token, domain=domain, path=path,
                                    httponly=self.get_cookie_httponly(app), secure=self.get_cookie_secure(app),
                                    samesite=self.get_cookie_samesite(app))
                response.vary.add("Cookie")
                return
            values: dict = {}
            if session.modified:
                values["data"] = dict(session)
            if session.last_seen_at is None or now - session.last_seen_at > TOUCH_EVERY:
                values["last_seen_at"] = now
            if values:
                db.execute(update(WebSession).where(WebSession.id == _sid(session.token)).values(**values))
                db.commit()
        response.vary.add("Cookie")


def purge_expired(db, app: Flask | None = None, now: datetime | None = None) -> int:
    """Delete sessions past their idle or absolute timeout (also done lazily at each login)."""
    app = app or current_app
    now = now or utcnow()
    idle, absolute = _limits(app)
    result = db.execute(delete(WebSession).where(or_(WebSession.last_seen_at < now - idle,
                                                     WebSession.created_at < now - absolute)))
    return result.rowcount or 0
