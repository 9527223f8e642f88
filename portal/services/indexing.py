"""The index follows the database (DESIGN.md): every change writes an IndexJob in the same
transaction; one writer drains the queue into the search backend; rebuild starts from the DB.

The backend only ever receives dicts built from ``public_view`` / ``public_subject``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session

from ..domain.disclosure import public_subject, public_view
from ..domain.risk import risk_summary, search_rank
from ..domain.vocab import SubjectKind
from ..models import CreditRecord, Grade, GradingExclusion, IndexJob, State, Subject
from ..models.base import utcnow

TITLES_PER_DOC = 8
_WRITER_LOCK_KEY = 0x1DC0_0001  # pg_advisory_xact_lock key of the index writer


def enqueue(session: Session, subject_id: int, reason: str = "") -> None:
    session.add(IndexJob(subject_id=subject_id, reason=reason))


def exclusion_in_effect(year, today):
    """An exclusion that has taken effect: its period has ended (before ``year``), or it was made
    effective earlier (a rolling profile's running period, ``GradingExclusion.effective_on``)."""
    return or_(GradingExclusion.year < year, GradingExclusion.effective_on <= today)


def grade_published(year, today):
    """A formal grade the public may see: one for a year before this one (湖南 第十八条: the
    previous year's result), or a formal result of a rolling evaluation from the day it became
    formal (湖南医保 第十六、十九条). Only formal results are ever written to ``grades``; this keeps
    a row of the running year (or one dated later) away until its day. The public grade history
    (``services.api_data.read_grades``) lists exactly these; :func:`grade_in_force` picks the one
    in force among them."""
    return or_(Grade.year < year, Grade.formal_on <= today)


def grade_in_force(year, today):
    """A grade is in force: one for a year before this one (湖南 第十八条), or a formal result of a
    rolling evaluation from the day it became formal (湖南医保 第十六、十九条). Only formal results
    are ever written to ``grades`` (services.grading_cycle); preliminary ones never are.

    An exclusion ends an older grade (湖南 第十八条 "评价周期为一年，于每年定期确定上一年度信用评定
    结果，根据有关规定不参加本期评价的除外"): a grade is the result of one yearly period and stands
    until the next period's result; a subject that did not take part in a later, finished period
    (exclusion year after the grade's and before this one) has no result for it, so no grade is in
    force — its public page says it was not evaluated (``grading.grade_absence``) and a 双随机 draw
    counts it 未评级. No other profile's document lets an older result stand for a period it was not
    evaluated in (海南 第二十八条、第三十条, 阳山 四（三）, 淮安 三（三） grade each year; 湖南医保
    第十六条 is a dynamic evaluation). Under a yearly profile an exclusion for the year still running
    does not end last year's grade: that year's result is determined only next year. Under a rolling
    profile (湖南医保 第十六条 动态考评) the result is today's, so the exclusion takes effect the day it
    is decided (``effective_on``, ``domain.grading_cycle.exclusion_effective_on``)."""
    later_exclusion = (select(GradingExclusion.id)
                       .where(GradingExclusion.subject_id == Grade.subject_id, GradingExclusion.year > Grade.year,
                              exclusion_in_effect(year, today))
                       .correlate(Grade).exists())
    return and_(grade_published(year, today), ~later_exclusion)


def grade_in_force_query(subject_id, year, today, *columns):
    """The formal grade in force of one subject (:func:`grade_in_force`, the newest first) as a
    statement: ``subject_id`` a value, bind parameter or a correlated column (the public page's
    one-statement read, ``services.public_page_read``); ``columns``: what to select (the row)."""
    return (select(*(columns or (Grade,))).where(Grade.subject_id == subject_id, grade_in_force(year, today))
            .order_by(Grade.year.desc()).limit(1))


_LATEST_GRADE = grade_in_force_query(bindparam("subject_id"), bindparam("year"), bindparam("today"))  # built once


def latest_grade(session: Session, subject_id: int, today: date) -> Grade | None:
    """The formal grade in force (see :func:`grade_in_force`), the newest first."""
    return session.execute(_LATEST_GRADE, {"subject_id": subject_id, "year": today.year,
                                           "today": today}).scalar_one_or_none()


def grades_in_force(session: Session, subject_ids: Iterable[int], today: date) -> dict[int, Grade]:
    """:func:`latest_grade` for many subjects in one query: {subject id: formal grade in force}.
    The 双随机 strata (services.draws) and the grading cycle read grades through this, so a draw
    sees exactly the grade the public page shows (湖南医保 第十六、二十条)."""
    ids = list(subject_ids)
    out: dict[int, Grade] = {}
    if not ids:
        return out
    for g in session.execute(select(Grade).where(Grade.subject_id.in_(ids), grade_in_force(today.year, today))
                             .order_by(Grade.year, Grade.id)).scalars():
        out[g.subject_id] = g  # ascending: the newest wins
    return out


def subject_document(subject: Subject, records: Iterable[CreditRecord], grade: Grade | None,
                     today: date, region_name: str = "", employer_name: str = "", *, profile) -> dict | None:
    """The search document of one subject, from public views only; ``None`` = not searchable."""
    view = public_subject(subject, today, employer_name)
    if view is None:
        return None
    public = [v for v in (public_view(r, today, subject.birth_on, profile=profile) for r in records) if v is not None]
    if subject.kind == SubjectKind.PERSON and not public:
        return None  # a person is searchable only through public records about them
    public.sort(key=lambda v: v["decided_on"], reverse=True)
    codes = [c for c in (view["credit_code"], view["licence_no"]) if c]
    ends = [v["publish_until"] for v in public if v["publish_until"]]
    risk = risk_summary(view, public, today)
    return {
        "id": subject.public_id,
        "kind": subject.kind,
        "name": view["name"],
        "codes": codes,
        "category": view["category"],
        "category_label": view["category_label"],
        "region_code": view["region_code"],
        "region_name": region_name,
        "address": view["address"],
        "grade": grade.letter if grade else "",
        "grade_year": grade.year if grade else None,
        "record_types": sorted({v["record_type"] for v in public}),
        "titles": [v["title"] for v in public[:TITLES_PER_DOC]],
        "status": view["status"],
        "url": f"/facility/{subject.public_id}",
        "updated_on": today.isoformat(),
        # the first day the document is stale because a window ended (defence in depth)
        "stale_after": min(ends).isoformat() if ends else "",
        "risk": risk,  # what a hit says first (issue #13)
        "risk_rank": search_rank(risk, grade.letter if grade else ""),
    }


def _region_name(profile, code: str) -> str:
    region = profile.region(code) if profile is not None else None
    return region.name if region else ""


def build_documents(session: Session, subject_ids: list[int], today: date, profile) -> dict[int, dict | None]:
    """Documents for a batch of subjects, with three queries in all."""
    subjects = session.execute(select(Subject).where(Subject.id.in_(subject_ids))).scalars().all()
    records: dict[int, list[CreditRecord]] = {sid: [] for sid in subject_ids}
    for r in session.execute(select(CreditRecord).where(CreditRecord.subject_id.in_(subject_ids),
                                                        CreditRecord.is_current.is_(True))).scalars():
        records[r.subject_id].append(r)
    grades = grades_in_force(session, subject_ids, today)
    employer_ids = {s.employer_id for s in subjects if s.employer_id}
    employers = dict(session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(employer_ids))).all()) if employer_ids else {}
    out: dict[int, dict | None] = {sid: None for sid in subject_ids}
    for s in subjects:
        out[s.id] = subject_document(s, records[s.id], grades.get(s.id), today,
                                     _region_name(profile, s.region_code), employers.get(s.employer_id, ""),
                                     profile=profile)
    return out


def _lock_writer(session: Session) -> None:
    """Hold the index writer's lock until the transaction ends (DESIGN.md: one writer drains
    the queue). Without it two drains (threads, gunicorn workers or web nodes in inline mode)
    can build a subject's document at different moments and the older one land last.
    PostgreSQL: a transaction-level advisory lock. SQLite: a write statement, which takes the
    database's write lock (busy timeout applies) in a fresh transaction, as WAL requires."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITER_LOCK_KEY})
    else:
        session.commit()  # a read transaction begun earlier could not be upgraded under WAL
        session.execute(update(State).where(State.key == "index_updated_at").values(value=State.value))


def drain(session: Session, backend, today: date, profile, limit: int = 5000) -> int:
    """Apply pending index jobs (one writer at a time, see :func:`_lock_writer`). Jobs are
    marked done only after the backend accepted the change, so a crash in between leaves them
    queued."""
    if not pending_count(session):
        return 0
    _lock_writer(session)
    jobs = session.execute(select(IndexJob).where(IndexJob.done_at.is_(None)).order_by(IndexJob.id)
                           .limit(limit)).scalars().all()
    if not jobs:  # another writer took them while this one waited
        session.commit()
        return 0
    subject_ids = sorted({j.subject_id for j in jobs})
    docs = build_documents(session, subject_ids, today, profile)
    public_ids = dict(session.execute(select(Subject.id, Subject.public_id).where(Subject.id.in_(subject_ids))).all())
    try:
        backend.upsert([d for d in docs.values() if d is not None])
        backend.delete([public_ids[sid] for sid, d in docs.items() if d is None and sid in public_ids])
    except Exception as exc:
        session.rollback()
        session.execute(update(IndexJob).where(IndexJob.id.in_([j.id for j in jobs]))
                        .values(attempts=IndexJob.attempts + 1, error=str(exc)[:500]))
        session.commit()
        raise
    now = utcnow()
    session.execute(update(IndexJob).where(IndexJob.id.in_([j.id for j in jobs])).values(done_at=now, error=""))
    set_state(session, "index_updated_at", now.isoformat(timespec="seconds"))
    session.commit()
    return len(jobs)


def pending_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.done_at.is_(None))).scalar_one()


def iter_documents(session: Session, today: date, profile, batch: int = 2000) -> Iterator[dict]:
    last = 0
    while True:
        ids = session.execute(select(Subject.id).where(Subject.id > last).order_by(Subject.id).limit(batch)).scalars().all()
        if not ids:
            return
        for doc in build_documents(session, list(ids), today, profile).values():
            if doc is not None:
                yield doc
        last = ids[-1]
        session.expunge_all()


def rebuild_index_only(session: Session, backend, today: date, profile,
                       progress: Callable[[int], None] | None = None) -> int:
    """Rebuild one node's own index from the database without touching the shared job table
    (a follower node: ``index_log``; its cursor, not ``done_at``, says what it applied)."""
    session.commit()
    return backend.rebuild(iter_documents(session, today, profile), progress)


def rebuild(session: Session, backend, today: date, profile, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; pending jobs up to now are then done."""
    # Only the jobs visible now are covered by the documents the rebuild reads; a job of a
    # transaction still open at this moment (PostgreSQL hands out ids before commit) may carry a
    # change the rebuild reads too early, so it stays queued for the next drain.
    covered = session.execute(select(IndexJob.id).where(IndexJob.done_at.is_(None))).scalars().all()
    session.commit()  # end the read transaction: the rebuild must not hold a snapshot open
    count = backend.rebuild(iter_documents(session, today, profile), progress)
    now = utcnow()
    for i in range(0, len(covered), 5000):
        session.execute(update(IndexJob).where(IndexJob.id.in_(covered[i:i + 5000])).values(done_at=now))
    set_state(session, "index_updated_at", now.isoformat(timespec="seconds"))
    set_state(session, "index_built_on", today.isoformat())
    session.commit()
    return count


def expire(session: Session, today: date) -> int:
    """Queue every subject with a record whose window ended since the last run, so it leaves
    the index (国办发〔2025〕22号: windows end automatically). Also queues windows that began."""
    since = get_state(session, "expire_checked_on") or get_state(session, "index_built_on") or "1900-01-01"
    since_d = date.fromisoformat(since)
    ended = select(CreditRecord.subject_id).where(CreditRecord.is_current.is_(True),
                                                  CreditRecord.publish_until >= since_d,
                                                  CreditRecord.publish_until < today)
    began = select(CreditRecord.subject_id).where(CreditRecord.is_current.is_(True),
                                                  CreditRecord.publish_from > since_d,
                                                  CreditRecord.publish_from <= today)
    # A new year ends an older grade of a subject excluded from a period that has now ended
    # (grade_in_force, 湖南 第十八条): its document drops that grade.
    excluded = select(GradingExclusion.subject_id).where(GradingExclusion.year >= since_d.year,
                                                         GradingExclusion.year < today.year)
    ids = (set(session.execute(ended).scalars()) | set(session.execute(began).scalars())
           | set(session.execute(excluded).scalars()))
    for sid in sorted(ids):
        enqueue(session, sid, "window")
    set_state(session, "expire_checked_on", today.isoformat())
    session.commit()
    return len(ids)


_STATE = select(State.value).where(State.key == bindparam("key"))


def get_state(session: Session, key: str) -> str | None:
    return session.execute(_STATE, {"key": key}).scalar_one_or_none()


def set_state(session: Session, key: str, value: str) -> None:
    row = session.get(State, key)
    if row is None:
        session.add(State(key=key, value=value))
    else:
        row.value = value
