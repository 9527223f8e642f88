"""The public data version: one value in ``portal_state`` that changes in the same transaction
as anything a public page shows (subjects, credit records, grades, plates, open cases, index
state).

Rendered public pages are cached per process under this version (``portal.web.page_cache``), so
a change committed anywhere (a staff request, the CLI, an import, another gunicorn worker)
retires them as soon as a process reads the new value. It is kept by session events, not by
each service verb, so a new write path cannot forget it: an ORM flush or a ``Session.execute``
INSERT / UPDATE / DELETE touching one of ``PUBLIC_TABLES`` marks the transaction, and
``before_commit`` writes a fresh random value. Writes on a bare connection (raw SQL, the bulk
loader's Core inserts) are not seen: call ``mark(session)``; the page cache's max-age bounds the
rest. The scan counters (``plate_scan_days``) are not public data and never change the version.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from itertools import chain

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from .models import State
from .models.base import utcnow

PUBLIC_TABLES = frozenset({"subjects", "credit_records", "grades", "plates", "cases", "portal_state"})
KEY = "public_version"
KEY_AT = "public_version_at"  # when it last changed (UTC, ISO 8601): the pages' "数据更新时间"
_MARK = "portal.public_version"  # session.info: True = changed, "written" = new value written

_READ = select(State.value).where(State.key == KEY)
_READ_AT = select(State.value).where(State.key == KEY_AT)
_local_commits = 0


def read(connection) -> str:
    """The current version ("" before the first change)."""
    return connection.execute(_READ).scalar() or ""


def changed_at(connection) -> datetime | None:
    """When the public data last changed (naive UTC), ``None`` before the first change."""
    value = connection.execute(_READ_AT).scalar()
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def local_commits() -> int:
    """How many commits in this process changed the version: a cache compares it to re-read the
    version at once after a change made here, instead of waiting for its next periodic read."""
    return _local_commits


def mark(session: Session) -> None:
    """The current transaction changed public data (for writes the events cannot see)."""
    if session.info.get(_MARK) != "written":
        session.info[_MARK] = True


def _write(connection) -> None:
    """A fresh random value (equality is all a reader needs). One UPSERT, so that two first
    writers cannot collide on the missing row; PostgreSQL's row lock orders concurrent writers.
    The time of the change goes with it (``changed_at``)."""
    for key, value in ((KEY, secrets.token_hex(8)), (KEY_AT, utcnow().isoformat(timespec="seconds"))):
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            if dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as upsert
            else:
                from sqlalchemy.dialects.postgresql import insert as upsert
            stmt = upsert(State).values(key=key, value=value)
            connection.execute(stmt.on_conflict_do_update(index_elements=[State.key], set_={"value": value}))
        elif connection.execute(update(State).where(State.key == key).values(value=value)).rowcount == 0:
            connection.execute(insert(State).values(key=key, value=value))


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context) -> None:
    if session.info.get(_MARK):
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        if getattr(obj, "__tablename__", None) in PUBLIC_TABLES:
            session.info[_MARK] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in PUBLIC_TABLES:
            mark(state.session)


@event.listens_for(Session, "before_commit")
def _write_on_commit(session: Session) -> None:
    session.flush()  # pending objects mark the transaction in after_flush
    if session.info.get(_MARK) is True:
        _write(session.connection())
        session.info[_MARK] = "written"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    global _local_commits
    if session.info.pop(_MARK, None) == "written":
        _local_commits += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)
