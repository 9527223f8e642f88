"""The index outbox's commit order (``services.index_log``): every job gets its ``seq`` just
before its transaction commits.

SQLite has one writer at a time, so ``seq = id``. On PostgreSQL ids are handed out at INSERT
and transactions commit in any order, so a transaction that wrote jobs takes a transaction-level
advisory lock at commit and numbers them from ``index_log_seq``; the lock is held until its
COMMIT, so the numbers follow the order in which these transactions commit (only job-writing
commits queue on it, for one UPDATE). Installed on every engine by ``db.make_engine``: the
connection notes an INSERT into ``index_jobs`` (ORM adds and Core bulk inserts alike) and
numbers at commit.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

LOG_LOCK_KEY = 0x1DC0_0002  # pg_advisory_xact_lock key of the log numbering
_DIRTY = "portal.index_log.dirty"


def install(engine: Engine) -> None:
    @event.listens_for(engine, "after_cursor_execute")
    def _note_insert(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip()[:22].upper().startswith("INSERT INTO INDEX_JOBS"):
            conn.info[_DIRTY] = True

    @event.listens_for(engine, "commit")
    def _number_on_commit(conn) -> None:
        if not conn.info.pop(_DIRTY, False):
            return
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOG_LOCK_KEY})")
            conn.exec_driver_sql("UPDATE index_jobs SET seq = nextval('index_log_seq') WHERE seq IS NULL")
        else:
            conn.exec_driver_sql("UPDATE index_jobs SET seq = id WHERE seq IS NULL")

    @event.listens_for(engine, "rollback")
    def _forget_on_rollback(conn) -> None:
        conn.info.pop(_DIRTY, None)
