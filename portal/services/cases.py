"""Write verbs for objections (异议) and credit repair (信用修复).

Each verb validates, moves the case through the profile's step machine (``portal.domain.cases``),
appends a timeline event, writes the audit event, notifies the subject and queues index work, all
in the caller's transaction (services flush, the web edge commits). Record effects go through
``portal.services.records`` (a correction is a new version; nothing is deleted, 海南 第五十二条).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from ..domain import cases as engine
from ..domain.cases import CaseError, CaseState, state_of
from ..domain.eligibility import Eligibility, repair_eligibility
from ..domain.identity import person_actor
from ..domain.vocab import RecordStatus
from ..domain.workdays import WorkCalendar, fallback_warning
from ..models import Case, CaseEvent, CreditRecord, Notification, StaffUser, Subject
from ..permissions import require_applicant, require_case_role, require_subject_manager
from . import notify as notify_outside
from . import repair_notice
from .audit import record_event
from .calendar import load_calendar
from .context import ServiceContext
from .errors import ServiceError
from .grading_cycle import adjust_after_repair
from .indexing import enqueue
from .lookup_code import issue_lookup_code
from .records import correct_record, current_version, set_record_status

OBJECTION, REPAIR = "objection", "repair"
KINDS = (OBJECTION, REPAIR)
PREFIX = {OBJECTION: "YY", REPAIR: "XF"}
KIND_LABELS = {OBJECTION: "异议", REPAIR: "信用修复"}
MARKERS = {OBJECTION: "异议处理中", REPAIR: "信用修复中"}
STATEMENT_LIMIT = 2000
REASON_LIMIT = 2000
WITHDRAWN = "withdrawn"
# Terminal objection steps that mean the objection succeeded: the record is corrected, withdrawn
# from publication or (logically) deleted (湖南 第二十八条; 海南 第三十八条、第四十条; 湖南医保 第十七条).
UPHELD_STEPS = frozenset({"upheld", "corrected", "modified", "deleted"})
REPAIRED_STEP = "repaired"
# Actions that tell the applicant "no" or change a record: written reasons are required
# (湖南 第二十八条 "书面告知申请人并说明理由"; 海南 第四十条第三款; 湖南 第三十条（二）).
REASON_REQUIRED = frozenset({"reject", "refuse", "keep", "modify", "delete", "uphold", "correct", "objection"})
RECORD_EFFECTS = (RecordStatus.WITHDRAWN, RecordStatus.DELETED)
# The applicant's request for 复核 says why (湖南 第二十八条第三款: 对处理结果有异议的，可以申请复核;
# the reviewing body needs to know what is contested). Bounded like every text we store.
REVIEW_REQUEST = "request_review"
APPLICANT_ROLE = "applicant"
REVIEW_REASON_LIMIT = 1000


@dataclass(frozen=True)
class Applicant:
    """Who files: the login binding (iss, sub), the real name the IdP asserted, how the person
    relates to the subject (``permissions.Via``: self / legal_rep) and the assurance level of the
    login (the 申请人身份证明 of 湖南 第二十七条（三）is the real-name authentication)."""

    iss: str
    sub: str
    name: str
    via: str = ""
    acr: str = ""

    @property
    def actor(self) -> str:
        return person_actor(self.sub)

    @classmethod
    def of(cls, identity, via: str = "") -> Applicant:
        return cls(identity.iss, identity.sub, identity.name, str(via or ""), identity.acr or "")

    def is_applicant_of(self, case: Case) -> bool:
        return (case.applicant_iss, case.applicant_sub) == (self.iss, self.sub)


def machine_for(profile, kind: str):
    return profile.objection if kind == OBJECTION else profile.repair


def _store(case: Case, state: CaseState) -> None:
    case.state, case.step_entered_on, case.due_on = state.step, state.entered_on, state.due_on
    case.earliest_on, case.extended = state.earliest_on, state.extended
    case.stops = [[a.isoformat(), b.isoformat()] for a, b in state.stops]
    case.stop_from, case.stop_reason, case.closed_on = state.stop_from, state.stop_reason, state.closed_on


def _next_case_no(ctx: ServiceContext, kind: str) -> str:
    prefix = f"{PREFIX[kind]}-{ctx.today.year}-"
    last = ctx.session.execute(select(func.max(Case.case_no)).where(Case.case_no.like(prefix + "%"))).scalar()
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:06d}"


def _insert_numbered(ctx: ServiceContext, case: Case, kind: str, attempts: int = 64) -> None:
    """Insert with the next free number. Two filings at the same moment (several web workers)
    may read the same maximum; the unique constraint refuses the second, which takes the next.
    A refusal means another filing committed that number (PostgreSQL waits for it to commit), so
    N simultaneous filings need at most N attempts: 5 was too few for 8 (issue 12)."""
    for _ in range(attempts):
        case.case_no = _next_case_no(ctx, kind)
        try:
            with ctx.session.begin_nested():
                ctx.session.add(case)
                ctx.session.flush()
            return
        except IntegrityError:
            continue
    raise ServiceError("系统繁忙，申请编号分配失败，请稍后重试", "case", 503)


def _event(ctx: ServiceContext, case: Case, *, role: str, action: str, from_state: str, reason: str = "",
           on: date | None = None, stop_from: date | None = None, stop_until: date | None = None) -> CaseEvent:
    ev = CaseEvent(case_id=case.id, on=on or ctx.today, actor=ctx.actor, role=role, action=action,
                   from_state=from_state, to_state=case.state, reason=reason, due_on=case.due_on,
                   stop_from=stop_from, stop_until=stop_until)
    ctx.session.add(ev)
    record_event(ctx.session, ctx.actor, f"case.{action}", subject_id=case.subject_id, object_ref=f"case:{case.case_no}",
                 detail={"kind": case.kind, "from": from_state, "to": case.state, "role": role,
                         "reason": reason, "due_on": case.due_on.isoformat() if case.due_on else None})
    return ev


def notify(ctx: ServiceContext, case: Case, text: str, *, staff_id: int | None = None) -> Notification:
    note = Notification(subject_id=None if staff_id else case.subject_id, staff_id=staff_id, case_id=case.id, text=text)
    ctx.session.add(note)
    notify_outside.enqueue(ctx, note, case)  # e-mail / SMS to the applicant, once (issue 14)
    return note


def _text(value: str, limit: int, field: str, required_msg: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(required_msg, field)
    if len(value) > limit:
        raise ServiceError(f"内容不能超过 {limit} 字", field)
    return value


def _current_record(ctx: ServiceContext, subject: Subject, record: CreditRecord) -> CreditRecord:
    if record.subject_id != subject.id:
        raise ServiceError("该信息不属于此信用主体", "record", 404)
    current = current_version(ctx, record.lineage_id)
    if current is None:
        raise ServiceError("该信息不存在", "record", 404)
    return current


def open_case_for(ctx: ServiceContext, lineage_id: int, kind: str | None = None) -> Case | None:
    q = select(Case).where(Case.record_lineage_id == lineage_id, Case.closed_on.is_(None))
    if kind:
        q = q.where(Case.kind == kind)
    return ctx.session.execute(q.order_by(Case.id).limit(1)).scalar_one_or_none()


def _confirmations(commitment: bool, identity_confirmed: bool, commitment_msg: str) -> None:
    if not identity_confirmed:  # 湖南 第二十七条（三）: 申请人身份证明文件
        raise ServiceError("请确认申请人身份（以实名认证的身份提出申请）", "identity")
    if not commitment:
        raise ServiceError(commitment_msg, "commitment")


def _new_case(ctx: ServiceContext, kind: str, subject: Subject, record: CreditRecord, applicant: Applicant,
              statement: str, ground: str = "", received_on: date | None = None) -> Case:
    """``received_on``: the real receipt day of an application on paper (services.paper); the
    deadlines count from it. Online applications are received today."""
    if open_case_for(ctx, record.lineage_id, kind) is not None:
        raise ServiceError(f"该信息已有正在办理的{KIND_LABELS[kind]}申请", "record", 409)
    received_on = received_on or ctx.today
    machine = machine_for(ctx.profile, kind)
    start = machine.start_for(record).id if kind == OBJECTION else None  # 海南 第十五条第三款
    state = engine.start_case(machine, received_on, load_calendar(ctx.session, ctx.profile), start)
    case = Case(case_no="", kind=kind, subject_id=subject.id,
                record_lineage_id=record.lineage_id, record_id=record.id, ground=ground, statement=statement,
                received_on=received_on, applicant_iss=applicant.iss, applicant_sub=applicant.sub,
                applicant_name=applicant.name[:120], applicant_via=applicant.via[:20], applicant_acr=applicant.acr[:100],
                region_code=subject.region_code, authority=record.authority, stops=[],
                state=state.step, step_entered_on=state.entered_on)
    _store(case, state)
    _insert_numbered(ctx, case, kind)
    case.lookup_code = issue_lookup_code(case)  # shown once on the receipt; only its hash is kept
    _event(ctx, case, role="applicant", action="file", from_state="", on=received_on)
    due = f"，办理期限至 {_due_text(ctx, case)}" if case.due_on else ""
    notify(ctx, case, f"您的{KIND_LABELS[kind]}申请（{case.case_no}）已收到{due}。")
    if ctx.profile.display.case_markers:  # the public page shows "异议处理中" / "信用修复中"
        enqueue(ctx.session, subject.id, f"case.{kind}")
    ctx.session.flush()
    return case


def file_objection(ctx: ServiceContext, subject: Subject, record: CreditRecord, *, ground: str, statement: str,
                   applicant: Applicant, commitment: bool, identity_confirmed: bool) -> Case:
    """File an objection (湖南 第二十六–二十七条: ground, application with content and reasons,
    evidence, proof of identity; 海南 第三十七条; 湖南医保 第十七条 with a truthfulness commitment).
    The subject itself or its legal representative only (``permissions.require_subject_manager``)."""
    require_subject_manager(ctx, subject)
    record = _current_record(ctx, subject, record)
    if ctx.profile.objection.ground(ground) is None:
        raise ServiceError("请选择异议理由", "ground")
    statement = _text(statement, STATEMENT_LIMIT, "statement", "请填写异议内容及理由")
    _confirmations(commitment, identity_confirmed, "请勾选真实性承诺")
    return _new_case(ctx, OBJECTION, subject, record, applicant, statement, ground)


def previous_repairs(ctx: ServiceContext, subject_id: int) -> list[date]:
    return list(ctx.session.execute(
        select(Case.closed_on).where(Case.subject_id == subject_id, Case.kind == REPAIR,
                                     Case.outcome == REPAIRED_STEP)).scalars())


def eligibility_for(ctx: ServiceContext, record: CreditRecord) -> Eligibility:
    others = ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == record.subject_id,
                                                            CreditRecord.is_current.is_(True),
                                                            CreditRecord.id != record.id)).scalars().all()
    return repair_eligibility(record, others, previous_repairs(ctx, record.subject_id), ctx.profile, ctx.today)


def apply_repair(ctx: ServiceContext, subject: Subject, record: CreditRecord, *, statement: str,
                 applicant: Applicant, commitment: bool, identity_confirmed: bool) -> Case:
    """Apply for credit repair (湖南 第二十九–三十条; 海南 第四十二条; 湖南医保 第二十四–二十五条).
    Free of charge (海南 第四十一条). Eligibility is checked first; a refusal lists every reason.
    The subject itself or its legal representative only (``permissions.require_subject_manager``)."""
    require_subject_manager(ctx, subject)
    record = _current_record(ctx, subject, record)
    verdict = eligibility_for(ctx, record)
    if not verdict.eligible:
        reasons = "；".join(f"{r.text_zh}（{r.article}）" for r in verdict.reasons)
        raise ServiceError(f"暂不符合信用修复条件：{reasons}", "record", 422)
    statement = _text(statement, STATEMENT_LIMIT, "statement", "请说明失信行为的纠正和整改情况")
    # 湖南 第二十九条（四）: 公开作出信用承诺
    _confirmations(commitment, identity_confirmed, "请勾选信用承诺")
    return _new_case(ctx, REPAIR, subject, record, applicant, statement)


def _check(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except CaseError as exc:
        raise ServiceError(str(exc), "action", 409) from exc


def act(ctx: ServiceContext, case: Case, action: str, *, role: str, reason: str = "", on: date | None = None,
        changes: dict | None = None, effect: str | None = None, confirmed: bool = True) -> Case:
    """Take one step of the machine as ``role`` (the profile's actor for the current step).

    When an objection ends upheld, ``changes`` (a correction: new version) or ``effect``
    (``withdrawn`` / ``deleted``) says what happens to the record; a repair that ends ``repaired``
    stops publication (status 已修复, the record stays: 湖南 第三十一条; 湖南医保 第二十五条) and the
    subject's grades are recomputed. The caller must hold ``role`` on this step
    (``permissions.require_case_role``)."""
    require_case_role(ctx, case, role)
    if not case.open:
        raise ServiceError("案件已办结", "action", 409)
    on = on or ctx.today
    reason = (reason or "").strip()
    if action in REASON_REQUIRED and not reason:
        raise ServiceError("请填写处理理由（将书面告知申请人）", "reason")
    if len(reason) > REASON_LIMIT:
        raise ServiceError(f"理由不能超过 {REASON_LIMIT} 字", "reason")
    machine = machine_for(ctx.profile, case.kind)
    calendar = load_calendar(ctx.session, ctx.profile)
    before = case.state
    new = _check(engine.apply, machine, state_of(case), action, on, calendar, reason=reason, role=role)
    if action == REVIEW_REQUEST:
        _text(reason, REVIEW_REASON_LIMIT, "reason", "请填写申请复核的理由（对处理结果的哪些内容有异议、为什么）")
    record = current_version(ctx, case.record_lineage_id)
    if new.terminal and case.kind == OBJECTION and new.step in UPHELD_STEPS:
        if new.step == "deleted":
            effect = RecordStatus.DELETED
        if not changes and effect not in RECORD_EFFECTS:
            raise ServiceError("异议成立：请填写更正内容，或选择撤销公示 / 删除", "changes")
    # A decision the applicant is told and must live with or answer (the case ends, or waits for the
    # applicant's 复核 request): the page asks once more.
    decisive = new.terminal or machine.step(new.step).actor == APPLICANT_ROLE
    if decisive and role != APPLICANT_ROLE and not confirmed:
        raise ServiceError("这是办结决定：请勾选“确认作出该决定”后再提交", "confirm")
    waived = ""
    if case.kind == REPAIR:  # a notice of a record no longer public is not held (services.repair_notice)
        new, waived = repair_notice.waive_if_not_public(machine, new, record, ctx.session.get(Subject, case.subject_id),
                                                        on, ctx.profile)
    _store(case, new)
    if new.terminal:
        case.outcome, case.outcome_reason = new.step, reason
        case.materials_requested_on, case.materials_request = None, ""
    ctx.session.flush()
    _event(ctx, case, role=role, action=action, from_state=before, reason=reason, on=on)
    if waived:
        _event(ctx, case, role="system", action=repair_notice.WAIVED, from_state=case.state, reason=waived, on=on)
    if new.terminal and record is not None:
        _effects(ctx, case, record, reason, changes, effect)
    label = repair_notice.case_step_label(machine, case)
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）：{label}。" + (f"理由：{reason}" if reason else "")
           + (("。" if reason and reason[-1] not in "。！？.!?" else "") + f"说明：{waived}。" if waived else ""))
    if ctx.profile.display.case_markers or new.terminal:
        enqueue(ctx.session, case.subject_id, f"case.{case.kind}")
    ctx.session.flush()
    return case


def _effects(ctx: ServiceContext, case: Case, record: CreditRecord, reason: str, changes: dict | None,
             effect: str | None) -> None:
    why = f"{KIND_LABELS[case.kind]} {case.case_no}：{reason or case.outcome}"
    if case.kind == OBJECTION and case.outcome in UPHELD_STEPS:
        if changes:
            correct_record(ctx, record, changes, why)
        else:
            set_record_status(ctx, record, effect, why)
    elif case.kind == REPAIR and case.outcome == REPAIRED_STEP:
        set_record_status(ctx, record, RecordStatus.REPAIRED, why)
        regrade(ctx, case.subject_id)


def regrade(ctx: ServiceContext, subject_id: int) -> None:
    """湖南 第三十一条（三） "按规定调整信用等级": as the profile's document says — directly, through a
    new 初评, or not until the next period — never over a pending 初评 or objection
    (``services.grading_cycle.adjust_after_repair``)."""
    adjust_after_repair(ctx, subject_id)


def decide_objection(ctx: ServiceContext, case: Case, action: str, *, role: str, reason: str = "",
                     changes: dict | None = None, effect: str | None = None) -> Case:
    if case.kind != OBJECTION:
        raise ServiceError("不是异议案件", "case", 404)
    return act(ctx, case, action, role=role, reason=reason, changes=changes, effect=effect)


def advance_repair(ctx: ServiceContext, case: Case, action: str, *, role: str, reason: str = "") -> Case:
    """accept → verify → public notice (≥ min_workdays) → decision (湖南 第三十条; 海南 第四十二条)."""
    if case.kind != REPAIR:
        raise ServiceError("不是信用修复案件", "case", 404)
    return act(ctx, case, action, role=role, reason=reason)


def may_withdraw(profile, case: Case) -> bool:
    """The case can still be withdrawn: open, and (an objection) no decision taken yet
    (``domain.permissions.withdrawable``)."""
    from ..domain.permissions import withdrawable
    from ..permissions import step_actor

    return case.open and withdrawable(case.kind, case.state, step_actor(profile, case))


def withdraw_case(ctx: ServiceContext, case: Case, applicant: Applicant, reason: str = "", *,
                  confirmed: bool = True) -> Case:
    """The applicant withdraws an open case, after confirming (the page asks once more: a
    withdrawn case ends at once). Not after a decision on an objection: the applicant then
    accepts it or asks for 复核 (湖南 第二十八条第三款)."""
    if not case.open:
        raise ServiceError("案件已办结，不能撤回", "case", 409)
    if not applicant.is_applicant_of(case):
        raise ServiceError("只有申请人本人可以撤回申请", "case", 403)
    require_applicant(ctx, case)  # and the login calling is that applicant
    if not may_withdraw(ctx.profile, case):
        raise ServiceError("已作出处理决定，不能再撤回；可以接受处理结果或申请复核", "case", 409)
    if not confirmed:
        raise ServiceError("请勾选确认撤回（撤回后本申请即办结）", "confirm")
    if len((reason or "").strip()) > 500:
        raise ServiceError("撤回理由不能超过 500 字", "reason")
    before = case.state
    case.state, case.outcome, case.outcome_reason = WITHDRAWN, WITHDRAWN, (reason or "").strip()[:REASON_LIMIT]
    case.closed_on, case.due_on, case.stop_from = ctx.today, None, None
    case.materials_requested_on, case.materials_request = None, ""
    ctx.session.flush()
    _event(ctx, case, role="applicant", action="withdraw", from_state=before, reason=case.outcome_reason)
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）已撤回。")
    enqueue(ctx.session, case.subject_id, f"case.{case.kind}")
    ctx.session.flush()
    return case


def _staff_step(ctx: ServiceContext, case: Case, role: str):
    require_case_role(ctx, case, role)
    step = machine_for(ctx.profile, case.kind).step(case.state) if case.open else None
    if step is None or step.actor != role:
        raise ServiceError("当前环节不由您办理", "case", 403)
    return step


def extend_case(ctx: ServiceContext, case: Case, *, role: str, reason: str, on: date | None = None,
                approver: str = "", approver_code: str = "") -> Case:
    """The one-time extension, with the reason told to the applicant (湖南 第二十八条第二款).
    Where the step says so (``extension_approval``: 经负责人批准, 湖南 第二十八条; 海南 第四十条) a
    ``head`` account other than the handler approves with its own current code, and the event,
    the audit log and the applicant's notice name the approver."""
    step = _staff_step(ctx, case, role)
    on = on or ctx.today
    if len((reason or "").strip()) > REASON_LIMIT:
        raise ServiceError(f"理由不能超过 {REASON_LIMIT} 字", "reason")
    new = _check(engine.extend, machine_for(ctx.profile, case.kind), state_of(case), on,
                 load_calendar(ctx.session, ctx.profile), reason)
    approved = ""
    if step.extension_approval:  # after the step's own checks: a refused extension uses no code
        from .staff import confirm_approver

        if not (approver or "").strip():
            raise ServiceError(f"延期须经负责人批准（{step.article}）：请负责人填写账号和动态验证码", "approver")
        head = confirm_approver(ctx, approver, approver_code, case, ctx.actor)
        approved = f"（经负责人{head.display_name or head.username}批准）"
    _store(case, new)
    ctx.session.flush()
    _event(ctx, case, role=role, action="extend", from_state=case.state, reason=reason.strip() + approved, on=on)
    if approved:
        record_event(ctx.session, f"staff:{head.username}", "case.extend_approved", subject_id=case.subject_id,
                     object_ref=f"case:{case.case_no}", detail={"handler": ctx.actor, "approved_by": head.username})
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）办理期限延长至 "
                      f"{_due_text(ctx, case)}{approved}。延期理由：{reason.strip()}")
    ctx.session.flush()
    return case


def stop_clock(ctx: ServiceContext, case: Case, *, role: str, reason: str, first: date | None = None) -> Case:
    """Stop the clock for testing / appraisal / expert review (湖南 第二十八条第二款)."""
    _staff_step(ctx, case, role)
    first = first or ctx.today
    new = _check(engine.stop_clock, machine_for(ctx.profile, case.kind), state_of(case), first, reason)
    _store(case, new)
    ctx.session.flush()
    _event(ctx, case, role=role, action="stop_clock", from_state=case.state, reason=reason, on=first, stop_from=first)
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）自 {first.isoformat()} 起因{reason}"
                      f"中止计算办理期限（该时间不计入办理期限）。")
    ctx.session.flush()
    return case


def resume_clock(ctx: ServiceContext, case: Case, *, role: str, on: date | None = None) -> Case:
    _staff_step(ctx, case, role)
    on = on or ctx.today
    old = state_of(case)
    new = _check(engine.resume_clock, machine_for(ctx.profile, case.kind), old, on, load_calendar(ctx.session, ctx.profile))
    _store(case, new)
    ctx.session.flush()
    first, last = new.stops[-1]
    _event(ctx, case, role=role, action="resume_clock", from_state=case.state, reason=old.stop_reason, on=on,
           stop_from=first, stop_until=last)
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）恢复计算办理期限，"
                      f"办理期限至 {_due_text(ctx, case)}。")
    ctx.session.flush()
    return case


def request_materials(ctx: ServiceContext, case: Case, *, role: str, reason: str) -> Case:
    """Ask the applicant for more material (补正材料), as an explicit event with what is needed.

    湖南 第二十七条 lists the materials an objection needs (申请书、证明材料、身份证明); 湖南医保
    第二十五条 the evidence of correction a repair needs. None of the profiles' documents stops
    the clock for this, so the due date does not move (an extension or a clock stop stays a
    separate, explicit event). The applicant is told in the inbox and may upload on the case page."""
    _staff_step(ctx, case, role)
    reason = _text(reason, REASON_LIMIT, "reason", "请写明需要补正的材料（将告知申请人）")
    case.materials_requested_on, case.materials_request = ctx.today, reason
    ctx.session.flush()
    _event(ctx, case, role=role, action="request_materials", from_state=case.state, reason=reason)
    due = f"办理期限仍为 {_due_text(ctx, case)}，" if case.due_on else ""
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）需要补正材料：{reason}。"
                      f"{due}请尽快在申请页面上传补充材料。")
    ctx.session.flush()
    return case


def supplement_evidence(ctx: ServiceContext, case: Case, applicant: Applicant, files: list[tuple[str, bytes]], *,
                        var_dir: str | os.PathLike, note: str = "") -> list:
    """The applicant uploads the material asked for: every file is checked before any is stored
    (``evidence.validate``), then stored as stage ``supplement``; the request is answered, the
    staff member who asked is notified, and the applicant gets a receipt."""
    from ..models import Evidence
    from .evidence import MAX_CASE_FILES, MAX_FILES, validate  # add_evidence: re-exported at the end

    if not case.open:
        raise ServiceError("案件已办结，不能再补充材料", "evidence", 409)
    if not applicant.is_applicant_of(case):
        raise ServiceError("只有申请人本人可以补充材料", "evidence", 403)
    require_applicant(ctx, case)  # and the login calling is that applicant
    if case.materials_requested_on is None:
        raise ServiceError("目前没有需要补正的材料；如有新的证据，请联系办理部门", "evidence", 409)
    if not files:
        raise ServiceError("请选择要上传的补充材料", "evidence")
    if len(files) > MAX_FILES:
        raise ServiceError(f"每次最多上传 {MAX_FILES} 个文件", "evidence")
    note = (note or "").strip()
    if len(note) > 500:
        raise ServiceError("补充说明不能超过 500 字", "note")
    held = ctx.session.execute(select(func.count()).select_from(Evidence).where(Evidence.case_id == case.id)).scalar_one()
    if held + len(files) > MAX_CASE_FILES:  # refused before any file is written
        raise ServiceError(f"每件申请最多保存 {MAX_CASE_FILES} 个文件，还可上传 {max(0, MAX_CASE_FILES - held)} 个",
                           "evidence")
    for name, data in files:
        validate(name, data)
    rows = [add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by=applicant.actor, stage="supplement")
            for name, data in files]
    request_event = ctx.session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "request_materials")
        .order_by(CaseEvent.id.desc()).limit(1)).scalar_one_or_none()
    case.materials_requested_on, case.materials_request = None, ""
    ctx.session.flush()
    names = "、".join(r.original_name for r in rows)
    _event(ctx, case, role="applicant", action="supplement", from_state=case.state,
           reason=f"补充材料 {len(rows)} 份：{names}" + (f"。说明：{note}" if note else ""))
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）已收到补充材料 {len(rows)} 份。")
    asker = _staff_of(ctx, request_event.actor) if request_event else None
    if asker is not None:
        notify(ctx, case, f"{case.case_no}：申请人已补正材料 {len(rows)} 份，请继续办理。", staff_id=asker.id)
    ctx.session.flush()
    return rows


def _staff_of(ctx: ServiceContext, actor: str) -> StaffUser | None:
    if not actor.startswith("staff:"):
        return None
    return ctx.session.execute(select(StaffUser).where(StaffUser.username == actor[6:])).scalar_one_or_none()


def deadline_warning(case: Case, calendar: WorkCalendar) -> str:
    """The warning staff see when a stored deadline of an open case is provisional (暂定): it was
    counted through a year whose make-up swaps are not known (not in chinesecalendar, not
    reviewed; ``domain.workdays``); '' otherwise. Truthy = show "暂定" to the applicant too."""
    span = engine.counted_span(state_of(case)) if case.open else None
    return fallback_warning(calendar.uncovered_years(*span)) if span else ""


def is_provisional(case: Case, calendar: WorkCalendar) -> bool:
    """The case's stored due date is 暂定 (see :func:`deadline_warning`)."""
    return bool(deadline_warning(case, calendar))


def _due_text(ctx: ServiceContext, case: Case, calendar: WorkCalendar | None = None) -> str:
    """The stored due date as told to the applicant, with "（暂定…）" while it is provisional."""
    calendar = calendar or load_calendar(ctx.session, ctx.profile)
    tail = "（暂定：相关年份调休安排公布后可能调整）" if is_provisional(case, calendar) else ""
    return f"{case.due_on.isoformat()}{tail}"


def confirm_year(ctx: ServiceContext, year: int) -> list[Case]:
    """A year's holiday notice was confirmed: every open case whose stored deadlines run through
    that year is counted again and gets an explicit event (its dates are no longer 暂定), and the
    applicant is told the confirmed date."""
    calendar = load_calendar(ctx.session, ctx.profile)
    done = []
    for case in ctx.session.execute(select(Case).where(Case.closed_on.is_(None)).order_by(Case.id)).scalars():
        old = state_of(case)
        span = engine.counted_span(old)
        if span is None or not span[0].year <= year <= span[1].year:
            continue
        new = engine.recompute(machine_for(ctx.profile, case.kind), old, calendar)
        _store(case, new)
        ctx.session.flush()
        _event(ctx, case, role="system", action="recalculate", from_state=case.state,
               reason=f"{year}年放假安排已确认，期限不再为暂定")
        if case.due_on:
            provisional = "（仍为暂定）" if is_provisional(case, calendar) else ""
            notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）：{year}年法定节假日安排已确认，"
                              f"办理期限为 {case.due_on.isoformat()}{provisional}。")
        done.append(case)
    ctx.session.flush()
    return done


def recalculate_due_dates(ctx: ServiceContext, changed: date) -> list[Case]:
    """After the holiday table changed on day ``changed``: count every open case whose stored
    deadlines run over that day again, and record each moved date as an event the applicant is
    told about. Stored dates are never changed silently."""
    calendar = load_calendar(ctx.session, ctx.profile)
    moved = []
    rows = ctx.session.execute(select(Case).where(Case.closed_on.is_(None), Case.step_entered_on <= changed)
                               .order_by(Case.id)).scalars()
    for case in rows:
        old = state_of(case)
        span = engine.counted_span(old)
        if span is None or span[1] < changed:
            continue
        new = engine.recompute(machine_for(ctx.profile, case.kind), old, calendar)
        if (new.due_on, new.earliest_on) == (old.due_on, old.earliest_on):
            continue
        _store(case, new)
        ctx.session.flush()
        why = f"{changed.isoformat()} 的节假日安排已更新，重新计算期限"
        _event(ctx, case, role="system", action="recalculate", from_state=case.state, reason=why)
        parts = [f"办理期限改为 {_due_text(ctx, case, calendar)}"] if new.due_on != old.due_on and case.due_on else []
        if new.earliest_on != old.earliest_on and case.earliest_on:
            parts.append(f"公示期至少至 {engine.notice_last_day(case.earliest_on).isoformat()}")
        if parts:
            notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）因法定节假日安排更新，"
                              + "，".join(parts) + "。")
        moved.append(case)
    ctx.session.flush()
    return moved


def open_cases_query(subject_id, *columns):
    """A subject's open cases (what :func:`case_markers` reads); ``subject_id`` a bind parameter
    or a correlated column (``services.public_page_read``), ``columns`` what to select."""
    return (select(*(columns or (Case.record_lineage_id, Case.kind, Case.state, Case.due_on)))
            .where(Case.subject_id == subject_id, Case.closed_on.is_(None)).order_by(Case.id))


_OPEN_CASES = open_cases_query(bindparam("subject_id"))


def case_markers(session, profile, subject_id: int, today: date | None = None) -> dict[int, str]:
    """lineage id → "异议处理中" / "信用修复中" for the public page, when the profile shows them.
    With ``today``, a case whose step window passed unused (``on_timeout``, 湖南 第二十八条第三款)
    shows no marker even before the daily sweep closed it."""
    if not profile.display.case_markers:
        return {}
    return markers_from_open_cases(profile, session.execute(_OPEN_CASES, {"subject_id": subject_id}).all(), today)


def markers_from_open_cases(profile, rows, today: date | None = None) -> dict[int, str]:
    """:func:`case_markers` from the subject's open cases already read, ``(lineage id, kind,
    state, due_on)`` in case id order (the public page reads them in its one statement)."""
    if not profile.display.case_markers:
        return {}
    out = {}
    for lineage, kind, state, due_on in rows:
        step = machine_for(profile, kind).step(state)
        if today is not None and step.on_timeout and due_on is not None and today > due_on:
            continue
        out[lineage] = MARKERS[kind]
    return out
from .evidence import add_evidence  # noqa: E402,F401  (the verb lives with the upload checks)
