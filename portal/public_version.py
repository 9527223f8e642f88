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

Scoped changes: when every public row a transaction changed belongs to known subjects (credit
records, grades, plates, cases: ``SCOPED_TABLES``, each with its ``subject_id``), the new value is
also written into those subjects' ``public_stamp``, and ``global_version`` stays as it was; any
other change (a subject row: its name shows on its employees' pages; a bulk statement; ``mark``)
moves ``global_version`` too. A cached page of subject S is then still right under a new version
if the global version and S's stamp are those it was built under (``web.page_cache``): an
objection filed about one hospital no longer re-renders every other hospital's QR page.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from itertools import chain

from sqlalchemy import DateTime, bindparam, event, insert, inspect, select, text, update
from sqlalchemy.orm import Session

from .models import State
from .models.base import utcnow

# grading_exclusions: an exclusion ends an older grade in force (services.indexing.grade_in_force)
PUBLIC_TABLES = frozenset({"subjects", "credit_records", "grades", "grading_exclusions", "plates", "cases",
                           "portal_state"})
SCOPED_TABLES = frozenset({"credit_records", "grades", "grading_exclusions", "plates", "cases"})  # with a subject_id
KEY = "public_version"
KEY_GLOBAL = "public_version_global"  # moves only with changes not scoped to known subjects
KEY_AT = "public_version_at"  # when it last changed (UTC, ISO 8601): the site's "数据更新时间"
KEY_GLOBAL_AT = "public_version_global_at"  # when the global version last moved (a subject page's time: subject_changed_at)
_MARK = "portal.public_version"  # session.info: True = changed, "written" = new value written
_SCOPE = "portal.public_version.subjects"  # session.info: subject ids, or None = not scoped

_READ = select(State.value).where(State.key == KEY)
_READ_AT = select(State.value).where(State.key == KEY_AT)
_local_commits = 0


def read(connection) -> str:
    """The current version ("" before the first change)."""
    return connection.execute(_READ).scalar() or ""


_READ_BOTH = select(State.key, State.value).where(State.key.in_((KEY, KEY_GLOBAL)))


def read_both(connection) -> tuple[str, str]:
    """(version, global version) in one query."""
    values = dict(connection.execute(_READ_BOTH).all())
    return values.get(KEY) or "", values.get(KEY_GLOBAL) or ""


def subject_stamp(connection, subject_id: int) -> str:
    """The version of the last change scoped to this subject ("" if none since 0016)."""
    return connection.execute(text("SELECT public_stamp FROM subjects WHERE id = :id"), {"id": subject_id}).scalar() or ""


def changed_at(connection) -> datetime | None:
    """When the public data last changed (naive UTC), ``None`` before the first change."""
    return parse_changed_at(connection.execute(_READ_AT).scalar())


def parse_changed_at(value: str | None) -> datetime | None:
    """The stored ``KEY_AT`` value as a naive UTC datetime; ``None`` if absent or unreadable."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def subject_changed_at(global_at: datetime | None, subject_at: datetime | None) -> datetime | None:
    """When one subject's public data last changed: a change scoped to it (its stamp's time,
    ``subjects.public_changed_at``) or one not scoped to any subject (``KEY_GLOBAL_AT``), the
    later of the two. Another subject's change moves neither: its page keeps its time, as its
    cached copy (kept under the same global version and stamp, ``web.page_cache``) does."""
    return max((t for t in (global_at, subject_at) if t is not None), default=None)


def data_time_value(changed: datetime | None, index_updated_at: str | None) -> str | None:
    """The "数据更新时间" as stored (UTC ISO): the data's change time, or before the first versioned
    change the time the search index was built (``index_updated_at``); ``None`` when neither is known.
    The one rule behind the site footer (``public_pages.data_changed_at``) and the subject pages
    (``public_page_read``)."""
    return changed.isoformat() if changed else index_updated_at


def read_options(connection) -> dict:
    """Execution options for a single read-only statement: on PostgreSQL ``AUTOCOMMIT``, so that
    psycopg sends no BEGIN before it and no ROLLBACK after it (two round trips saved; one
    statement is its own consistent snapshot). Nothing on other databases."""
    return {"isolation_level": "AUTOCOMMIT"} if connection.dialect.name == "postgresql" else {}


def local_commits() -> int:
    """How many commits in this process changed the version: a cache compares it to re-read the
    version at once after a change made here, instead of waiting for its next periodic read."""
    return _local_commits


def mark(session: Session) -> None:
    """The current transaction changed public data (for writes the events cannot see): a change
    not scoped to known subjects."""
    if session.info.get(_MARK) != "written":
        session.info[_MARK] = True
        session.info[_SCOPE] = None


def _scope(session: Session, obj) -> None:
    """Add ``obj``'s subject to the transaction's scope, or end the scoping."""
    scope = session.info.get(_SCOPE, set())
    if scope is None:
        return
    sid = getattr(obj, "subject_id", None) if obj.__tablename__ in SCOPED_TABLES else None
    moved = obj not in session.new and inspect(obj).attrs.subject_id.history.has_changes() if sid else False
    if not isinstance(sid, int) or moved:  # a row moved to another subject changes two pages
        session.info[_SCOPE] = None
        return
    scope.add(sid)
    session.info[_SCOPE] = scope


def _write(connection, subjects: set[int] | None = None) -> None:
    """A fresh random value (equality is all a reader needs). One UPSERT, so that two first
    writers cannot collide on the missing row; PostgreSQL's row lock orders concurrent writers.
    The time of the change goes with it (``changed_at``). ``subjects``: the change is scoped to
    them (their stamps take the value); ``None``: the global version moves too."""
    version = secrets.token_hex(8)
    now = utcnow().replace(microsecond=0)
    pairs = [(KEY, version), (KEY_AT, now.isoformat())]
    if subjects is None:
        pairs += [(KEY_GLOBAL, version), (KEY_GLOBAL_AT, now.isoformat())]
    else:
        ids = sorted(subjects)
        for i in range(0, len(ids), 500):
            connection.execute(text("UPDATE subjects SET public_stamp = :v, public_changed_at = :at WHERE id IN :ids")
                               .bindparams(bindparam("ids", expanding=True), bindparam("at", type_=DateTime)),
                               {"v": version, "at": now, "ids": ids[i:i + 500]})
    for key, value in pairs:
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
    if session.info.get(_MARK) and session.info.get(_SCOPE, set()) is None:
        return  # already changed beyond any scope
    for obj in chain(session.new, session.dirty, session.deleted):
        if getattr(obj, "__tablename__", None) in PUBLIC_TABLES:
            session.info[_MARK] = True
            _scope(session, obj)


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
        _write(session.connection(), session.info.get(_SCOPE))
        session.info[_MARK] = "written"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    global _local_commits
    session.info.pop(_SCOPE, None)
    if session.info.pop(_MARK, None) == "written":
        _local_commits += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)
    session.info.pop(_SCOPE, None)
