"""Early warning (issue 16; 淮安 三（二）): ``credit-portal warnings run`` evaluates the
profile's rules (``portal.domain.warnings``) over the database and files each new finding once;
staff see them in a queue by region and close them with a note; a rule the profile names in
``warnings.to_subject`` also reaches the subject's inbox (/me). Complaints counted by the
``complaints`` rule are registered by staff here. Warnings and complaints are never public.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain import warnings as rules
from ..domain.vocab import RecordStatus
from ..domain.windows import add_months
from ..models import Complaint, CreditRecord, EarlyWarning, Grade, StaffUser, Subject
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .notify import tell_subject
from .staff import ADMIN, in_region

STAFF_ROLES = {"department", "operator", ADMIN}
NOTE_LIMIT = 2000


def _rules(ctx: ServiceContext):
    if ctx.profile.warnings is None:
        raise ServiceError("本辖区规则配置未设置信用预警规则（[warnings]）", "rule", 404)
    return ctx.profile.warnings


def require_warning_staff(ctx: ServiceContext, region_code: str | None = None) -> StaffUser | None:
    user = ctx.caller
    if user is None:
        return None
    if not isinstance(user, StaffUser) or not user.active or not STAFF_ROLES & set(user.roles) \
            or (region_code is not None and not in_region(user, region_code)):
        raise ServiceError("无权处理该地区的信用预警", "warning", 403)
    return user


def _findings(ctx: ServiceContext) -> list[tuple[Subject, rules.Finding]]:
    r, today, session = _rules(ctx), ctx.today, ctx.session
    letters = [g.letter for g in ctx.profile.grades]
    out: list[tuple[Subject, rules.Finding]] = []
    active = Subject.status == "active"
    if "licence_expiring" in r.rules:
        for s in session.execute(select(Subject).where(active, Subject.licence_valid_until.is_not(None),
                                                       Subject.licence_valid_until <= today + timedelta(days=r.licence_days),
                                                       Subject.licence_valid_until >= today - timedelta(days=r.licence_days))
                                 .order_by(Subject.id)).scalars():
            found = rules.licence_expiring(s.id, s.licence_valid_until, today, r)
            if found:
                out.append((s, found))
    if "second_general" in r.rules:
        since = add_months(today, -2 * r.second_general_months)
        general = (CreditRecord.is_current.is_(True), CreditRecord.info_class == "dishonest",
                   CreditRecord.severity == "general", CreditRecord.status == RecordStatus.ACTIVE,
                   CreditRecord.decided_on > since)
        ids = session.execute(select(CreditRecord.subject_id).where(*general).group_by(CreditRecord.subject_id)
                              .having(func.count(CreditRecord.id) >= 2)).scalars().all()
        for sid in ids:
            records = session.execute(select(CreditRecord).where(CreditRecord.subject_id == sid, *general)).scalars().all()
            found = rules.second_general(sid, records, today, r)
            if found:
                out.append((session.get(Subject, sid), found))
    if "grade_drop" in r.rules:
        rows = session.execute(select(Grade.subject_id, Grade.year, Grade.letter).where(Grade.year >= today.year - 2)
                               .order_by(Grade.subject_id, Grade.year, Grade.computed_at)).all()
        by_subject: dict[int, dict[int, str]] = {}
        for sid, year, letter in rows:
            by_subject.setdefault(sid, {})[year] = letter  # the latest computation of a year
        for sid, grades in by_subject.items():
            found = rules.grade_drop(sid, sorted(grades.items()), letters, r)
            if found:
                out.append((session.get(Subject, sid), found))
    if "complaints" in r.rules:
        since = add_months(today, -r.complaints_months)
        rows = session.execute(select(Complaint.subject_id, Complaint.id, Complaint.received_on)
                               .where(Complaint.received_on > since).order_by(Complaint.subject_id)).all()
        by_subject2: dict[int, list[tuple[int, date]]] = {}
        for sid, cid, on in rows:
            by_subject2.setdefault(sid, []).append((cid, on))
        for sid, complaints in by_subject2.items():
            found = rules.many_complaints(sid, complaints, today, r)
            if found:
                out.append((session.get(Subject, sid), found))
    return out


def run_warnings(ctx: ServiceContext) -> list[EarlyWarning]:
    """Evaluate every rule; file each finding not filed before (its key), with its audit event and,
    where the profile says, a notice to the subject. Idempotent. The operator's process
    (``ctx.caller`` None) or an administrator."""
    user = require_warning_staff(ctx)
    if user is not None and ADMIN not in user.roles:
        raise ServiceError("只有系统管理员可以运行预警规则", "rule", 403)
    r = _rules(ctx)
    filed = set(ctx.session.execute(select(EarlyWarning.key)).scalars())
    open_complaints = set(ctx.session.execute(select(EarlyWarning.subject_id).where(
        EarlyWarning.rule == "complaints", EarlyWarning.state == "open")).scalars())
    made = []
    for subject, found in _findings(ctx):
        if found.key in filed or (found.rule == "complaints" and subject.id in open_complaints):
            continue
        to_subject = found.rule in r.to_subject
        row = EarlyWarning(key=found.key, rule=found.rule, subject_id=subject.id, region_code=subject.region_code or "",
                           raised_on=ctx.today, message=found.message, detail=found.detail, to_subject=to_subject)
        try:
            with ctx.session.begin_nested():  # two runs at once: the second skips what the first filed
                ctx.session.add(row)
        except IntegrityError:
            continue
        filed.add(found.key)
        if to_subject:
            tell_subject(ctx, subject.id, f"信用预警（{rules.LABELS[found.rule]}）：{found.message}")
        record_event(ctx.session, ctx.actor, "warning.raise", subject_id=subject.id, object_ref=f"warning:{row.id}",
                     detail={"rule": found.rule, "key": found.key, "to_subject": to_subject})
        made.append(row)
    return made


def warning_queue(ctx: ServiceContext, *, closed: bool = False) -> list[dict]:
    """The staff queue: warnings of the caller's region, newest first."""
    user = require_warning_staff(ctx)
    if user is None:
        raise ServiceError("请先以工作人员身份登录", "warning", 403)
    rows = ctx.session.execute(select(EarlyWarning, Subject).join(Subject, Subject.id == EarlyWarning.subject_id)
                               .where(EarlyWarning.state == ("closed" if closed else "open"))
                               .order_by(EarlyWarning.raised_on.desc(), EarlyWarning.id.desc()).limit(500)).all()
    return [{"id": w.id, "rule": w.rule, "label": rules.LABELS.get(w.rule, w.rule), "subject": s.name,
             "raised_on": w.raised_on, "message": w.message, "to_subject": w.to_subject, "state": w.state,
             "closed_on": w.closed_on, "closed_by": w.closed_by, "note": w.close_note}
            for w, s in rows if in_region(user, w.region_code)]


def warning_by_id(ctx: ServiceContext, warning_id: str) -> EarlyWarning | None:
    if not (str(warning_id).isascii() and str(warning_id).isdigit() and len(str(warning_id)) < 10):
        return None
    return ctx.session.get(EarlyWarning, int(warning_id))


def close_warning(ctx: ServiceContext, warning: EarlyWarning, note: str) -> EarlyWarning:
    """Closing needs a note saying what was done (约谈、督促整改、核查无问题 …)."""
    require_warning_staff(ctx, warning.region_code)
    note = (note or "").replace("\x00", "").strip()
    if not note:
        raise ServiceError("关闭预警须填写处理情况", "note")
    if len(note) > NOTE_LIMIT:
        raise ServiceError(f"处理情况不能超过 {NOTE_LIMIT} 字", "note")
    if warning.state != "open":
        raise ServiceError("该预警已关闭", "warning", 409)
    warning.state, warning.closed_on, warning.closed_by, warning.close_note = "closed", ctx.today, ctx.actor[:120], note
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "warning.close", subject_id=warning.subject_id,
                 object_ref=f"warning:{warning.id}", detail={"rule": warning.rule, "note": note})
    return warning


def register_complaint(ctx: ServiceContext, subject: Subject, received_on: date, summary: str) -> Complaint:
    """A complaint about a unit (staff only; counted by the ``complaints`` rule, never public)."""
    require_warning_staff(ctx, subject.region_code)
    summary = (summary or "").replace("\x00", "").strip()
    if not summary or len(summary) > NOTE_LIMIT:
        raise ServiceError(f"请填写投诉摘要（不超过 {NOTE_LIMIT} 字）", "summary")
    if received_on > ctx.today:
        raise ServiceError("收到日期不能晚于今天", "received_on")
    row = Complaint(subject_id=subject.id, received_on=received_on, summary=summary, created_by=ctx.actor[:120])
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "complaint.add", subject_id=subject.id, object_ref=f"complaint:{row.id}")
    return row

