"""The facility page's and the QR scan page's reads in ONE SQL statement (issue #17: "cold page
renders in ≤ 2 round trips": this statement plus the page cache's version check).

One row carries the subject (or the plate and its subject), and, as scalar subqueries: the
employer's name, the subject's current records, its open cases and its formal grade in force
(each as JSON: ``json_build_object`` / ``json_agg`` on PostgreSQL, ``json_object`` /
``json_group_array`` on SQLite, behind the two small functions below), the newest plate of a
reissued plate's line, and when the public data last changed. The rules are not here: the grade
in force is ``indexing.grade_in_force_query`` (the same statement ``latest_grade`` runs), the
open cases ``cases.open_cases_query``; what the public may see is decided afterwards, in Python,
by ``domain.disclosure.public_view`` / ``public_subject`` on the rows read here
(``services.public_pages``): the privacy boundary stays where it is. The subject's identity
number (cipher and hash) and the plate's QR matrix are never read.

On PostgreSQL the statement runs outside a transaction (``AUTOCOMMIT``) when the session has
none yet: one statement is its own consistent snapshot, and psycopg then sends neither BEGIN nor
ROLLBACK. The subject's ``public_stamp`` is read by the same statement as the content, as the
page cache requires (``web.page_cache``: a change during a build is never hidden).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from itertools import chain
from types import SimpleNamespace

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, bindparam, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .. import public_version
from ..models import Case, CreditRecord, Grade, Plate, State, Subject
from .cases import open_cases_query
from .grading import last_exclusion_year
from .indexing import grade_in_force_query
from .plates import MAX_CHAIN


class json_row(FunctionElement):
    """A JSON object from ``key, value, key, value, …`` (keys: literal column names)."""
    name = "json_row"
    inherit_cache = True


class json_rows(FunctionElement):
    """The aggregate: a JSON array of one ``json_row`` per row (NULL over no rows)."""
    name = "json_rows"
    inherit_cache = True


@compiles(json_row)
def _json_row(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_row, "postgresql")
def _json_row_pg(element, compiler, **kw):
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_rows)
def _json_rows(element, compiler, **kw):
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(json_rows, "postgresql")
def _json_rows_pg(element, compiler, **kw):
    return f"json_agg({compiler.process(element.clauses, **kw)})"


def _object(columns) -> json_row:
    # PostgreSQL takes at most 100 arguments (50 columns) per json_build_object
    return json_row(*chain.from_iterable((literal_column(f"'{c.key}'"), c) for c in columns))


_S = Subject.__table__
_P = Plate.__table__
_EMPLOYER = _S.alias("employer")
SUBJECT_COLUMNS = [c for c in _S.c if c.key not in ("code_cipher", "code_hash")]  # never the ID number
PLATE_COLUMNS = [c for c in _P.c if c.key not in ("qr_modules", "qr_url")]
RECORD_COLUMNS = list(CreditRecord.__table__.c)
GRADE_COLUMNS = [Grade.id, Grade.subject_id, Grade.year, Grade.letter, Grade.formal_on, Grade.computed_at]  # no explanation
CASE_COLUMNS = [Case.id, Case.record_lineage_id, Case.kind, Case.state, Case.due_on]
INDEX_UPDATED_AT = "index_updated_at"  # services.indexing's state key (the time before the first versioned change)


def _subject_parts() -> list:
    """Everything a page shows of the subject in the enclosing FROM (``subjects``), correlated."""
    records = (select(json_rows(_object(RECORD_COLUMNS)))
               .where(CreditRecord.subject_id == _S.c.id, CreditRecord.is_current.is_(True)))
    cases = open_cases_query(_S.c.id, json_rows(_object(CASE_COLUMNS))).order_by(None)  # ordered in Python
    grade = grade_in_force_query(_S.c.id, bindparam("year", type_=Integer), bindparam("today", type_=Date),
                                 _object(GRADE_COLUMNS))
    # why no grade is in force, if so (services.grading.grade_absence: the same statements' values)
    excluded = last_exclusion_year(_S.c.id, bindparam("year", type_=Integer),
                                   bindparam("today", type_=Date)).scalar_subquery()
    newest_grade = select(func.max(Grade.year)).where(Grade.subject_id == _S.c.id).scalar_subquery()
    state = {key: select(State.value).where(State.key == key).scalar_subquery()
             for key in (public_version.KEY_GLOBAL, public_version.KEY_GLOBAL_AT, INDEX_UPDATED_AT)}
    return [*(c.label(f"s_{c.key}") for c in SUBJECT_COLUMNS),
            select(_EMPLOYER.c.name).where(_EMPLOYER.c.id == _S.c.employer_id).scalar_subquery().label("employer"),
            records.scalar_subquery().label("records"), cases.scalar_subquery().label("cases"),
            grade.scalar_subquery().label("grade"),
            excluded.label("excluded_year"), newest_grade.label("newest_grade_year"),
            state[public_version.KEY_GLOBAL].label("global_version"),  # the public report's version key
            state[public_version.KEY_GLOBAL_AT].label("global_changed_at"),
            state[INDEX_UPDATED_AT].label("index_updated_at")]


def _plate_line():
    """The newest plate of the scanned plate's line (``plates.current_plate``: follow
    ``replaced_by_id``, at most ``MAX_CHAIN`` steps), as a JSON object."""
    later = _P.alias("later")
    line = (select(_P.c.id, _P.c.replaced_by_id.label("next_id"), literal_column("0", Integer).label("step"))
            .where(_P.c.token == bindparam("token")).cte("plate_line", recursive=True))
    line = line.union_all(select(later.c.id, later.c.replaced_by_id, line.c.step + literal_column("1", Integer))
                          .where(later.c.id == line.c.next_id, line.c.step < MAX_CHAIN))
    newest = _P.alias("newest")
    last = select(line.c.id).order_by(line.c.step.desc()).limit(1).scalar_subquery()
    return select(_object([newest.c.id, newest.c.plate_no, newest.c.token])).where(newest.c.id == last)


# Built once: the pages run them on every cache miss.
FACILITY = select(*_subject_parts()).where(_S.c.public_id == bindparam("public_id"))
SCAN = (select(*(c.label(f"p_{c.key}") for c in PLATE_COLUMNS), *_subject_parts(),
               _plate_line().scalar_subquery().label("current_plate"))
        .select_from(_P.join(_S, _S.c.id == _P.c.subject_id)).where(_P.c.token == bindparam("token")))


def _json(value):
    """A JSON column of the row: parsed by psycopg on PostgreSQL, text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def _typed(columns, obj: dict) -> dict:
    """A JSON object back to the column types (dates and times are ISO strings in JSON, booleans
    0/1 on SQLite)."""
    out = {}
    for c in columns:
        value = obj.get(c.key)
        if value is not None:
            if isinstance(c.type, DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(c.type, Date):
                value = date.fromisoformat(value)
            elif isinstance(c.type, Boolean):
                value = bool(value)
            elif isinstance(c.type, JSON) and isinstance(value, str):
                value = json.loads(value)
        out[c.key] = value
    return out


def _run(session, statement, params: dict):
    """The one row of ``statement``. On PostgreSQL, when the session has no transaction (and no
    pending change), on an AUTOCOMMIT connection: no BEGIN / ROLLBACK round trips; inside a
    caller's transaction it reads there (and sees the caller's own writes)."""
    bind = session.get_bind()
    if (bind.dialect.name != "postgresql" or session.in_transaction()
            or session.new or session.dirty or session.deleted):
        return session.execute(statement, params).first()
    session.connection(execution_options=public_version.read_options(bind))
    try:
        return session.execute(statement, params).first()
    finally:
        session.rollback()  # nothing to undo: hands the AUTOCOMMIT connection back before any write


def read_one(session, statement, params: dict):
    """The first row of a read-only ``statement`` of plain columns (no ORM entities: the session
    is rolled back after it on PostgreSQL), on the same path as the page's statement (``_run``)."""
    return _run(session, statement, params)


def _page(row) -> SimpleNamespace:
    m = row._mapping
    grade = _json(m["grade"])
    # this subject's data, not the last change anywhere: a page kept across another subject's
    # change shows the same time as a fresh one (public_version.subject_changed_at)
    changed = public_version.subject_changed_at(public_version.parse_changed_at(m["global_changed_at"]),
                                                m["s_public_changed_at"])
    return SimpleNamespace(
        subject={c.key: m[f"s_{c.key}"] for c in SUBJECT_COLUMNS},
        employer=m["employer"] or "",
        records=[_typed(RECORD_COLUMNS, r) for r in _json(m["records"]) or ()],
        open_cases=[(c["record_lineage_id"], c["kind"], c["state"], c["due_on"]) for c in sorted(
            (_typed(CASE_COLUMNS, c) for c in _json(m["cases"]) or ()), key=lambda c: c["id"])],
        grade=SimpleNamespace(**_typed(GRADE_COLUMNS, grade)) if grade else None,
        excluded_year=m["excluded_year"], newest_grade_year=m["newest_grade_year"],
        changed_at=changed, global_version=m["global_version"] or "",
        data_changed_at=public_version.data_time_value(changed, m["index_updated_at"]))  # "数据更新时间"


def facility_rows(session, public_id: str, today: date) -> SimpleNamespace | None:
    """What the facility page of ``public_id`` is built from, in one statement; ``None`` when no
    subject has this public id. Rows as read: the caller applies the privacy boundary."""
    if not (1 <= len(public_id or "") <= 16):
        return None
    row = _run(session, FACILITY, {"public_id": public_id, "year": today.year, "today": today})
    return _page(row) if row is not None else None


def scan_rows(session, token: str, today: date) -> SimpleNamespace | None:
    """The same for the QR scan page of the plate ``token``, plus the plate and the newest plate
    of its line; ``None`` when no plate has this token."""
    row = _run(session, SCAN, {"token": token, "year": today.year, "today": today})
    if row is None:
        return None
    page = _page(row)
    m = row._mapping
    page.plate = SimpleNamespace(**{c.key: m[f"p_{c.key}"] for c in PLATE_COLUMNS})
    current = _json(m["current_plate"])
    page.current_plate = SimpleNamespace(**current) if current else None
    return page
