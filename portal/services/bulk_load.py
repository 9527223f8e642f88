"""Bulk load of generator output (benchmark datasets, first load of a province).

``load_demo`` goes through ``register_subject`` / ``add_record`` one row at a time: right for a
demo of 2,000 subjects, far too slow for 300,000. This loader inserts the same rows with
SQLAlchemy Core ``executemany`` in batches. The rules are not forked: identity columns come from
``subjects.identity_columns`` (encryption, lookup hash, masking, public id), every record passes
``records._validated`` (classes, severities, publication windows), grades come from
``grading.compute_grades``. The caller rebuilds the search index afterwards
(``indexing.rebuild``); no index jobs are written per row.

Ids are assigned here (max id + 1 ...) so that ``lineage_id`` and ``employer_id`` are known
without a round trip; on PostgreSQL the id sequences are moved past them at the end.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select, text

from .. import public_version
from ..demo.generator import iter_subjects
from ..models import CreditRecord, Subject
from ..models.base import utcnow
from .audit import record_event
from .context import ServiceContext
from .grading import compute_grades
from .records import _validated
from .subjects import identity_columns

BATCH = 5000


def _regions(profile) -> list[tuple[str, str, str]]:
    out = []
    for r in profile.leaf_regions():
        parent = profile.region(r.parent)
        out.append((r.code, r.name, parent.name if parent else r.name))
    return out


def bulk_load_demo(ctx: ServiceContext, n_subjects: int, seed: int, grade: bool = True,
                   progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Insert ``n_subjects`` generated subjects and their records; grade the last two years.

    Flushes in batches and leaves the commit to the caller (one commit at the edge)."""
    session = ctx.session
    conn = session.connection()
    next_subject = (session.execute(select(func.max(Subject.id))).scalar() or 0) + 1
    next_record = (session.execute(select(func.max(CreditRecord.id))).scalar() or 0) + 1
    first_subject = next_subject
    ids: dict[str, int] = {}
    subjects: list[dict] = []
    records: list[dict] = []
    now = utcnow()
    n_records = 0

    def flush() -> None:
        if subjects:
            conn.execute(insert(Subject), subjects)
        if records:
            conn.execute(insert(CreditRecord), records)
        if progress:
            progress(len(subjects))
        subjects.clear()
        records.clear()

    for subj, recs in iter_subjects(_regions(ctx.profile), n_subjects, seed, ctx.today, ctx.profile.authority):
        sid = next_subject
        next_subject += 1
        ids[subj["key"]] = sid
        employer_key = subj.get("employer_key")
        subjects.append({
            "id": sid, **identity_columns(ctx, subj["kind"], subj["code"]),
            "name": subj["name"].strip(), "category": subj["category"], "region_code": subj["region_code"],
            "address": subj.get("address") or "", "phone": subj.get("phone") or "",
            "licence_no": subj.get("licence_no") or "", "licence_valid_until": subj.get("licence_valid_until"),
            "legal_rep": subj.get("legal_rep") or "", "status": subj.get("status") or "active",
            "employer_id": ids.get(employer_key) if employer_key else None, "source_key": subj["key"],
            "created_at": now, "updated_at": now,
        })
        for r in recs:
            values = _validated(ctx, record_type=r["record_type"], info_class=r["info_class"],
                                severity=r.get("severity"), title=r["title"], content=r.get("content", ""),
                                doc_no=r.get("doc_no", ""), authority=r.get("authority", ""),
                                decided_on=r["decided_on"], scope=r["scope"], publish_from=r.get("publish_from"),
                                publish_until=r.get("publish_until"),
                                ordinary_procedure=r.get("ordinary_procedure"))
            rid = next_record
            next_record += 1
            records.append({"id": rid, "lineage_id": rid, "version": 1, "is_current": True, "subject_id": sid,
                            "status": r.get("status", "active"), "created_by": ctx.actor, "change_reason": "",
                            "created_at": now, "updated_at": now, **values})
            n_records += 1
        if len(subjects) >= BATCH:
            flush()
    flush()
    public_version.mark(session)  # Core inserts on the connection are invisible to the session events
    if conn.dialect.name == "postgresql":
        for table in ("subjects", "credit_records"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    grades = 0
    if grade:
        new_ids = list(range(first_subject, next_subject))
        for year in (ctx.today.year - 2, ctx.today.year - 1):
            grades += compute_grades(ctx, year, new_ids)
            session.expunge_all()
    record_event(session, ctx.actor, "demo.bulk_load",
                 detail={"subjects": len(ids), "records": n_records, "seed": seed})
    session.flush()
    return {"subjects": len(ids), "records": n_records, "grades": grades}
