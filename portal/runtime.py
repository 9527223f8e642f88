"""Process-wide parts of a running portal: engine, sessions, keys, profile, search backend."""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from search_index import open_backend

from .crypto import DataProtector, audit_key, new_master_key
from .db import make_engine, make_sessionmaker
from .domain.workdays import WorkCalendar
from .profiles import Profile, load_profile
from .services.context import ServiceContext

CHINA_TZ = timezone(timedelta(hours=8))


class ConfigError(RuntimeError):
    pass


def _dev_secrets(var_dir: Path) -> dict:
    """Development keys, generated once and kept in PORTAL_VAR_DIR (never in production)."""
    path = var_dir / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    var_dir.mkdir(parents=True, exist_ok=True)
    secrets = {"PORTAL_SECRET_KEY": new_master_key(), "PORTAL_DATA_KEY": new_master_key()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(secrets, fh)
    return secrets


def resolve_secrets(settings: dict[str, str]) -> dict[str, str]:
    missing = [k for k in ("PORTAL_SECRET_KEY", "PORTAL_DATA_KEY") if not settings.get(k)]
    if not missing:
        return settings
    if settings["PORTAL_ENV"] == "production":
        raise ConfigError(f"生产环境必须配置 {', '.join(missing)}")
    dev = _dev_secrets(Path(settings["PORTAL_VAR_DIR"]))
    return {**settings, **{k: dev[k] for k in missing}}


@dataclass
class Runtime:
    settings: dict[str, str]
    profile: Profile
    protector: DataProtector
    sessions: sessionmaker[Session]
    _backend: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> Runtime:
        from .services import commitments, lists  # noqa: F401 - they register their record hooks (issue 16)

        settings = resolve_secrets(settings)
        profile = load_profile(settings["PORTAL_PROFILE"])
        engine = make_engine(settings["DATABASE_URL"])
        try:
            key = audit_key(settings.get("PORTAL_AUDIT_KEY", ""), settings["PORTAL_DATA_KEY"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        return cls(settings=settings, profile=profile, protector=DataProtector(settings["PORTAL_DATA_KEY"]),
                   sessions=make_sessionmaker(engine, audit_key=key))

    @property
    def engine(self):
        return self.sessions.kw["bind"]

    @property
    def backend(self):
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = open_backend(self.settings["SEARCH_URL"])
        return self._backend

    def close(self) -> None:
        """Release pooled connections: the database's and the search backend's (a PostgreSQL
        backend holds its own pool). Both reopen on next use."""
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()
        self.engine.dispose()

    def today(self) -> date:
        fixed = self.settings.get("PORTAL_TODAY")
        if fixed:
            return date.fromisoformat(fixed)
        return datetime.now(CHINA_TZ).date()

    def context(self, session: Session, actor: str = "system", caller=None, web_session: str = "") -> ServiceContext:
        return ServiceContext(session=session, protector=self.protector, profile=self.profile,
                              today=self.today(), actor=actor, caller=caller, web_session=web_session)

    def calendar(self, session: Session) -> WorkCalendar:
        from .services.calendar import load_calendar

        return load_calendar(session, self.profile)
