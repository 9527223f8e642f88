"""Engine and session handling. Services receive a session and only flush; the request (or the
CLI command) commits once at the edge (STYLE.md: load → check → process, one commit)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .. import public_version  # noqa: F401  (registers the public-data-version session events)
from ..models import AuditEvent
from . import log_order, pooler


class AppendOnlyViolation(RuntimeError):
    pass


def make_engine(url: str) -> Engine:
    kwargs: dict = {"future": True, "hide_parameters": True}  # no personal data in logged SQL errors
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:  # behind pgbouncer in transaction mode: nothing prepared (issue #17, db.pooler)
        url, behind_pgbouncer = pooler.split(url)
        kwargs["connect_args"] = pooler.connect_args(behind_pgbouncer)
    engine = create_engine(url, **kwargs)
    log_order.install(engine)  # the index outbox's commit order (services.index_log)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def make_sessionmaker(engine: Engine, audit_key: bytes | None = None) -> sessionmaker[Session]:
    """Sessions carry the audit chain's HMAC key in ``session.info`` (``record_event`` and
    ``verify_chain`` read it there; it never goes into the database)."""
    info = {"audit_key": audit_key} if audit_key else {}
    return sessionmaker(bind=engine, expire_on_commit=False, future=True, info=info)


@event.listens_for(Session, "before_flush")
def _guard_audit(session: Session, _ctx, _instances) -> None:
    """Audit rows are append-only: refuse any update or delete through the ORM."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation("audit events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _guard_audit_bulk(state) -> None:
    """The same for ORM-enabled bulk update / delete statements on the audit model, which
    bypass the flush."""
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AppendOnlyViolation("audit events are append-only")
