"""Yearly grading (湖南 第十七–十八条; 海南 第二十九–三十条): the pure rule in
``portal.domain.grading`` applied to every subject, stored with its explanation.

湖南 第十八条 "根据有关规定不参加本期评价的除外": a subject excluded from a year
(:func:`exclude_from_grading`, with its reason) gets no grade for that year and is listed by
:func:`grading_exclusions`."""
from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass

from sqlalchemy import func, select

from ..documents.citations import own_note
from ..domain.grading import grade_subject
from ..domain.grading_cycle import OPEN_STATUSES, SUPERSEDED, exclusion_effective_on
from ..models import CreditRecord, Grade, GradingCycle, GradingExclusion, GradingResult, Subject
from ..models.base import utcnow
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import enqueue, exclusion_in_effect

BATCH = 2000


def explanation_json(result) -> list[dict]:
    """The explanation as JSON-safe dicts (dates become ISO strings)."""
    rows = [asdict(e) if is_dataclass(e) else dict(e) for e in result.explanation]
    return json.loads(json.dumps(rows, ensure_ascii=False, default=str))


def compute_grades(ctx: ServiceContext, year: int, subject_ids: list[int] | None = None, *,
                   overwrite_formal: bool = False) -> int:
    """Grade every subject (or the given ones) for ``year`` directly, without 初评 or objection
    window: demo data, bulk loads of history, and :func:`load_historical_grades`. Re-grading replaces
    that year's row and the change is audited. A grade a grading cycle made formal (``formal_on``
    set) is left as it is unless ``overwrite_formal`` (the repair adjustment of
    ``services.grading_cycle.adjust_after_repair``, which checks for pending results itself)."""
    session = ctx.session
    ids = subject_ids if subject_ids is not None else list(session.execute(select(Subject.id).order_by(Subject.id)).scalars())
    excluded = set(session.execute(select(GradingExclusion.subject_id).where(GradingExclusion.year == year)).scalars())
    ids = [i for i in ids if i not in excluded]  # 湖南 第十八条: not taking part in this period
    count = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        records: dict[int, list[CreditRecord]] = {sid: [] for sid in chunk}
        for r in session.execute(select(CreditRecord).where(CreditRecord.subject_id.in_(chunk),
                                                            CreditRecord.is_current.is_(True))).scalars():
            records[r.subject_id].append(r)
        existing = {g.subject_id: g for g in session.execute(
            select(Grade).where(Grade.subject_id.in_(chunk), Grade.year == year)).scalars()}
        # A rolling profile's grade of the current year is its dynamic result (湖南医保 第十六条):
        # recomputed over the rolling window ending today, not over the calendar year so far.
        when = ctx.today if ctx.profile.grading.period == "rolling" and year == ctx.today.year else year
        for sid in chunk:
            result = grade_subject(records[sid], ctx.profile, when)
            explanation = explanation_json(result)
            grade = existing.get(sid)
            if grade is not None and grade.formal_on is not None and not overwrite_formal:
                continue  # a cycle's formal result (湖南医保 第十九条) is changed only through the cycle
            if grade is None:
                session.add(Grade(subject_id=sid, year=year, letter=result.letter, score=result.score,
                                  explanation=explanation, profile_id=ctx.profile.id))
            elif (grade.letter, grade.score) != (result.letter, result.score):
                record_event(session, ctx.actor, "grade.change", subject_id=sid, object_ref=f"grade:{grade.id}",
                             detail={"year": year, "from": grade.letter, "to": result.letter})
                grade.letter, grade.score, grade.explanation = result.letter, result.score, explanation
                grade.computed_at = utcnow()
            else:
                continue
            enqueue(session, sid, "grade")
            count += 1
        session.flush()
    record_event(session, ctx.actor, "grade.run", detail={"year": year, "graded": count, "profile": ctx.profile.id})
    return count


HISTORICAL_ONLY = ("{year} 年度的信用等级由评价周期管理（初评 → 异议期 → 正式结果，{article}），"
                   "不能直接写入：请使用 credit-portal grade run")


def load_historical_grades(ctx: ServiceContext, year: int) -> int:
    """``credit-portal grade --load-historical --year Y``: write formal grades for a past year
    directly, without 初评 or objection window — only to migrate grades that were already formal
    in an earlier system. Refused for any year the grading cycle manages (湖南 第十八条: the previous
    year's result is determined every year; 湖南医保 第十九条: a result is formal only after its
    objection window): the last year and later, and any year that has a cycle or a formal grade a
    cycle wrote. Audited as ``grade.load_historical``."""
    from ..domain.grading_cycle import may_load_historical

    session = ctx.session
    has_cycle = session.execute(select(GradingCycle.id).where(GradingCycle.year == year).limit(1)).first() is not None
    has_cycle = has_cycle or session.execute(select(Grade.id).where(Grade.year == year, Grade.formal_on.is_not(None))
                                             .limit(1)).first() is not None
    if not may_load_historical(year, ctx.today, has_cycle):
        raise ServiceError(HISTORICAL_ONLY.format(year=year, article=ctx.profile.grading.article), "year", 409)
    count = compute_grades(ctx, year)
    record_event(session, ctx.actor, "grade.load_historical",
                 detail={"year": year, "graded": count, "profile": ctx.profile.id})
    return count


REASON_LIMIT = 500


def exclude_from_grading(ctx: ServiceContext, subject: Subject, year: int, reason: str) -> GradingExclusion:
    """Take ``subject`` out of ``year``'s evaluation (湖南 第十八条), with the reason. A grade
    already computed for that year is withdrawn (grades are derived data; the audit event keeps
    the letter it had)."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请说明不参加本期评价的依据"
                           + own_note("湖南 第十八条：根据有关规定不参加本期评价", ctx.profile.document), "reason")
    if len(reason) > REASON_LIMIT:
        raise ServiceError(f"理由不能超过 {REASON_LIMIT} 字", "reason")
    if not 2000 <= year <= ctx.today.year:
        raise ServiceError(f"评价年度无效：{year}", "year")
    session = ctx.session
    if session.execute(select(GradingExclusion.id).where(GradingExclusion.subject_id == subject.id,
                                                         GradingExclusion.year == year)).first():
        raise ServiceError(f"该主体已登记不参加 {year} 年度评价", "year", 409)
    row = GradingExclusion(subject_id=subject.id, year=year, reason=reason, created_by=ctx.actor,
                           effective_on=exclusion_effective_on(ctx.profile.grading.period, year, ctx.today))
    session.add(row)
    old = session.execute(select(Grade).where(Grade.subject_id == subject.id, Grade.year == year)).scalar_one_or_none()
    detail = {"year": year, "reason": reason}
    pending = session.execute(select(GradingResult).join(GradingCycle, GradingCycle.id == GradingResult.cycle_id)
                              .where(GradingResult.subject_id == subject.id, GradingCycle.year == year,
                                     GradingResult.status.in_(OPEN_STATUSES))).scalars().all()
    for result in pending:  # a preliminary result of that period never becomes formal
        result.status = SUPERSEDED
    if pending:
        detail["withdrawn_preliminary"] = [r.letter for r in pending]
    if old is not None:
        detail["withdrawn_grade"] = old.letter
        session.delete(old)
    enqueue(session, subject.id, "grade")  # an older grade may no longer be in force (indexing.grade_in_force)
    session.flush()
    record_event(session, ctx.actor, "grade.exclude", subject_id=subject.id, object_ref=f"subject:{subject.public_id}",
                 detail=detail)
    return row


def grade_absence(session, subject_id: int, today, profile) -> dict | None:
    """What the public pages show where the grade would be when no grade is in force because the
    subject did not take part in a finished period (``indexing.grade_in_force``; 湖南 第十八条
    "根据有关规定不参加本期评价的除外"): the year and the article, never the reason — it is free text
    typed by staff (停业整顿, 立案调查 …) and not public. ``None`` when a grade is in force or the
    subject was simply never graded."""
    from .indexing import latest_grade

    if latest_grade(session, subject_id, today) is not None:
        return None
    year = session.execute(last_exclusion_year(subject_id, today.year, today)).scalar()
    newest = session.execute(select(func.max(Grade.year)).where(Grade.subject_id == subject_id)).scalar()
    return absence_from(year, newest, profile)


def last_exclusion_year(subject_id, year, today):
    """The newest period the subject did not take part in whose exclusion has taken effect
    (``indexing.exclusion_in_effect``: a finished period, or a rolling profile's running one); a
    statement, ``subject_id`` a value or a correlated column, as in ``services.public_page_read``."""
    return select(func.max(GradingExclusion.year)).where(GradingExclusion.subject_id == subject_id,
                                                         exclusion_in_effect(year, today))


def absence_from(year: int | None, newest_grade_year: int | None, profile) -> dict | None:
    """:func:`grade_absence` from the values read (no grade in force): the newest excluded
    finished period, and the subject's newest grade year (a grade for a later year means the
    exclusion is not why there is none)."""
    if year is None or (newest_grade_year is not None and newest_grade_year > year):
        return None
    return {"year": year, "text": f"{year} 年度未参加信用评价（根据有关规定不参加本期评价），暂无现行信用等级"
                                  f"（{profile.grading.article}）。"}


def grading_exclusions(ctx: ServiceContext, year: int) -> list[tuple[GradingExclusion, Subject]]:
    """The subjects not graded for ``year``, with their reasons (staff list and CLI)."""
    return list(ctx.session.execute(select(GradingExclusion, Subject).join(Subject, Subject.id == GradingExclusion.subject_id)
                                    .where(GradingExclusion.year == year).order_by(Subject.name)).all())


def rolling_preview(ctx: ServiceContext, subject_id: int):
    """湖南医保 第十六条 "信用评价实行动态考评…提供实时查询服务": under a profile with
    ``grading.period = "rolling"``, the grade as of today over the last ``rolling_months`` —
    a preliminary result (初评, 第十九条: it becomes the formal result once no objection is raised
    or objections are settled). Shown to the subject on its own page; the stored (formal) grade
    is what the public sees. ``None`` for yearly profiles."""
    if ctx.profile.grading.period != "rolling":
        return None
    records = ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject_id,
                                                             CreditRecord.is_current.is_(True))).scalars().all()
    return grade_subject(records, ctx.profile, ctx.today)
