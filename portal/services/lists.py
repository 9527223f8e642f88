"""List procedures (issue 16): verbs for the serious-dishonesty list and the red list, the
escalation of repeated 一般失信 (海南 第十四条) and the daily sweep (``credit-portal lists run``).

The rules (states, deadlines, criteria) are pure functions in ``portal.domain.lists``; each verb
here checks who asks, moves the case, stores the dates those functions computed, writes a
timeline event and the audit event. The only thing a procedure makes public is the credit record
it files at ``publish`` (record types ``serious_list`` / ``redlist``, read by the public lists
through ``domain.disclosure.public_view``): a proposal, the notice, the defence and the decision
itself stay with staff and the subject. Entries imported from elsewhere (a provincial list, a
joint-punishment list) are records too and keep showing; the procedure is how this commission
puts a subject on its own lists.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..documents.citations import own_parts, unspecified
from ..domain import lists as rules
from ..domain.vocab import RecordStatus, SubjectKind
from ..domain.windows import window_end
from ..models import CreditRecord, Grade, ListCase, ListDocument, ListEvent, StaffUser, Subject
from .audit import record_event
from .calendar import load_calendar
from .context import ServiceContext
from .errors import ServiceError
from .notify import tell_subject
from .record_hooks import on_dishonesty as after_dishonesty
from .staff import ADMIN, in_region

OFFICER_ROLES = {"department", ADMIN}
TEXT_LIMIT = 2000
PREFIX = {rules.SERIOUS: "SX", rules.RED: "HM"}
OPEN_STATES = (rules.PROPOSED, rules.NOTIFIED, rules.NOTICE, rules.DECIDED)


def _rules(ctx: ServiceContext):
    if ctx.profile.lists is None:
        raise ServiceError("本辖区规则配置未设置名单程序（[lists]）", "kind", 404)
    return ctx.profile.lists


def require_list_officer(ctx: ServiceContext, region_code: str) -> None:
    """认定部门: a department or admin account covering the subject's region; ``None`` is the
    command line (the operator's own process)."""
    user = ctx.caller
    if user is None:
        return
    if not isinstance(user, StaffUser) or not user.active or not OFFICER_ROLES & set(user.roles) \
            or not in_region(user, region_code):
        raise ServiceError("无权办理该地区的名单认定", "case", 403)


def _text(value: str, field: str, label: str, required: bool = True) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ServiceError(f"请填写{label}", field)
    if len(value) > TEXT_LIMIT:
        raise ServiceError(f"{label}不能超过 {TEXT_LIMIT} 字", field)
    return value


def _next_no(ctx: ServiceContext, kind: str) -> str:
    stem = f"{PREFIX[kind]}-{ctx.today.year}-"
    n = ctx.session.execute(select(func.count(ListCase.id)).where(ListCase.case_no.like(stem + "%"))).scalar_one()
    return f"{stem}{n + 1:04d}"


def _event(ctx: ServiceContext, case: ListCase, action: str, before: str, note: str = "") -> ListEvent:
    ev = ListEvent(case_id=case.id, on=ctx.today, actor=ctx.actor[:120], action=action, from_state=before,
                   to_state=case.state, note=note, due_on=case.due_on)
    ctx.session.add(ev)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, f"list.{action}", subject_id=case.subject_id,
                 object_ref=f"list:{case.case_no}",
                 detail={"kind": case.kind, "from": before, "to": case.state, "due_on": str(case.due_on or ""),
                         "event": ev.id})
    return ev


def _tell(ctx: ServiceContext, case: ListCase, text: str) -> None:
    """The subject's inbox (/me) and its e-mail / SMS (``notify.tell_subject``): 告知 and every
    later decision reach the subject itself."""
    tell_subject(ctx, case.subject_id, f"{rules.KINDS[case.kind]} {case.case_no}：{text}")


def _enter(ctx: ServiceContext, case: ListCase, state: str) -> None:
    dates = rules.step_dates(case.kind, state, ctx.today, _rules(ctx), load_calendar(ctx.session, ctx.profile))
    case.state, case.step_entered_on, case.due_on, case.earliest_on = state, ctx.today, dates.due_on, dates.earliest_on


def _move(ctx: ServiceContext, case: ListCase, action: str, note: str = "") -> ListEvent:
    require_list_officer(ctx, case.region_code)
    try:
        target = rules.next_state(case.kind, case.state, action)
    except rules.ListRuleError as exc:
        raise ServiceError(exc.message, exc.field, exc.status) from exc
    before = case.state
    _enter(ctx, case, target)
    if target in rules.TERMINAL:
        case.closed_on, case.due_on = ctx.today, None
    return _event(ctx, case, action, before, note)


def latest_formal_grade(ctx: ServiceContext, subject: Subject) -> str | None:
    return ctx.session.execute(select(Grade.letter).where(Grade.subject_id == subject.id)
                               .order_by(Grade.year.desc()).limit(1)).scalar_one_or_none()


def _current_records(ctx: ServiceContext, subject_id: int) -> list[CreditRecord]:
    return list(ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject_id,
                                                               CreditRecord.is_current.is_(True))).scalars())


def red_list_refusal(ctx: ServiceContext, subject: Subject) -> str | None:
    """The profile's red-list criteria applied to this subject (``None``: it qualifies)."""
    return rules.red_list_refusal(latest_formal_grade(ctx, subject), [g.letter for g in ctx.profile.grades],
                                  _current_records(ctx, subject.id), ctx.today, _rules(ctx))


def propose_listing(ctx: ServiceContext, subject: Subject, kind: str, reason: str, *, basis: str = "",
                    measures: str = "", public_summary: str = "", origin: str = "manual",
                    source_records: list[int] | None = None) -> ListCase:
    """提出列入建议. Serious list: 事由 and 依据 are required (海南 第十八条); red list: the subject
    must meet the profile's criteria now (and again at the decision)."""
    _rules(ctx)
    if kind not in rules.KINDS:
        raise ServiceError("请选择名单类别", "kind")
    require_list_officer(ctx, subject.region_code)
    reason = _text(reason, "reason", "事由")
    basis = _text(basis, "basis", "依据", required=kind == rules.SERIOUS)
    measures, public_summary = _text(measures, "measures", "惩戒（激励）措施", False), \
        _text(public_summary, "public_summary", "公示摘要", False)
    if kind == rules.RED:
        if subject.kind != SubjectKind.ORG:
            raise ServiceError("守信红名单的对象为机构", "subject")
        refusal = red_list_refusal(ctx, subject)
        if refusal:
            raise ServiceError(f"不符合守信红名单条件：{refusal}", "subject", 409)
    busy = ctx.session.execute(select(ListCase.case_no).where(
        ListCase.subject_id == subject.id, ListCase.kind == kind,
        ListCase.state.in_((*OPEN_STATES, rules.LISTED)))).scalars().first()
    if busy:
        raise ServiceError(f"该主体已有{rules.KINDS[kind]}程序 {busy}", "subject", 409)
    case = ListCase(case_no=_next_no(ctx, kind), kind=kind, origin=origin, subject_id=subject.id,
                    region_code=subject.region_code or "", state=rules.PROPOSED, reason=reason, basis=basis,
                    measures=measures, public_summary=public_summary, source_records=list(source_records or []),
                    proposed_on=ctx.today, step_entered_on=ctx.today, created_by=ctx.actor[:120])
    ctx.session.add(case)
    ctx.session.flush()
    _enter(ctx, case, rules.PROPOSED)
    _event(ctx, case, "propose", "", origin)
    return case


def notify_subject(ctx: ServiceContext, case: ListCase, *, base_url: str) -> ListDocument:
    """事先告知 (海南 第十五条第一款、第十八条; 湖南医保 第十八条): the reasons, the basis and the
    subject's rights, with the defence deadline; issues the 事先告知书."""
    from .list_documents import issue

    event = _move(ctx, case, "notify")
    doc = issue(ctx, case, "notice_letter", event, base_url=base_url)
    _tell(ctx, case, f"认定部门拟将您列入该名单，事先告知书 {doc.doc_no} 已送达；您可以在 {case.earliest_on} 前陈述、申辩"
          + ("或要求听证" if _rules(ctx).hearing else "") + "。")
    return doc


def start_red_notice(ctx: ServiceContext, case: ListCase) -> ListEvent:
    """红名单 拟列入公示: the notice lasts at least ``red_notice_workdays``."""
    return _move(ctx, case, "notice")


def record_defence(ctx: ServiceContext, case: ListCase, statement: str, *, hearing: bool = False) -> ListCase:
    """陈述申辩 (and, where the profile allows, a request for a hearing, 湖南医保 第十八条): by the
    subject itself after real-name login, or registered by staff from a written statement."""
    from ..permissions import require_subject_manager

    subject = ctx.session.get(Subject, case.subject_id)
    if isinstance(ctx.caller, StaffUser):
        require_list_officer(ctx, case.region_code)
    else:
        require_subject_manager(ctx, subject)
    if case.kind != rules.SERIOUS or case.state != rules.NOTIFIED:
        raise ServiceError("只有在事先告知后、作出决定前可以陈述申辩", "statement", 409)
    if case.defence:
        raise ServiceError("陈述申辩已登记", "statement", 409)
    if hearing and not _rules(ctx).hearing:
        raise ServiceError("本辖区规则未规定听证程序", "hearing")
    case.defence, case.defence_on, case.hearing_requested = _text(statement, "statement", "陈述申辩意见"), ctx.today, hearing
    ctx.session.flush()
    _event(ctx, case, "defence", case.state, "要求听证" if hearing else "")
    return case


def decide_listing(ctx: ServiceContext, case: ListCase, note: str, *, base_url: str) -> ListDocument:
    """认定决定 with its document (事由、依据、惩戒措施提示、移出条件和程序、救济措施: 海南 第十八条;
    湖南医保 第十八条第二款 出具并送达决定文书). Not before the defence window or the red-list notice ends."""
    from .list_documents import issue

    why = rules.may_decide(case.state, ctx.today, case.earliest_on, bool(case.defence))
    if why and case.state in (rules.NOTIFIED, rules.NOTICE):
        require_list_officer(ctx, case.region_code)
        raise ServiceError(why, "action", 409)
    if case.kind == rules.RED and case.state == rules.NOTICE:
        refusal = red_list_refusal(ctx, ctx.session.get(Subject, case.subject_id))
        if refusal:
            raise ServiceError(f"不符合守信红名单条件：{refusal}", "action", 409)
    event = _move(ctx, case, "decide", _text(note, "note", "决定意见", False))
    case.decided_on = ctx.today
    if case.kind == rules.SERIOUS:
        case.report_due_on = rules.report_due(ctx.today, _rules(ctx), load_calendar(ctx.session, ctx.profile))
    ctx.session.flush()
    doc = issue(ctx, case, "decision", event, base_url=base_url)
    _tell(ctx, case, f"已作出列入决定，决定书 {doc.doc_no}；对决定有异议的，可以依法提出异议或申请复议、提起诉讼。")
    return doc


def publish_listing(ctx: ServiceContext, case: ListCase) -> CreditRecord:
    """公开列入: files the list entry as a public credit record through the record verb; this is
    the moment anything of the procedure becomes public."""
    from .records import add_record

    require_list_officer(ctx, case.region_code)
    subject = ctx.session.get(Subject, case.subject_id)
    if case.state != rules.DECIDED:
        _move(ctx, case, "publish")  # raises the reason
    decision = ctx.session.execute(select(ListDocument.doc_no).where(
        ListDocument.case_id == case.id, ListDocument.kind == "decision").order_by(ListDocument.id.desc())).scalar()
    until = rules.listed_until(case.kind, ctx.today, _rules(ctx))
    title = ("列入卫生健康领域严重失信主体名单" if case.kind == rules.SERIOUS else "列入卫生健康守信红名单")
    summary = case.public_summary or f"经认定，列入{rules.KINDS[case.kind]}（{case.case_no}）。"
    record = add_record(ctx, subject, record_type=rules.RECORD_TYPE[case.kind], title=title, decided_on=case.decided_on,
                        severity="serious" if case.kind == rules.SERIOUS else None, content=summary,
                        public_summary=summary, doc_no=decision or "", authority=ctx.profile.authority,
                        publish_from=ctx.today, publish_until=window_end(ctx.today, _months(ctx, case)))
    _move(ctx, case, "publish")
    case.published_on, case.listed_until, case.record_lineage_id = ctx.today, until, record.lineage_id
    ctx.session.flush()
    _tell(ctx, case, f"已于 {ctx.today} 公开列入，列入期限至 {until}。")
    return record


def _months(ctx: ServiceContext, case: ListCase) -> int:
    r = _rules(ctx)
    return r.listing_months if case.kind == rules.SERIOUS else r.red_listing_months


def report_to_province(ctx: ServiceContext, case: ListCase, note: str = "") -> ListCase:
    """报送省级部门 (湖南医保 第十八条第三款: 认定后5个工作日内上报): recorded once, on time or late."""
    require_list_officer(ctx, case.region_code)
    if case.kind != rules.SERIOUS or case.decided_on is None or case.state == rules.DROPPED:
        raise ServiceError("作出认定决定后方可报送", "action", 409)
    if case.reported_on is not None:
        raise ServiceError(f"已于 {case.reported_on} 报送", "action", 409)
    case.reported_on = ctx.today
    ctx.session.flush()
    late = "（逾期）" if rules.overdue(case.report_due_on, ctx.today) else ""
    _event(ctx, case, "report", case.state, _text(note, "note", "报送说明", False) + late)
    return case


def _stop_record(ctx: ServiceContext, case: ListCase, status: str, why: str) -> None:
    from .records import current_version, set_record_status

    record = current_version(ctx, case.record_lineage_id) if case.record_lineage_id else None
    if record is not None and record.status == RecordStatus.ACTIVE:
        set_record_status(ctx, record, status, why)


def exit_listing(ctx: ServiceContext, case: ListCase, reason: str, note: str = "") -> ListCase:
    """移出名单: on expiry of the listing, after a repair (the record stops being published, not
    deleted: 湖南 第三十一条; 海南 第四十二条（五）), or when an objection was upheld."""
    if reason not in rules.EXIT_REASONS:
        raise ServiceError("请选择移出原因", "reason")
    if reason == "expiry" and case.listed_until and ctx.today < case.listed_until:
        require_list_officer(ctx, case.region_code)
        raise ServiceError(f"列入期限至 {case.listed_until}，尚未届满", "reason", 409)
    label = rules.EXIT_REASONS[reason]
    _move(ctx, case, "exit", f"{label}。{_text(note, 'note', '说明', False)}".rstrip("。") + "。")
    case.outcome_reason = reason
    _tell(ctx, case, f"已于 {ctx.today} 移出（{label}）。")
    if reason == "objection":
        _stop_record(ctx, case, RecordStatus.WITHDRAWN, f"移出{rules.KINDS[case.kind]}：{label}")
    elif reason == "repair":
        _stop_record(ctx, case, RecordStatus.REPAIRED, f"移出{rules.KINDS[case.kind]}：{label}")
    return case


def drop_listing(ctx: ServiceContext, case: ListCase, note: str) -> ListCase:
    """不予列入 (the defence was accepted, the criteria fail, an objection to the notice held)."""
    _move(ctx, case, "drop", _text(note, "note", "不予列入的理由"))
    if case.kind == rules.SERIOUS and any(e for e in _events(ctx, case) if e.action == "notify"):
        _tell(ctx, case, f"经核实，决定不予列入：{note.strip()}")
    return case


def _events(ctx: ServiceContext, case: ListCase) -> list[ListEvent]:
    return list(ctx.session.execute(select(ListEvent).where(ListEvent.case_id == case.id)
                                    .order_by(ListEvent.id)).scalars())


@after_dishonesty
def on_dishonesty(ctx: ServiceContext, subject: Subject, record: CreditRecord) -> list[ListCase]:
    """A new dishonesty record removes the subject from the red list (淮安 三（一）; 海南 第三十三条
    守信激励 only for subjects in good standing) and ends red-list proposals. Called by the record
    verb; the daily sweep catches records that came in by other paths."""
    if ctx.profile.lists is None:
        return []
    cases = ctx.session.execute(select(ListCase).where(
        ListCase.subject_id == subject.id, ListCase.kind == rules.RED,
        ListCase.state.in_((*OPEN_STATES, rules.LISTED)))).scalars().all()
    why = f"新增失信信息（record:{record.lineage_id or record.id}，{record.decided_on}）"
    caller, ctx.caller = ctx.caller, None  # a consequence of the record, not a decision of whoever filed it
    try:
        for case in cases:
            if case.state == rules.LISTED:
                _move(ctx, case, "remove", why)
                _tell(ctx, case, f"因{why}，已于 {ctx.today} 移出守信红名单。")
                _stop_record(ctx, case, RecordStatus.WITHDRAWN, f"移出守信红名单：{why}")
            else:
                _move(ctx, case, "drop", why)
    finally:
        ctx.caller = caller
    return list(cases)


# The basis a proposal by escalation states: 海南's article under hainan; a profile whose regulation has no
# such rule (the count is an editable setting there) says it is this platform's practice.
ESCALATION_BASIS = "海南 第十四条第三款（1年内累计发生多次同类一般失信行为的，可以升级失信程度）"


def escalation_basis(document: str) -> str:
    return own_parts(ESCALATION_BASIS, document) or f"累计多次同类一般失信行为升级失信程度：{unspecified(document)}"


def propose_escalations(ctx: ServiceContext) -> list[ListCase]:
    """海南 第十四条: subjects whose 一般失信 records of one type reached the profile's count within
    its period get a serious-list *proposal* (origin ``escalation``) that goes through the whole
    procedure; the records themselves are never changed silently. Idempotent: one proposal per
    set of records, none while another serious-list procedure is open."""
    r = _rules(ctx)
    if not r.escalate_count:
        return []
    since = date(ctx.today.year - 2, 1, 1)
    subject_ids = ctx.session.execute(select(CreditRecord.subject_id).where(
        CreditRecord.is_current.is_(True), CreditRecord.info_class == "dishonest", CreditRecord.severity == "general",
        CreditRecord.status == RecordStatus.ACTIVE, CreditRecord.decided_on >= since)
        .group_by(CreditRecord.subject_id).having(func.count(CreditRecord.id) >= r.escalate_count)).scalars().all()
    made = []
    for sid in subject_ids:
        found = rules.escalation_records(_current_records(ctx, sid), ctx.today, r)
        if not found:
            continue
        ids = sorted(x.lineage_id or x.id for x in found)
        existing = ctx.session.execute(select(ListCase).where(ListCase.subject_id == sid,
                                                              ListCase.kind == rules.SERIOUS)).scalars().all()
        if any(c.state not in rules.TERMINAL or sorted(c.source_records or []) == ids for c in existing):
            continue
        subject = ctx.session.get(Subject, sid)
        titles = "；".join(f"{x.decided_on} {x.title}" for x in found)
        made.append(propose_listing(
            ctx, subject, rules.SERIOUS, f"{r.escalate_months} 个月内累计 {len(found)} 次同类一般失信行为：{titles}",
            basis=escalation_basis(ctx.profile.document),
            origin="escalation", source_records=ids))
    return made


def sweep(ctx: ServiceContext) -> dict[str, int]:
    """``credit-portal lists run`` (daily, idempotent): exit entries whose listing ended or whose
    record was repaired / withdrawn by another procedure; remove red-list entries of subjects with
    a dishonesty record decided after the red-list decision (records from imports); propose
    escalations. Runs as the operator's process (``ctx.caller`` is ``None``)."""
    from .records import current_version

    counts = {"exited": 0, "removed": 0, "escalations": 0}
    listed = ctx.session.execute(select(ListCase).where(ListCase.state == rules.LISTED)
                                 .order_by(ListCase.id)).scalars().all()
    for case in listed:
        record = current_version(ctx, case.record_lineage_id) if case.record_lineage_id else None
        if case.kind == rules.RED:
            newer = ctx.session.execute(select(CreditRecord).where(
                CreditRecord.subject_id == case.subject_id, CreditRecord.is_current.is_(True),
                CreditRecord.info_class.in_(("dishonest", "serious")), CreditRecord.status == RecordStatus.ACTIVE,
                CreditRecord.decided_on >= case.decided_on).order_by(CreditRecord.id)).scalars().first()
            if newer is not None:
                on_dishonesty(ctx, ctx.session.get(Subject, case.subject_id), newer)
                counts["removed"] += 1
                continue
        if record is not None and record.status == RecordStatus.REPAIRED:
            exit_listing(ctx, case, "repair", "信用修复决定生效")
        elif record is not None and record.status in (RecordStatus.WITHDRAWN, RecordStatus.DELETED):
            exit_listing(ctx, case, "objection", "列入信息已撤销")
        elif case.listed_until is not None and ctx.today >= case.listed_until:
            exit_listing(ctx, case, "expiry")
        else:
            continue
        counts["exited"] += 1
    counts["escalations"] = len(propose_escalations(ctx)) if _rules(ctx).escalate_count else 0
    return counts


# --- reading ------------------------------------------------------------------------------------

def case_by_no(ctx: ServiceContext, case_no: str) -> ListCase | None:
    case_no = (case_no or "").strip()
    if not case_no or len(case_no) > 20:
        return None
    return ctx.session.execute(select(ListCase).where(ListCase.case_no == case_no)).scalar_one_or_none()


def _row(ctx: ServiceContext, case: ListCase, subject: Subject) -> dict:
    return {"case_no": case.case_no, "kind": case.kind, "kind_label": rules.KINDS[case.kind], "origin": case.origin,
            "subject": subject.name, "subject_public_id": subject.public_id, "state": case.state,
            "state_label": rules.STATE_LABELS[case.state], "due_on": case.due_on, "earliest_on": case.earliest_on,
            "overdue": rules.overdue(case.due_on, ctx.today),
            "report_due_on": case.report_due_on, "reported_on": case.reported_on,
            "report_overdue": rules.overdue(case.report_due_on, ctx.today, case.reported_on is not None),
            "listed_until": case.listed_until, "actions": list(rules.TRANSITIONS.get((case.kind, case.state), {}))}


def staff_queue(ctx: ServiceContext, *, include_closed: bool = False) -> list[dict]:
    """The staff list of procedures in the caller's region, most urgent first."""
    user = ctx.caller
    if not isinstance(user, StaffUser):
        raise ServiceError("请先以工作人员身份登录", "case", 403)
    q = select(ListCase, Subject).join(Subject, Subject.id == ListCase.subject_id)
    if not include_closed:
        q = q.where(ListCase.closed_on.is_(None))
    rows = [_row(ctx, c, s) for c, s in ctx.session.execute(q.order_by(ListCase.id)).all()
            if OFFICER_ROLES & set(user.roles) and in_region(user, c.region_code)]
    return sorted(rows, key=lambda r: (r["due_on"] or date.max, r["case_no"]))


def case_view(ctx: ServiceContext, case: ListCase) -> dict:
    """One procedure for staff: its facts, the timeline and its documents."""
    from .case_reads import log_case_read

    require_list_officer(ctx, case.region_code)
    subject = ctx.session.get(Subject, case.subject_id)
    log_case_read(ctx, subject, what="list_case", ref=case.case_no)  # staff reading non-public facts
    events = _events(ctx, case)
    docs = ctx.session.execute(select(ListDocument).where(ListDocument.case_id == case.id)
                               .order_by(ListDocument.id)).scalars().all()
    from .list_documents import KIND_LABELS

    return _row(ctx, case, subject) | {
        "reason": case.reason, "basis": case.basis, "measures": case.measures, "public_summary": case.public_summary,
        "defence": case.defence, "defence_on": case.defence_on, "hearing_requested": case.hearing_requested,
        "decided_on": case.decided_on, "published_on": case.published_on, "outcome_reason": case.outcome_reason,
        "events": [{"on": e.on, "action": rules.ACTION_LABELS.get(e.action, e.action), "actor": e.actor,
                    "to": rules.STATE_LABELS.get(e.to_state, e.to_state), "note": e.note, "due_on": e.due_on}
                   for e in events],
        "documents": [{"doc_no": d.doc_no, "kind": d.kind, "label": KIND_LABELS[d.kind], "issued_on": d.issued_on}
                      for d in docs]}


def subject_case_view(ctx: ServiceContext, subject: Subject, case_no: str, decision=None) -> dict:
    """The subject's own view of a procedure about it (from the 告知 on: a proposal not yet told
    is the department's working paper). The caller's right to see the subject's non-public
    information is checked and the read logged (``case_reads.log_case_read``)."""
    from .case_reads import log_case_read
    from .list_documents import KIND_LABELS

    case = case_by_no(ctx, case_no)
    if case is None or case.subject_id != subject.id or not _told(ctx, case):
        raise ServiceError("未找到该名单程序", "case", 404)
    log_case_read(ctx, subject, what="list_case", ref=case.case_no, decision=decision)
    docs = ctx.session.execute(select(ListDocument).where(ListDocument.case_id == case.id)
                               .order_by(ListDocument.id)).scalars().all()
    return _row(ctx, case, subject) | {
        "reason": case.reason, "basis": case.basis, "measures": case.measures, "defence": case.defence,
        "defence_on": case.defence_on, "hearing_requested": case.hearing_requested, "hearing": _rules(ctx).hearing,
        "may_defend": case.kind == rules.SERIOUS and case.state == rules.NOTIFIED and not case.defence,
        "events": [{"on": e.on, "action": rules.ACTION_LABELS.get(e.action, e.action),
                    "to": rules.STATE_LABELS.get(e.to_state, e.to_state)} for e in _events(ctx, case)
                   if e.action != "propose"],
        "documents": [{"doc_no": d.doc_no, "label": KIND_LABELS[d.kind], "issued_on": d.issued_on} for d in docs]}


def _told(ctx: ServiceContext, case: ListCase) -> bool:
    """The subject sees a procedure from the 告知 (serious list) or the public notice (red list) on."""
    return any(e.action in ("notify", "notice") for e in _events(ctx, case))


def subject_cases(ctx: ServiceContext, subject: Subject) -> list[dict]:
    """The procedures the subject has been told about (for its /me page)."""
    rows = ctx.session.execute(select(ListCase).where(ListCase.subject_id == subject.id)
                               .order_by(ListCase.id.desc())).scalars().all()
    return [_row(ctx, c, subject) for c in rows if _told(ctx, c)]


def subject_document(ctx: ServiceContext, subject: Subject, case_no: str, doc_no: str, decision=None) -> ListDocument:
    """A notice or decision of the subject's own procedure, for its download (logged)."""
    from .case_reads import log_case_read

    case = case_by_no(ctx, case_no)
    if case is None or case.subject_id != subject.id or not _told(ctx, case):
        raise ServiceError("未找到该名单程序", "case", 404)
    doc = ctx.session.execute(select(ListDocument).where(ListDocument.case_id == case.id,
                                                         ListDocument.doc_no == (doc_no or "")[:32])).scalar_one_or_none()
    if doc is None:
        raise ServiceError("未找到该文书", "doc_no", 404)
    log_case_read(ctx, subject, what="list_document", ref=doc.doc_no, decision=decision)
    return doc


def subject_for_proposal(ctx: ServiceContext, code: str) -> Subject:
    """The subject a staff proposal names by its 统一社会信用代码 (organisations) or page id."""
    code = (code or "").replace("\x00", "").strip()[:20]
    subject = ctx.session.execute(select(Subject).where(
        (Subject.credit_code == code.upper()) | (Subject.public_id == code))).scalars().first()
    if subject is None:
        raise ServiceError("未找到该信用主体，请核对统一社会信用代码", "code", 404)
    return subject


def public_red_notices(ctx: ServiceContext) -> list[dict]:
    """守信红名单 拟列入公示: organisations in their notice period, through the privacy boundary
    (``disclosure.public_subject``): name, credit code, the case number and the period. Never the
    reason text or anything of a serious-list proposal."""
    from ..domain.disclosure import public_subject

    rows = ctx.session.execute(select(ListCase, Subject).join(Subject, Subject.id == ListCase.subject_id)
                               .where(ListCase.kind == rules.RED, ListCase.state == rules.NOTICE)
                               .order_by(ListCase.step_entered_on.desc(), ListCase.id.desc())).all()
    out = []
    for case, subject in rows:
        view = public_subject(subject, ctx.today)
        if view is None or view["kind"] != SubjectKind.ORG:
            continue
        out.append({"case_no": case.case_no, "name": view["name"], "credit_code": view.get("credit_code") or "",
                    "from": case.step_entered_on, "until": case.earliest_on})
    return out


def staff_document(ctx: ServiceContext, case: ListCase, doc_no: str) -> ListDocument:
    """A notice or decision of this case for the staff handling it (the read is logged)."""
    from .case_reads import log_case_read

    require_list_officer(ctx, case.region_code)
    doc = ctx.session.execute(select(ListDocument).where(ListDocument.case_id == case.id,
                                                         ListDocument.doc_no == (doc_no or "")[:32])).scalar_one_or_none()
    if doc is None:
        raise ServiceError("未找到该文书", "doc_no", 404)
    log_case_read(ctx, ctx.session.get(Subject, case.subject_id), what="list_document", ref=doc.doc_no)
    return doc
