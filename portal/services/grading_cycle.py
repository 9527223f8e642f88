"""The grading cycle: preliminary results (初评) → objection window → formal result.

Rules in ``portal.domain.grading_cycle`` (湖南 第十八条; 阳山 四（三）; 湖南医保 第十六、十九条).
Storage: ``grading_cycles`` / ``grading_results`` hold preliminary results and objections and are
read by no public page; a result becomes public only when :func:`_make_formal` writes its letter
into ``grades`` — the one table the facility page, QR page, search index, public report and
chatbot read (``services.indexing.latest_grade``). So a preliminary grade cannot reach the public
by construction, not by a filter someone might forget.

Verbs check the caller themselves and write the audit event: :func:`run_cycle` (the scheduler's
``credit-portal grade run``, idempotent), :func:`file_grade_objection` (the subject),
:func:`decide_grade_objection` (the evaluating department).
"""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from ..documents.citations import own_note
from ..domain import grading_cycle as rules
from ..domain import held_repair as held
from ..domain.grading import grade_subject
from ..domain.identity import Identity
from ..domain.vocab import SubjectKind, category_label
from ..domain.workdays import WorkCalendar, add_workdays
from ..models import CreditRecord, Grade, GradingCycle, GradingExclusion, GradingResult, Subject
from ..models.base import utcnow
from ..permissions import require_subject_manager
from .audit import record_event
from .calendar import load_calendar
from .context import ServiceContext
from .errors import ServiceError
from .grading import compute_grades, explanation_json
from .indexing import enqueue, grade_in_force, grades_in_force
from .notify import tell_subject

BATCH = 2000
STATEMENT_LIMIT = 2000
REASON_LIMIT = 2000
RUN_ONLY = "只有系统管理员、平台运行机构和评价部门的工作人员可以运行信用评价。"
DECIDE_ONLY = "只有该主体所在地区的评价部门工作人员可以处理对评价结果的异议。"


# --- permission checks (the pure half is domain.grading_cycle.may_run / may_decide) ---------------

def _staff(caller) -> bool:
    return caller is not None and not isinstance(caller, Identity)


def require_runner(ctx: ServiceContext) -> None:
    """Run the cycle, read the staff cycle page: the command line (no caller) or staff who may."""
    if ctx.caller is None:
        return
    if not _staff(ctx.caller) or not rules.may_run(ctx.caller):
        raise ServiceError(RUN_ONLY, "grading", 403)


def require_decider(ctx: ServiceContext, subject: Subject) -> None:
    if ctx.caller is None:
        return
    if not _staff(ctx.caller) or not rules.may_decide(ctx.caller, subject.region_code):
        raise ServiceError(DECIDE_ONLY, "grading", 403)


# --- helpers ----------------------------------------------------------------------------------

def _records(ctx: ServiceContext, ids: list[int]) -> dict[int, list[CreditRecord]]:
    out: dict[int, list[CreditRecord]] = {sid: [] for sid in ids}
    for r in ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id.in_(ids),
                                                            CreditRecord.is_current.is_(True))).scalars():
        out[r.subject_id].append(r)
    return out


def _grade_year(cycle: GradingCycle) -> int:
    """The ``grades.year`` a formal result is stored under: the assessed year, or for a rolling
    result the year its period ends in."""
    return cycle.year if cycle.period == rules.YEARLY else cycle.period_end.year


def _excluded(ctx: ServiceContext, year: int) -> set[int]:
    return set(ctx.session.execute(select(GradingExclusion.subject_id).where(GradingExclusion.year == year)).scalars())


def _notify(ctx: ServiceContext, subject_id: int, text: str) -> None:
    """The subject's inbox and, like every notice not about a record case, the outside message."""
    tell_subject(ctx, subject_id, text)


def _letters_in_force(ctx: ServiceContext, ids: list[int]) -> dict[int, Grade]:
    """The formal grade in force today for each subject (as ``latest_grade``), in one query."""
    return grades_in_force(ctx.session, ids, ctx.today)


# --- the scheduler's verb ---------------------------------------------------------------------

def run_cycle(ctx: ServiceContext) -> dict:
    """One scheduler step, idempotent (run it daily; a second run the same day changes nothing):

    1. results whose objection window passed unused become formal (湖南医保 第十九条);
    2. yearly profiles: on or after ``generate_on`` the previous year's preliminary results are
       generated once (湖南 第十八条; 阳山 四（三）), subjects excluded from the year (湖南 第十八条)
       left out; rolling profiles: every subject's result as of today is recomputed and a new
       preliminary result issued where it differs from the one in force (湖南医保 第十六条).
    """
    require_runner(ctx)
    calendar = load_calendar(ctx.session, ctx.profile)
    formal = _formalise_due(ctx)
    generated, key = 0, None
    if ctx.profile.grading.period == rules.ROLLING:
        generated, key = _run_rolling(ctx, calendar)
    else:
        year = rules.yearly_year_due(ctx.profile, ctx.today)
        if year is not None and _cycle_by_key(ctx, str(year)) is None:
            generated, key = _open_yearly(ctx, year, calendar), str(year)
    return {"generated": generated, "formal": formal, "cycle": key}


def _cycle_by_key(ctx: ServiceContext, key: str) -> GradingCycle | None:
    return ctx.session.execute(select(GradingCycle).where(GradingCycle.key == key)).scalar_one_or_none()


def _new_cycle(ctx: ServiceContext, key: str, year: int, start: date, end: date, until: date,
               publish_by: date | None, provisional: bool) -> GradingCycle:
    cycle = GradingCycle(key=key, profile_id=ctx.profile.id, period=ctx.profile.grading.period, year=year,
                         period_start=start, period_end=end, generated_on=ctx.today, objection_until=until,
                         publish_by=publish_by, provisional=provisional, created_by=ctx.actor)
    ctx.session.add(cycle)
    ctx.session.flush()
    return cycle


def _add_result(ctx: ServiceContext, cycle: GradingCycle, sid: int, result, in_force: Grade | None) -> None:
    ctx.session.add(GradingResult(cycle_id=cycle.id, subject_id=sid, letter=result.letter, score=result.score,
                                  explanation=explanation_json(result), status=rules.PRELIMINARY,
                                  objection_until=cycle.objection_until,
                                  previous_letter=in_force.letter if in_force else ""))
    _notify(ctx, sid, f"信用评价初评结果已生成：{result.letter}级（{result.score} 分，评价期 "
                      f"{result.period_start.isoformat()} 至 {result.period_end.isoformat()}）。对初评结果有异议的，"
                      f"请于 {cycle.objection_until.isoformat()} 前在“我的”页面提出；无异议的，期满后形成正式评价结果"
                      f"（{ctx.profile.grading.article_for('objection_workdays')}）。")


def _open_yearly(ctx: ServiceContext, year: int, calendar: WorkCalendar) -> int:
    schedule = rules.yearly_schedule(ctx.profile, year, calendar, generated_on=ctx.today)
    cycle = _new_cycle(ctx, str(year), year, date(year, 1, 1), date(year, 12, 31), schedule.objection_until,
                       schedule.publish_by, schedule.provisional)
    excluded = _excluded(ctx, year)
    ids = [i for i in ctx.session.execute(select(Subject.id).order_by(Subject.id)).scalars() if i not in excluded]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        records, in_force = _records(ctx, chunk), _letters_in_force(ctx, chunk)
        for sid in chunk:
            _add_result(ctx, cycle, sid, grade_subject(records[sid], ctx.profile, year), in_force.get(sid))
        ctx.session.flush()
    record_event(ctx.session, ctx.actor, "grade.cycle.open", object_ref=f"grading-cycle:{cycle.key}",
                 detail={"year": year, "preliminary": len(ids), "excluded": len(excluded),
                         "objection_until": cycle.objection_until.isoformat(),
                         "publish_by": cycle.publish_by.isoformat() if cycle.publish_by else None,
                         "provisional": cycle.provisional, "profile": ctx.profile.id})
    return len(ids)


def _run_rolling(ctx: ServiceContext, calendar: WorkCalendar,
                 subject_ids: list[int] | None = None) -> tuple[int, str | None]:
    """湖南医保 第十六条 动态考评: today's result for everyone (or the given subjects); a new
    preliminary result where it differs from the pending one (which it replaces) or, without one,
    from the formal grade."""
    key = f"rolling:{ctx.today.isoformat()}"
    cycle = _cycle_by_key(ctx, key)
    excluded = _excluded(ctx, ctx.today.year)
    everyone = subject_ids if subject_ids is not None else ctx.session.execute(select(Subject.id).order_by(Subject.id)).scalars()
    ids = [i for i in everyone if i not in excluded]
    generated = superseded = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        records, in_force = _records(ctx, chunk), _letters_in_force(ctx, chunk)
        pending = {r.subject_id: r for r in ctx.session.execute(
            select(GradingResult).where(GradingResult.subject_id.in_(chunk),
                                        GradingResult.status.in_(rules.OPEN_STATUSES))).scalars()}
        for sid in chunk:
            open_result = pending.get(sid)
            if open_result is not None and open_result.status == rules.OBJECTED:
                continue  # the decision settles it (湖南医保 第十九条 完成异议申诉处理)
            result = grade_subject(records[sid], ctx.profile, ctx.today)
            formal = in_force.get(sid)
            current = ((open_result.letter, open_result.score) if open_result is not None
                       else (formal.letter, formal.score) if formal is not None else None)
            if not rules.changed((result.letter, result.score), current):
                continue
            if cycle is None:
                until = rules.objection_until(ctx.today, ctx.profile, calendar)
                cycle = _new_cycle(ctx, key, ctx.today.year, result.period_start, result.period_end, until, None,
                                   calendar.provisional(ctx.today, until))
            if open_result is not None:
                if open_result.cycle_id == cycle.id:
                    continue
                open_result.status = rules.SUPERSEDED
                superseded += 1
            _add_result(ctx, cycle, sid, result, formal)
            generated += 1
        ctx.session.flush()
    if generated:
        record_event(ctx.session, ctx.actor, "grade.cycle.open", object_ref=f"grading-cycle:{key}",
                     detail={"as_of": ctx.today.isoformat(), "preliminary": generated, "superseded": superseded,
                             "excluded": len(excluded), "objection_until": cycle.objection_until.isoformat(),
                             "provisional": cycle.provisional, "profile": ctx.profile.id})
    return generated, key if generated else None


def reissue_for_subject(ctx: ServiceContext, subject_id: int) -> dict:
    """After a credit repair (adjust_after_repair below): the subject's results that are not formal yet
    follow the records as they now stand, each through a new preliminary result with its own
    objection window (湖南医保 第十九条) — never straight into ``grades``.

    Rolling: today's dynamic result, as :func:`run_cycle` would issue it (a pending result is
    replaced; one under objection is left to the decision). Yearly: a pending preliminary result of
    a cycle is recomputed for its year and, if it changed, reissued in place with a fresh window;
    one under objection is left to the decision (异议成立 recomputes from the records as they then
    stand). Returns {"issued": n, "held": [grade years under objection]}."""
    calendar = load_calendar(ctx.session, ctx.profile)
    if ctx.profile.grading.period == rules.ROLLING:
        objected = ctx.session.execute(select(GradingResult.id).where(GradingResult.subject_id == subject_id,
                                                                      GradingResult.status == rules.OBJECTED)).first()
        issued, _ = _run_rolling(ctx, calendar, [subject_id])
        return {"issued": issued, "held": [ctx.today.year] if objected else []}
    issued, held = 0, []
    rows = ctx.session.execute(select(GradingResult, GradingCycle).join(GradingCycle, GradingCycle.id == GradingResult.cycle_id)
                               .where(GradingResult.subject_id == subject_id,
                                      GradingResult.status.in_(rules.OPEN_STATUSES))).all()
    for result, cycle in rows:
        if result.status == rules.OBJECTED:
            held.append(_grade_year(cycle))
            continue
        again = grade_subject(_records(ctx, [subject_id])[subject_id], ctx.profile, cycle.year)
        if not rules.changed((again.letter, again.score), (result.letter, result.score)):
            continue
        # One result per subject and cycle (uq_grading_results_cycle_subject): the pending result
        # is recomputed in place and its window starts again, audited with the letter it had.
        until = rules.objection_until(ctx.today, ctx.profile, calendar)
        record_event(ctx.session, ctx.actor, "grade.preliminary.reissue", subject_id=subject_id,
                     object_ref=f"grading-result:{result.id}",
                     detail={"cycle": cycle.key, "from": result.letter, "to": again.letter,
                             "objection_until": until.isoformat()})
        result.letter, result.score, result.explanation = again.letter, again.score, explanation_json(again)
        result.objection_until = until
        _notify(ctx, subject_id, f"信用修复后重新计算的 {cycle.year} 年度信用评价初评结果：{again.letter}级（{again.score} 分）。"
                                 f"对初评结果有异议的，请于 {until.isoformat()} 前在“我的”页面提出；无异议的，期满后形成正式评价结果"
                                 f"（{ctx.profile.grading.article_for('objection_workdays')}）。")
        issued += 1
    ctx.session.flush()
    return {"issued": issued, "held": held}


def open_grade_years(ctx: ServiceContext, subject_id: int) -> set[int]:
    """The ``grades`` years a pending preliminary result or an objection of the subject is about:
    a direct adjustment must not write them (the cycle makes them formal)."""
    rows = ctx.session.execute(select(GradingCycle).join(GradingResult, GradingResult.cycle_id == GradingCycle.id)
                               .where(GradingResult.subject_id == subject_id,
                                      GradingResult.status.in_(rules.OPEN_STATUSES))).scalars().all()
    return {_grade_year(c) for c in rows}


# --- formal results ---------------------------------------------------------------------------

def _make_formal(ctx: ServiceContext, result: GradingResult, cycle: GradingCycle) -> None:
    """Write the result into ``grades`` (now public) and mark it formal (湖南医保 第十九条
    "形成正式的医疗保障信用评价结果，并记入信用主体的信用档案")."""
    year = _grade_year(cycle)
    grade = ctx.session.execute(select(Grade).where(Grade.subject_id == result.subject_id,
                                                    Grade.year == year)).scalar_one_or_none()
    if grade is None:
        ctx.session.add(Grade(subject_id=result.subject_id, year=year, letter=result.letter, score=result.score,
                              explanation=result.explanation, profile_id=ctx.profile.id, formal_on=ctx.today))
    else:
        if grade.letter != result.letter:
            record_event(ctx.session, ctx.actor, "grade.change", subject_id=result.subject_id,
                         object_ref=f"grade:{grade.id}", detail={"year": year, "from": grade.letter,
                                                                 "to": result.letter, "cycle": cycle.key})
        grade.letter, grade.score, grade.explanation = result.letter, result.score, result.explanation
        grade.formal_on, grade.computed_at = ctx.today, utcnow()
    result.status, result.formal_on = rules.FORMAL, ctx.today
    enqueue(ctx.session, result.subject_id, "grade")


def _close_cycles(ctx: ServiceContext, cycle_ids: set[int], counts: dict[int, int]) -> None:
    for cycle in ctx.session.execute(select(GradingCycle).where(GradingCycle.id.in_(cycle_ids))).scalars():
        left = ctx.session.execute(select(func.count()).select_from(GradingResult).where(
            GradingResult.cycle_id == cycle.id, GradingResult.status.in_(rules.OPEN_STATUSES))).scalar_one()
        record_event(ctx.session, ctx.actor, "grade.formal", object_ref=f"grading-cycle:{cycle.key}",
                     detail={"formal": counts.get(cycle.id, 0), "open": left, "profile": ctx.profile.id})
        if left == 0 and cycle.formal_on is None:
            cycle.formal_on = ctx.today


def _formalise_due(ctx: ServiceContext) -> int:
    """Preliminary results whose window passed without objection become formal."""
    due = ctx.session.execute(select(GradingResult, GradingCycle).join(GradingCycle, GradingCycle.id == GradingResult.cycle_id)
                              .where(GradingResult.status == rules.PRELIMINARY,
                                     GradingResult.objection_until < ctx.today)).all()
    counts: dict[int, int] = {}
    for result, cycle in due:
        if rules.becomes_formal(result.status, result.objection_until, ctx.today):
            _make_formal(ctx, result, cycle)
            counts[cycle.id] = counts.get(cycle.id, 0) + 1
    ctx.session.flush()
    if counts:
        _close_cycles(ctx, set(counts), counts)
    return sum(counts.values())


# --- objections against a preliminary result --------------------------------------------------

def file_grade_objection(ctx: ServiceContext, result: GradingResult, statement: str) -> GradingResult:
    """The subject objects to its preliminary result within the window (湖南医保 第十七条、第十九条:
    异议申请, 说明理由). The result stays preliminary (non-public) until decided; the department
    has the profile's first objection step's working days to decide."""
    subject = ctx.session.get(Subject, result.subject_id)
    require_subject_manager(ctx, subject)
    statement = (statement or "").replace("\x00", "").strip()
    if not statement:
        raise ServiceError("请说明对初评结果有异议的理由"
                           + own_note("湖南医保 第十七条：说明理由并提供相关证明材料", ctx.profile.document), "statement")
    if len(statement) > STATEMENT_LIMIT:
        raise ServiceError(f"理由不能超过 {STATEMENT_LIMIT} 字", "statement")
    refused = rules.may_object(result.status, result.objection_until, ctx.today)
    if refused:
        raise ServiceError(refused, "grading", 409)
    calendar = load_calendar(ctx.session, ctx.profile)
    step = ctx.profile.objection.steps[0]
    result.status, result.objection_statement = rules.OBJECTED, statement
    result.objection_filed_on, result.objection_filed_by = ctx.today, ctx.actor
    result.objection_due_on = add_workdays(ctx.today, step.workdays, calendar)
    record_event(ctx.session, ctx.actor, "grade.objection.file", subject_id=subject.id,
                 object_ref=f"grading-result:{result.id}",
                 detail={"letter": result.letter, "due_on": result.objection_due_on.isoformat()})
    _notify(ctx, subject.id, f"已收到您对信用评价初评结果（{result.letter}级）的异议，评价部门将于 "
                             f"{result.objection_due_on.isoformat()} 前核查处理（{step.article}）。")
    ctx.session.flush()
    return result


def decide_grade_objection(ctx: ServiceContext, result: GradingResult, outcome: str, reason: str) -> GradingResult:
    """The evaluating department decides, with written reasons; the result then becomes formal
    (湖南医保 第十九条 "完成异议申诉处理的…形成正式的…评价结果"). Upheld: the grade is computed again
    from the records as they stand now (a wrong record is corrected through the record objection
    first), except that a credit repair decided while the objection was pending is undone for it
    (``domain.held_repair``); rejected: the preliminary result becomes formal as it is. Either way a
    held repair then has its profile's grade effect (:func:`_apply_held_repair`)."""
    subject = ctx.session.get(Subject, result.subject_id)
    require_decider(ctx, subject)
    if result.status != rules.OBJECTED:
        raise ServiceError("该评价结果没有待处理的异议", "grading", 409)
    if outcome not in rules.OUTCOMES:
        raise ServiceError("请选择处理结果：异议成立或异议不成立", "outcome")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ServiceError("请写明处理理由（书面告知申请人）", "reason")
    if len(reason) > REASON_LIMIT:
        raise ServiceError(f"理由不能超过 {REASON_LIMIT} 字", "reason")
    cycle = ctx.session.get(GradingCycle, result.cycle_id)
    before = result.letter
    detail = {"outcome": outcome, "from": before, "reason": reason}
    if outcome == rules.UPHELD:
        when = cycle.year if cycle.period == rules.YEARLY else cycle.period_end
        records = _records(ctx, [subject.id])[subject.id]
        if result.repair_held_on is not None:
            records, restored = _as_evaluated(ctx, result, records)
            detail["repair_undone"] = sorted(r.lineage_id for r in restored)
        again = grade_subject(records, ctx.profile, when)
        result.letter, result.score, result.explanation = again.letter, again.score, explanation_json(again)
    result.objection_outcome, result.objection_reason = outcome, reason
    result.objection_decided_by, result.objection_decided_on = ctx.actor, ctx.today
    _make_formal(ctx, result, cycle)
    detail["to"] = result.letter
    after = ""
    if result.repair_held_on is not None:
        after = _apply_held_repair(ctx, result, cycle)
        detail["repair_held_on"] = result.repair_held_on.isoformat()
    record_event(ctx.session, ctx.actor, "grade.objection.decide", subject_id=subject.id,
                 object_ref=f"grading-result:{result.id}", detail=detail)
    _notify(ctx, subject.id, f"您对信用评价初评结果的异议已处理：{rules.OUTCOMES[outcome]}。理由：{reason}。"
                             f"初评结果 {result.letter}级形成正式评价结果。{after}")
    ctx.session.flush()
    _close_cycles(ctx, {cycle.id}, {cycle.id: 1})
    return result


def _as_evaluated(ctx: ServiceContext, result: GradingResult, records: list[CreditRecord]) -> tuple[list, list]:
    """The subject's current records with what a repair held for this result changed undone
    (``domain.held_repair``): 异议成立 re-evaluates the period the 初评 was about, and the repair
    has only the grade effect its profile gives it (海南 第四十二条（五） none; 湖南医保 第十六、十九条
    a new 初评; 湖南 第三十一条（三） direct), applied after the decision by :func:`_apply_held_repair`."""
    ids = held.counted_record_ids(result.explanation)
    lineages = set(ctx.session.execute(select(CreditRecord.lineage_id).where(CreditRecord.id.in_(ids))).scalars()) if ids else set()
    return held.records_as_evaluated(records, lineages)


def _apply_held_repair(ctx: ServiceContext, result: GradingResult, cycle: GradingCycle) -> str:
    """A credit repair decided while this result was under objection was held for the decision
    (:func:`adjust_after_repair`); the decision makes the evaluation from before the repair formal
    (rejected: as it was; upheld: recomputed with the repair undone, :func:`_as_evaluated`), so the
    repair's grade effect is applied to it now, per the profile (``repair.grade_adjustment``): direct
    — the formal grade is recomputed (湖南 第三十一条（三）); cycle — the dynamic result after the repair
    is a new preliminary result with its window (湖南医保 第十六、十九条); none — nothing (海南
    第四十二条（五））. Returns the sentence the subject is told."""
    out = adjust_after_repair(ctx, result.subject_id, why=f"grading-result:{result.id} objection {result.objection_outcome}")
    article = ctx.profile.repair.article_for("grade_adjustment")
    year = _grade_year(cycle)
    if year in out["adjusted"]:
        letter = ctx.session.execute(select(Grade.letter).where(Grade.subject_id == result.subject_id,
                                                                Grade.year == year)).scalar()
        return f"{result.repair_held_on.isoformat()} 作出的信用修复决定已按规定调整该信用等级，现为 {letter}级（{article}）。"
    if out["issued"]:
        return f"信用修复后的评价结果已作为新的初评结果发出，异议期满后形成正式结果（{article}）。"
    return ""


# --- the grade after a decided credit repair ---------------------------------------------------
#
# The grade after a decided credit repair (湖南 第三十一条（三） "按规定调整信用等级").
#
# What "按规定" means differs per document, so the profile says it (``repair.grade_adjustment``,
# ``domain.grading_cycle.repair_grade_mode``):
#
# - direct (湖南 第三十一条（三）; jiangsu and guangdong follow it as editable defaults): the repair
#   decision is itself a decided procedure with a public notice of at least five working days and
#   no objection (湖南 第三十条（三）（四）), so the stored formal grades are recomputed at once —
#   except a year a pending preliminary result (初评) or an objection is about: that one is the
#   cycle's (a pending 初评 is reissued with the repaired record and a fresh window, an objection is
#   left to its decision, which then applies the repair to the grade it makes formal);
# - cycle (湖南医保 第十六、十九条; 第二十五条第三款 gives the repair no grade effect of its own): the
#   dynamic result after the repair is a new preliminary result with its objection window, formal
#   only after it — the formal grade is not touched;
# - none (海南 第四十二条（五） lists no grade effect): the formal grades stay; the next period grades
#   the repaired record. A pending 初评 is still reissued: it is not a result yet, and the cycle
#   computes from the records as they stand.
#
# Every surface reads the result through ``services.indexing.grade_in_force``; the grades table
# changes only here, in ``services.grading_cycle`` and in the migration/demo loaders.


def adjust_after_repair(ctx: ServiceContext, subject_id: int, why: str = "") -> dict:
    """Apply the profile's grade effect of a decided repair; audited as ``grade.repair_adjust``."""
    mode = rules.repair_grade_mode(ctx.profile)
    out = reissue_for_subject(ctx, subject_id)  # results not formal yet follow the records (all modes)
    adjusted: list[int] = []
    held = sorted(set(out["held"]) | open_grade_years(ctx, subject_id))
    for result in ctx.session.execute(select(GradingResult).where(GradingResult.subject_id == subject_id,
                                                                  GradingResult.status == rules.OBJECTED)).scalars():
        result.repair_held_on = ctx.today  # the decision applies this repair (grading_cycle.decide_grade_objection)
    if mode == rules.DIRECT:
        years = ctx.session.execute(select(Grade.year).where(Grade.subject_id == subject_id).distinct()).scalars().all()
        for year in sorted(set(years) - set(held)):
            if compute_grades(ctx, year, [subject_id], overwrite_formal=True):
                adjusted.append(year)
    record_event(ctx.session, ctx.actor, "grade.repair_adjust", subject_id=subject_id,
                 detail={"mode": mode, "article": ctx.profile.repair.article_for("grade_adjustment"),
                         "adjusted_years": adjusted, "held_years": held, "preliminary_issued": out["issued"],
                         "why": why})
    return {"mode": mode, "adjusted": adjusted, "held": held, "issued": out["issued"]}


# --- reads ------------------------------------------------------------------------------------

def result_by_id(ctx: ServiceContext, result_id: int) -> GradingResult | None:
    return ctx.session.get(GradingResult, result_id)


def subject_results(ctx: ServiceContext, subject: Subject) -> list[dict]:
    """The subject's own preliminary results not yet formal, newest first, for its page (the
    subject itself or its legal representative: ``require_subject_manager``)."""
    require_subject_manager(ctx, subject)
    rows = ctx.session.execute(select(GradingResult, GradingCycle).join(GradingCycle, GradingCycle.id == GradingResult.cycle_id)
                               .where(GradingResult.subject_id == subject.id,
                                      GradingResult.status.in_(rules.OPEN_STATUSES))
                               .order_by(GradingResult.id.desc())).all()
    out = []
    for r, c in rows:
        grade = ctx.profile.grade(r.letter)
        out.append({"id": r.id, "letter": r.letter, "label": grade.label if grade else "", "score": r.score,
                    "status": r.status, "status_label": rules.STATUS_LABELS[r.status],
                    "period_start": c.period_start, "period_end": c.period_end, "generated_on": c.generated_on,
                    "objection_until": r.objection_until, "provisional": c.provisional,
                    "explanation": r.explanation, "objection_statement": r.objection_statement,
                    "objection_due_on": r.objection_due_on,
                    "can_object": rules.may_object(r.status, r.objection_until, ctx.today) is None})
    return out


def cycles(ctx: ServiceContext) -> list[dict]:
    """The staff list: every cycle, newest first, with its state."""
    require_runner(ctx)
    counts: dict[int, dict[str, int]] = {}
    for cid, status, n in ctx.session.execute(select(GradingResult.cycle_id, GradingResult.status, func.count())
                                              .group_by(GradingResult.cycle_id, GradingResult.status)).all():
        counts.setdefault(cid, {})[status] = n
    out = []
    for c in ctx.session.execute(select(GradingCycle).order_by(GradingCycle.generated_on.desc(),
                                                               GradingCycle.id.desc())).scalars():
        n = counts.get(c.id, {})
        open_count = sum(n.get(s, 0) for s in rules.OPEN_STATUSES)
        out.append({"id": c.id, "key": c.key, "period": c.period, "year": c.year, "period_start": c.period_start,
                    "period_end": c.period_end, "generated_on": c.generated_on,
                    "objection_until": c.objection_until, "publish_by": c.publish_by, "formal_on": c.formal_on,
                    "provisional": c.provisional, "counts": n,
                    "state": rules.state_label(c.formal_on, open_count, n.get(rules.OBJECTED, 0), c.objection_until,
                                               ctx.today, c.publish_by)})
    return out


def next_schedule(ctx: ServiceContext) -> dict:
    """What the scheduler will do next (staff page)."""
    g = ctx.profile.grading
    if g.period == rules.ROLLING:
        return {"period": g.period, "text": f"动态考评：每次运行重新计算近 {g.rolling_months} 个月的评价结果，"
                f"与现行结果不同的生成新的初评结果，异议期 {g.objection_workdays} 个工作日（{g.article}）。"}
    year = ctx.today.year - 1 if ctx.today >= rules.mmdd_on(g.generate_on or "01-20", ctx.today.year) else ctx.today.year - 2
    nxt = year + 1
    schedule = rules.yearly_schedule(ctx.profile, nxt, load_calendar(ctx.session, ctx.profile))
    return {"period": g.period, "year": nxt, "generate_on": schedule.generate_on,
            "objection_until": schedule.objection_until, "publish_by": schedule.publish_by,
            "late": schedule.late, "provisional": schedule.provisional,
            "text": f"{nxt} 年度：{schedule.generate_on.isoformat()} 生成初评结果，异议期至 "
                    f"{schedule.objection_until.isoformat()}，"
                    + (f"{schedule.publish_by.isoformat()} 前公布正式结果" if schedule.publish_by else "期满后形成正式结果")
                    + f"（{g.article}）。"}


def cycle_overview(ctx: ServiceContext, cycle_id: int) -> dict | None:
    """One cycle for the staff page: its state, pending objections, excluded subjects with their
    reasons (湖南 第十八条), and subjects whose formal grade changed."""
    require_runner(ctx)
    cycle = ctx.session.get(GradingCycle, cycle_id)
    if cycle is None:
        return None
    listed = next(c for c in cycles(ctx) if c["id"] == cycle.id)
    objections = [{"id": r.id, "subject": s.name, "public_id": s.public_id, "region_code": s.region_code,
                   "letter": r.letter, "score": r.score, "statement": r.objection_statement,
                   "filed_on": r.objection_filed_on, "due_on": r.objection_due_on,
                   "overdue": r.objection_due_on is not None and ctx.today > r.objection_due_on}
                  for r, s in ctx.session.execute(select(GradingResult, Subject).join(Subject, Subject.id == GradingResult.subject_id)
                                                  .where(GradingResult.cycle_id == cycle.id,
                                                         GradingResult.status == rules.OBJECTED)
                                                  .order_by(GradingResult.objection_due_on)).all()]
    excluded = [{"subject": s.name, "public_id": s.public_id, "reason": e.reason, "by": e.created_by}
                for e, s in ctx.session.execute(select(GradingExclusion, Subject).join(Subject, Subject.id == GradingExclusion.subject_id)
                                                .where(GradingExclusion.year == cycle.year).order_by(Subject.name)).all()]
    return {**listed, "objections": objections, "excluded": excluded, "changes": formal_changes(ctx, cycle.id)}


def formal_changes(ctx: ServiceContext, cycle_id: int) -> list[dict]:
    """Subjects whose formal grade changed in the cycle (the letter before differs from the
    formal one, or there was none): the hook for reprinting identity plates that show a grade
    (``display.plate_shows_grade``)."""
    require_runner(ctx)
    rows = ctx.session.execute(select(GradingResult, Subject).join(Subject, Subject.id == GradingResult.subject_id)
                               .where(GradingResult.cycle_id == cycle_id, GradingResult.status == rules.FORMAL,
                                      GradingResult.letter != GradingResult.previous_letter)
                               .order_by(Subject.name)).all()
    return [{"subject_id": s.id, "public_id": s.public_id, "name": s.name, "from": r.previous_letter,
             "to": r.letter, "formal_on": r.formal_on} for r, s in rows]


def summary_years(ctx: ServiceContext) -> list[int]:
    """Years with formal grades (public)."""
    return list(ctx.session.execute(select(Grade.year).distinct().order_by(Grade.year.desc())).scalars())


def summary_table(ctx: ServiceContext, year: int) -> dict:
    """阳山 四（三）分级评价结果汇总表, public: formal grades of ``year`` (the ``grades`` table only)
    of organisations, counted per region and category; under a rolling profile the current year
    counts each organisation's formal grade in force today. Natural persons are left out: a count per
    small region and category could single a person out."""
    letters = [g.letter for g in ctx.profile.grades]
    current = ctx.profile.grading.period == rules.ROLLING and year == ctx.today.year
    query = (select(Subject.id, Subject.region_code, Subject.category, Grade.letter)
             .join(Grade, Grade.subject_id == Subject.id).where(Subject.kind == SubjectKind.ORG))
    if current:  # 湖南医保 第十六条 动态考评: the formal grade in force today, whatever year it was formed
        query = query.where(grade_in_force(year, ctx.today)).order_by(Grade.year)
    else:
        query = query.where(Grade.year == year)
    latest = {sid: (region, category, letter) for sid, region, category, letter in ctx.session.execute(query).all()}
    table = rules.summary_rows(latest.values(), letters)
    names = {r.code: r.name for r in ctx.profile.regions}
    for row in table:
        row["region_name"] = names.get(row["region_code"], row["region_code"])
        row["category_label"] = category_label(row["category"])
    totals = {letter: sum(r["counts"][letter] for r in table) for letter in letters}
    return {"year": year, "letters": letters, "rows": table, "totals": totals, "total": sum(totals.values()),
            "article": ctx.profile.grading.article, "as_of": ctx.today if current else None}


def summary_xlsx(ctx: ServiceContext, year: int) -> bytes:
    """The summary table as an Excel workbook (openpyxl)."""
    from openpyxl import Workbook

    data = summary_table(ctx, year)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年度汇总"
    ws.append([f"{ctx.profile.portal_name} {year} 年度信用分级评价结果汇总表（依据：{data['article']}）"])
    ws.append(["区划代码", "区划", "类别", *[f"{letter}级" for letter in data["letters"]], "合计"])
    for row in data["rows"]:
        ws.append([row["region_code"], row["region_name"], row["category_label"],
                   *[row["counts"][letter] for letter in data["letters"]], row["total"]])
    ws.append(["", "合计", "", *[data["totals"][letter] for letter in data["letters"]], data["total"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

