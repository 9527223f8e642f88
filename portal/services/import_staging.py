"""The transaction structure of a file import: stage in committed batches, publish at once.

One transaction around a whole 50k-row import held SQLite's single write lock for its whole
run (83 s): every web write waited out the 30 s busy timeout and failed, and scan pages stalled.
Here every valid row is stored in ``import_staging`` (tagged with the import id) in short
transactions of ``BATCH`` rows, and only when every row of the file is valid are the staged rows
published into ``subjects`` / ``credit_records`` in one short transaction of bulk statements,
which the caller commits. The file is still all-or-nothing: until that commit nothing of it is
visible anywhere (staging rows are read by no page, search or API); a refused, failed or killed
import leaves only staging rows, which the next import deletes (``STALE_AFTER``).

The rules are not forked: subjects pass ``subjects.check_registration`` and
``subjects.identity_columns``, records ``records._validated`` (as in the bulk loader), and the
publish step re-checks what another writer may have changed meanwhile (a subject registered
with another kind).
"""
from __future__ import annotations

import json
import logging
import time
from datetime import date, timedelta
from uuid import uuid4

from sqlalchemy import bindparam, delete, func, insert, select, text, update

from .. import public_version
from ..models import CreditRecord, ImportStaging, IndexJob, Subject
from ..models.base import utcnow
from . import staff_guard
from .context import ServiceContext
from .errors import ServiceError
from .records import _validated
from .subjects import check_registration, identity_columns

log = logging.getLogger(__name__)

BATCH = 2000  # rows per staging transaction: a few ms of write lock each
STALE_AFTER = timedelta(minutes=5)  # a live import commits a batch every few seconds
CHUNK = 500  # values per IN (...) list
KIND_CONFLICT = "该证件号码已登记为另一类型的主体"
DATE_KEYS = ("decided_on", "publish_from", "publish_until", "birth_on")
SUBJECT_FIELDS = ("name", "category", "region_code")


def _dumps(values: dict) -> str:
    return json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()},
                      ensure_ascii=False)


def _loads(text: str) -> dict:
    values = json.loads(text)
    for key in DATE_KEYS:
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return values


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class StagedImport:
    """One import run. ``add`` validates a row (raising ``ServiceError``) and stages it;
    ``publish`` moves everything into the live tables (uncommitted; the caller commits) or
    returns row errors; ``discard`` drops the staged rows of a refused file.

    Errors found against the database (``errors``) are (row, field, message) triples."""

    def __init__(self, ctx: ServiceContext, batch: int = BATCH):
        self.ctx = ctx
        self.session = ctx.session
        self.import_id = uuid4().hex
        self.batch = batch
        self.records = 0
        self.errors: list[tuple[int, str, str]] = []
        self._kinds: dict[str, tuple[str, int]] = {}  # code_hash -> (kind, first row) of this file
        self._pending: list[tuple[int, str, str, dict]] = []  # (row, kind, code_hash, values)
        self.clean()
        self.session.commit()

    @property
    def subjects(self) -> int:
        return len(self._kinds)

    def clean(self) -> int:
        """Delete the staging rows of imports that died (killed, crashed or refused)."""
        cutoff = utcnow() - STALE_AFTER
        stale = (select(ImportStaging.import_id).where(ImportStaging.import_id != self.import_id)
                 .group_by(ImportStaging.import_id).having(func.max(ImportStaging.created_at) < cutoff))
        return self.session.execute(delete(ImportStaging).where(ImportStaging.import_id.in_(stale))).rowcount

    def add(self, row: int, values: dict, keep: bool = True) -> None:
        """Validate one parsed row with the service rules; stage it when ``keep`` (no error so far)."""
        ctx = self.ctx
        kind = values["subject_kind"]
        name = check_registration(ctx, kind=kind, name=values["subject_name"], category=values["category"],
                                  region_code=values["region_code"])
        identity = identity_columns(ctx, kind, values["subject_code"])
        record = _validated(ctx, record_type=values["record_type"], info_class=values["info_class"] or None,
                            severity=values["severity"] or None, title=values["title"],
                            content=values["content"], doc_no=values["doc_no"], authority=values["authority"],
                            decided_on=values["decided_on"], scope=values["scope"],
                            publish_from=values["publish_from"], publish_until=values["publish_until"],
                            public_summary=values["public_summary"],
                            ordinary_procedure=values["ordinary_procedure"])
        code_hash = identity["code_hash"]
        seen = self._kinds.get(code_hash)
        if seen is not None and seen[0] != kind:
            raise ServiceError(KIND_CONFLICT, "code")
        self.records += 1
        if seen is None:
            self._kinds[code_hash] = (kind, row)
            if keep:
                self._pending.append((row, "subject", code_hash, {**identity, "name": name,
                                                                 "category": values["category"],
                                                                 "region_code": values["region_code"]}))
        if keep:
            self._pending.append((row, "record", code_hash, {"code_hash": code_hash, **record}))
            if len(self._pending) >= self.batch:
                self.flush()

    def flush(self) -> None:
        """Stage the pending rows in one short committed transaction (after a read-only check
        of the subjects they name, so the write lock is held only for the insert)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        session = self.session
        hashes = sorted({h for _, kind, h, _ in pending if kind == "subject"})
        clash = set()
        for chunk in _chunks(hashes):
            clash |= {h for h, kind in session.execute(select(Subject.code_hash, Subject.kind)
                                                       .where(Subject.code_hash.in_(chunk)))
                      if kind != self._kinds[h][0]}
        self.errors.extend((row, "code", KIND_CONFLICT) for row, kind, h, _ in pending
                           if kind == "record" and h in clash)
        now = utcnow()
        session.execute(insert(ImportStaging), [
            {"import_id": self.import_id, "row_no": row, "kind": kind, "payload": _dumps(values), "created_at": now}
            for row, kind, _, values in pending])
        session.commit()

    def discard(self) -> None:
        self._pending = []
        self.session.rollback()
        self.session.execute(delete(ImportStaging).where(ImportStaging.import_id == self.import_id))
        self.session.commit()

    def publish(self) -> list[tuple[int, str, str]]:
        """Move the staged rows into the live tables in the current transaction (bulk
        statements, no per-row flush); the caller commits. Row errors instead if the database
        no longer allows them (then nothing is written)."""
        self.flush()
        if self.errors:
            return self.errors
        session = self.session
        incomplete = [(2, "", "暂存的导入数据不完整（可能被另一次导入清理），请重新导入")]
        # Read and decode our staged rows before the first write: on SQLite the write lock is
        # taken by the first writing statement and held to the commit, so only the bulk
        # statements below run under it.
        mine = ImportStaging.import_id == self.import_id
        staged: dict[str, tuple[int, dict]] = {}
        rows: list[dict] = []
        for row, kind, payload in session.execute(select(ImportStaging.row_no, ImportStaging.kind,
                                                         ImportStaging.payload).where(mine).order_by(ImportStaging.id)):
            values = _loads(payload)
            if kind == "subject":
                staged[values["code_hash"]] = (row, values)
            else:
                rows.append(values)
        if len(staged) != len(self._kinds) or len(rows) != self.records:
            session.rollback()
            return incomplete
        # The first write: from here on nobody can register one of these subjects between the
        # check and the insert (SQLite's lock; on PostgreSQL the unique code_hash refuses it).
        self.clean()
        locked_at = time.perf_counter()
        ids: dict[str, int] = {}
        changed: list[dict] = []
        errors = []
        for chunk in _chunks(list(staged)):
            for sid, h, kind, *fields in session.execute(
                    select(Subject.id, Subject.code_hash, Subject.kind, *(getattr(Subject, f) for f in SUBJECT_FIELDS))
                    .where(Subject.code_hash.in_(chunk))):
                row, values = staged[h]
                if kind != values["kind"]:
                    errors.append((row, "code", KIND_CONFLICT))
                    continue
                ids[h] = sid
                if any(values[f] != old for f, old in zip(SUBJECT_FIELDS, fields, strict=True)):
                    changed.append({"sid": sid, **{f"new_{f}": values[f] for f in SUBJECT_FIELDS}})
        if errors:
            session.rollback()
            return errors
        # The writes below go to the connection, past the session events of ``staff_guard``; the
        # staff caller's account and login are re-checked (and the account row locked) in this
        # transaction before them, not left to clean() happening to be an ORM statement.
        staff_guard.check(session)
        conn = session.connection()
        now = utcnow()
        subjects, records = Subject.__table__, CreditRecord.__table__
        if changed:  # register_subject updates the registration data of a known code the same way
            conn.execute(update(subjects).where(subjects.c.id == bindparam("sid"))
                         .values(updated_at=now, **{f: bindparam(f"new_{f}") for f in SUBJECT_FIELDS}), changed)
        new = [values for h, (_, values) in staged.items() if h not in ids]
        for values, sid in zip(new, _new_ids(conn, subjects, len(new)), strict=True):
            ids[values["code_hash"]] = sid
            values.update(id=sid, created_at=now, updated_at=now)
        if new:
            conn.execute(insert(subjects), new)
        for values, rid in zip(rows, _new_ids(conn, records, len(rows)), strict=True):
            values.update(id=rid, lineage_id=rid, subject_id=ids[values.pop("code_hash")], version=1,
                          is_current=True, status="active", created_by=self.ctx.actor, change_reason="",
                          created_at=now, updated_at=now)
        conn.execute(insert(records), rows)
        conn.execute(insert(IndexJob.__table__), [{"subject_id": sid, "reason": "import", "created_at": now}
                                                  for sid in sorted(set(ids.values()))])
        conn.execute(delete(ImportStaging.__table__).where(ImportStaging.__table__.c.import_id == self.import_id))
        public_version.mark(session)  # Core statements on the connection are invisible to the session events
        log.info("import %s: published %d subjects (%d new), %d records in %.2f s", self.import_id,
                 len(ids), len(new), len(rows), time.perf_counter() - locked_at)
        return []


def _new_ids(conn, table, n: int) -> list[int]:
    """``n`` fresh primary keys, so that ``lineage_id`` is known without a RETURNING round trip
    per row (SQLAlchemy runs an ordered RETURNING executemany row by row on SQLite). PostgreSQL:
    from the table's sequence, safe beside concurrent inserts; SQLite: after the largest id, safe
    because this transaction already holds the database's write lock."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                 {"t": table.name, "n": n}).scalars())
    first = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(first, first + n))
