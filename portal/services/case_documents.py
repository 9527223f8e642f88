"""The PDFs of a case: the application, the objection result and the repair confirmation notice.

湖南医保 第十七条 and 第二十五条 name four forms (附件1 异议申请表, 附件2 异议处理结果反馈单, 附件3
信用修复申请表, 附件4 信用修复确认通知书: 编号, subject, code, legal representative, the dishonesty
item, findings, 予以修复/不予修复, handler, date); 湖南 第二十八条 asks for written reasons when an
objection fails, 湖南 第三十条 / 海南 第四十二条（五）that the applicant is told the repair result,
and 阳山 四（六）issues a 《广东省医疗卫生信用修复确认通知书》. Our documents carry that content in
our own words, under the form's name when the active profile lists one.

Each document is issued once per (case, kind, event) — the filing for an application, the
decision for a result — on its first request, and kept byte for byte (``CaseDocument.pdf``), so
every later download is the same file and its SHA-256 matches the public verify page. That page
(``verify_document``) shows only the document number, its kind, the day it was issued, the
subject's name when the subject is an organisation, and whether an uploaded copy matches; never
a person's name or ID number, never the content.

The parts: this module decides which documents a case has, writes their content
(``portal.documents.content`` types) and issues them; ``portal.documents.case_pdf`` draws them;
``services.document_verification`` answers the public verify page.

Who may download is decided by ``portal.permissions`` (the subject itself or its legal
representative) and ``services.staff.can_see`` (staff handling the case); the views log every
download as a read of non-public data (``services.access_log``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..documents.citations import profile_cite
from ..documents.content import DocumentContent, Section
from ..documents.content import subject_rows as _subject_rows
from ..domain.disclosure import unpublished_severities
from ..domain.eligibility import DISHONEST
from ..domain.identity import ACR_FACE, ACR_PASSWORD
from ..domain.private_view import own_values, subject_text
from ..domain.vocab import RECORD_STATUS_LABELS, SEVERITY_LABELS, Scope, record_type_label
from ..domain.windows import add_months
from ..models import Case, CaseDocument, CaseEvent, CreditRecord, Subject
from ..permissions import VIA_LABELS
from .calendar import load_calendar
from .cases import KIND_LABELS as CASE_KIND_LABELS
from .cases import OBJECTION, REPAIR, REPAIRED_STEP, UPHELD_STEPS, _staff_of, machine_for
from .context import ServiceContext
from .document_issue import issue_once
from .errors import ServiceError
from .repair_notice import NOTICE_STEP, notice_periods, why_not_shown
from .verifiable import china_time

OBJECTION_APPLICATION = "objection_application"
OBJECTION_RESULT = "objection_result"
REPAIR_APPLICATION = "repair_application"
REPAIR_DECISION = "repair_decision"
KINDS = (OBJECTION_APPLICATION, OBJECTION_RESULT, REPAIR_APPLICATION, REPAIR_DECISION)
KINDS_BY_CASE = {OBJECTION: (OBJECTION_APPLICATION, OBJECTION_RESULT), REPAIR: (REPAIR_APPLICATION, REPAIR_DECISION)}
KIND_LABELS = {
    OBJECTION_APPLICATION: "异议申请书",
    OBJECTION_RESULT: "异议处理结果告知书",
    REPAIR_APPLICATION: "信用修复申请书",
    REPAIR_DECISION: "信用修复确认通知书",
}
PREFIX = {OBJECTION_APPLICATION: "YYSQ", OBJECTION_RESULT: "YYJG", REPAIR_APPLICATION: "XFSQ",
          REPAIR_DECISION: "XFQR"}
# Timeline events that are not a decision told to the applicant.
NOT_DECISIONS = frozenset({"file", "extend", "stop_clock", "resume_clock", "request_materials", "supplement",
                           "recalculate", "withdraw"})
ACR_LABELS = {ACR_FACE: "人脸识别实名认证", ACR_PASSWORD: "账号密码实名登录"}
DAY_ZERO_NOTE = "期限按工作日计算：收到申请之日为第 0 日、不计入（民法典第二百零一条），法定节假日不计入，调休上班日计入。"


# --- which documents a case has -----------------------------------------------------------------

def _events(ctx: ServiceContext, case: Case) -> list[CaseEvent]:
    return list(ctx.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.id)).scalars())


def filing_event(ctx: ServiceContext, case: Case) -> CaseEvent | None:
    return next((e for e in _events(ctx, case) if e.action == "file"), None)


def decision_event(ctx: ServiceContext, case: Case) -> CaseEvent | None:
    """The latest decision told to the applicant.

    Objection: a step taken by staff that ends the case or hands it to the applicant (湖南
    第二十八条: 异议不成立 → written reasons, the applicant may ask for review). Repair: the final
    予以修复 / 不予修复 (湖南 第三十条（四）; 湖南医保 第二十五条第二款 书面告知)."""
    machine = machine_for(ctx.profile, case.kind)
    found = None
    for ev in _events(ctx, case):
        if ev.action in NOT_DECISIONS or ev.role in ("applicant", "system") or not ev.to_state:
            continue
        try:
            step = machine.step(ev.to_state)
        except KeyError:
            continue
        if case.kind == OBJECTION and (step.terminal or step.actor == "applicant"):
            found = ev
        elif case.kind == REPAIR and step.terminal:
            found = ev
    return found


def event_for(ctx: ServiceContext, case: Case, kind: str) -> CaseEvent | None:
    if kind not in KINDS_BY_CASE[case.kind]:
        return None
    if kind in (OBJECTION_APPLICATION, REPAIR_APPLICATION):
        return filing_event(ctx, case)
    return decision_event(ctx, case)


@dataclass(frozen=True)
class Available:
    kind: str
    label: str
    ready: bool
    note: str  # why it is not ready yet


def available_documents(ctx: ServiceContext, case: Case) -> list[Available]:
    """The case's documents, each ready or with the reason it is not (shown on the case pages)."""
    out = []
    for kind in KINDS_BY_CASE[case.kind]:
        ready = event_for(ctx, case, kind) is not None
        note = "" if ready else ("作出处理决定后出具" if kind == OBJECTION_RESULT else "作出修复决定后出具")
        out.append(Available(kind, title_for(ctx.profile, kind), ready, note))
    return out


def title_for(profile, kind: str) -> str:
    """The form's name when the profile lists one (湖南医保 附件1–4; 阳山 四（六）), else ours."""
    if kind in (OBJECTION_APPLICATION, OBJECTION_RESULT):
        forms = list(profile.objection.forms) + [s.form for s in profile.objection.steps if s.form]
        keyword = "申请" if kind == OBJECTION_APPLICATION else "结果"
    else:
        forms = list(profile.repair.forms) + [s.form for s in profile.repair.steps if s.form]
        keyword = "申请" if kind == REPAIR_APPLICATION else "确认通知书"
    for form in forms:
        name = form.split(" ", 1)[1] if form.startswith("附件") and " " in form else form
        name = name.strip("《》 ")
        if keyword in name and ("异议" in name) == (kind in (OBJECTION_APPLICATION, OBJECTION_RESULT)):
            return name
    return {OBJECTION_APPLICATION: "信用信息异议申请书", OBJECTION_RESULT: "信用信息异议处理结果告知书",
            REPAIR_APPLICATION: "信用修复申请书", REPAIR_DECISION: "信用修复确认通知书"}[kind]


# --- content --------------------------------------------------------------------------------------

def _record_of(ctx: ServiceContext, case: Case) -> CreditRecord | None:
    """The version the application was about (older cases: the current version)."""
    record = ctx.session.get(CreditRecord, case.record_id) if case.record_id else None
    if record is None:
        record = ctx.session.execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id)
                                     .order_by(CreditRecord.version).limit(1)).scalar_one_or_none()
    return record


def _record_rows(record: CreditRecord | None, subject: Subject, profile) -> list[tuple[str, str]]:
    """The record as the letter quotes it: other people's personal data masked (the letter goes to
    the applicant; ``private_view.subject_text``)."""
    if record is None:
        return [("信用信息", "—")]
    rows = [("信息内容", subject_text(record.title, own_values(subject))), ("信息类型", record_type_label(record.record_type))]
    if record.severity:
        rows.append(("严重程度", SEVERITY_LABELS.get(record.severity, record.severity)))
    rows += [("决定日期", record.decided_on.isoformat()), ("决定文书号", record.doc_no or "—"),
             ("认定（提供）单位", record.authority or "—"),
             ("公示期", _window(record, profile))]
    return rows


def _window(record: CreditRecord, profile) -> str:
    """The record's publication window as stored; a missing start is said, not guessed."""
    if record.scope != Scope.PUBLIC:
        return "依规不予社会公开"
    if record.severity in unpublished_severities(profile):
        return "所属等级依规不予公示"
    start = str(record.publish_from) if record.publish_from else "起始日期未记录"
    return f"{start} 至 {record.publish_until or '长期'}"


def _applicant_rows(ctx: ServiceContext, case: Case) -> list[tuple[str, str]]:
    via = VIA_LABELS.get(case.applicant_via, "") if case.applicant_via else ""
    checked = ACR_LABELS.get(case.applicant_acr, "本平台实名登录")
    machine = machine_for(ctx.profile, case.kind)
    article = machine.article_for("materials") if case.kind == OBJECTION else machine.article
    return [("申请人", case.applicant_name + (f"（{via}）" if via else "")),
            ("身份核验", f"{checked}；以平台实名认证作为申请人身份证明（{profile_cite(ctx.profile, article)}）"),
            ("联系方式", "本平台站内通知（登录后在“异议与信用修复”中查看）")]


def _evidence_table(case: Case, stage: str) -> list | None:
    files = [e for e in case.evidence if e.stage == stage]
    if not files:
        return None
    rows = [["序号", "文件名", "类型", "大小", "SHA-256（前 16 位）"]]
    rows += [[str(i), e.original_name, {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}.get(e.mime, e.mime),
              f"{e.size / 1024:.1f} KB" if e.size >= 1024 else f"{e.size} 字节", e.sha256[:16]] for i, e in enumerate(files, 1)]
    return rows


def _handler(ctx: ServiceContext, actor: str) -> str:
    staff = _staff_of(ctx, actor)
    if staff is not None:
        return staff.display_name or staff.username
    return "—" if actor.startswith(("user:", "oidc:")) else actor  # "oidc:" in cases filed before 2026-12


def _unit(ctx: ServiceContext, case: Case, actor: str) -> str:
    staff = _staff_of(ctx, actor)
    return (staff.authority if staff is not None and staff.authority else "") or case.authority or ctx.profile.authority


def _months_between(first: date, last: date) -> int:
    months = (last.year - first.year) * 12 + last.month - first.month
    return months - (last.day < first.day)


def _filed_due(ctx: ServiceContext, case: Case) -> str:
    ev = filing_event(ctx, case)
    machine = machine_for(ctx.profile, case.kind)
    first = machine.start
    due = ""
    if ev and ev.due_on:  # 暂定 when counted through a year whose make-up days are unknown
        provisional = load_calendar(ctx.session, ctx.profile).provisional(case.received_on, ev.due_on)
        due = f"，办理期限至 {ev.due_on.isoformat()}" + ("（暂定，以节假日安排公布后重新计算的期限为准）" if provisional else "")
    return f"{first.label}（{profile_cite(ctx.profile, first.article)}）{due}"


def objection_application_content(ctx: ServiceContext, case: Case) -> DocumentContent:
    """附件1 content: applicant, the information objected to, ground, reasons, evidence, commitment."""
    subject = ctx.session.get(Subject, case.subject_id)
    ground = ctx.profile.objection.ground(case.ground)
    filed = china_time(case.created_at)
    sections = [
        Section("一、信用主体", _subject_rows(subject), []),
        Section("二、申请人", _applicant_rows(ctx, case), []),
        Section("三、提出异议的信用信息", _record_rows(_record_of(ctx, case), subject, ctx.profile), []),
        Section("四、异议理由", [("异议情形", f"{ground.label}（{profile_cite(ctx.profile, ground.article)}）" if ground else case.ground),
                              ("异议内容及理由", case.statement)], []),
        Section("五、证明材料", [], [] if _evidence_table(case, "filing") else ["申请时未上传证明材料。"],
                _evidence_table(case, "filing")),
        Section("六、申请人确认", [], [
            f"申请人于 {filed:%Y-%m-%d %H:%M}（北京时间）在线提交本申请时确认：以本人实名认证的身份提出申请；"
            "所填写的内容和所附材料真实、准确、完整，如有不实，愿意承担由此产生的后果。"]),
        Section("七、收件与办理期限", [("收到日期", case.received_on.isoformat()), ("首个办理环节", _filed_due(ctx, case))],
                [DAY_ZERO_NOTE]),
    ]
    return DocumentContent(OBJECTION_APPLICATION, title_for(ctx.profile, OBJECTION_APPLICATION),
                           profile_cite(ctx.profile, ctx.profile.objection.article), case.case_no, subject.name,
                           sections)


def _record_effect(ctx: ServiceContext, case: Case, upheld: bool, subject: Subject) -> str:
    if not upheld:
        return "该信用信息维持不变。"
    label = f"{CASE_KIND_LABELS[OBJECTION]} {case.case_no}"
    versions = ctx.session.execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id)
                                   .order_by(CreditRecord.version)).scalars().all()
    corrected = [v for v in versions if v.change_reason.startswith(label)]
    if corrected:
        v = corrected[-1]
        return (f"已更正，更正后的信息（第 {v.version} 版）为：{subject_text(v.title, own_values(subject))}。"
                "原信息作为历史版本保留。")
    current = next((v for v in versions if v.is_current), None)
    if current is not None and current.status in ("withdrawn", "deleted"):
        return f"该信用信息已{RECORD_STATUS_LABELS[current.status].removeprefix('已')}，不再对外披露（记录依规保留）。"
    return "该信用信息已按异议成立处理。"


def objection_result_content(ctx: ServiceContext, case: Case, event: CaseEvent) -> DocumentContent:
    """附件2 content: the objection, the result with reasons (湖南 第二十八条: 书面告知…并说明理由),
    what happened to the information, and what the applicant may do next."""
    subject = ctx.session.get(Subject, case.subject_id)
    machine = machine_for(ctx.profile, case.kind)
    decided_in, outcome = machine.step(event.from_state), machine.step(event.to_state)
    ground = ctx.profile.objection.ground(case.ground)
    record = _record_of(ctx, case)
    upheld = event.to_state in UPHELD_STEPS
    next_steps = []
    if not outcome.terminal and outcome.actor == "applicant":
        choices = "；".join(t.label for t in outcome.transitions)
        next_steps.append(f"申请人可以登录本平台，在该申请页面选择：{choices}（{profile_cite(ctx.profile, outcome.article)}）。")
    else:
        next_steps.append("本异议申请已办结。")
    sections = [
        Section("一、信用主体与申请人", _subject_rows(subject) + _applicant_rows(ctx, case)[:1], []),
        Section("二、异议申请", [("收到日期", case.received_on.isoformat()),
                              ("所涉信用信息", subject_text(record.title, own_values(subject)) if record else "—"),
                              ("异议情形", ground.label if ground else case.ground),
                              ("异议内容及理由", case.statement)], []),
        Section("三、处理结果", [("办理环节", f"{decided_in.label}（{profile_cite(ctx.profile, decided_in.article)}）"),
                              ("处理结论", outcome.label),
                              ("理由", event.reason or "办理人员未填写理由"),
                              ("信息处理情况", _record_effect(ctx, case, upheld, subject))], []),
        Section("四、后续事项", [], next_steps),
        Section("五、办理", [("经办人", _handler(ctx, event.actor)), ("办理单位", _unit(ctx, case, event.actor)),
                          ("处理日期", event.on.isoformat())], []),
    ]
    return DocumentContent(OBJECTION_RESULT, title_for(ctx.profile, OBJECTION_RESULT),
                           profile_cite(ctx.profile, f"{decided_in.article}；{ctx.profile.objection.article}"), case.case_no, subject.name,
                           sections)


CHECKED_BY_SYSTEM = frozenset({"min_period", "no_new_same_type", "no_new_record"})


def _condition_rows(ctx: ServiceContext) -> list:
    rows = [["修复条件", "依据", "提交时核对情况"]]
    for c in ctx.profile.repair.conditions:
        if c.code in CHECKED_BY_SYSTEM:
            status = "符合（系统按信用记录核对）"
        elif c.code == "commitment":
            status = "申请人已作出信用承诺"
        elif c.code == "corrected":
            status = "申请人已说明整改情况，由认定部门核查"
        else:
            status = "由认定部门核查"
        rows.append([c.label, profile_cite(ctx.profile, c.article), status])
    return rows


def repair_application_content(ctx: ServiceContext, case: Case) -> DocumentContent:
    """附件3 content: the subject, the dishonesty record, why it meets the conditions (湖南医保
    第二十四条; 湖南 第二十九条), the correction made, evidence, the declaration; free of charge
    (海南 第四十一条)."""
    subject = ctx.session.get(Subject, case.subject_id)
    repair = ctx.profile.repair
    filed = china_time(case.created_at)
    sections = [
        Section("一、失信主体基本情况", _subject_rows(subject) + _applicant_rows(ctx, case), []),
        Section("二、申请修复的失信信息", _record_rows(_record_of(ctx, case), subject, ctx.profile), []),
        Section("三、申请修复的理由", [], [], _condition_rows(ctx)),
        Section("四、失信行为纠正和整改情况", [("申请人说明", case.statement)], []),
        Section("五、证明材料", [], [] if _evidence_table(case, "filing") else ["申请时未上传证明材料。"],
                _evidence_table(case, "filing")),
        Section("六、声明与信用承诺", [], [
            f"申请人于 {filed:%Y-%m-%d %H:%M}（北京时间）在线提交本申请时声明：以本人实名认证的身份提出申请，"
            "所提交的材料真实有效；并公开作出信用承诺：失信行为已经纠正，今后依法诚信经营、执业。"]),
        Section("七、收件与办理期限", [("申请日期", case.received_on.isoformat()), ("首个办理环节", _filed_due(ctx, case))],
                [DAY_ZERO_NOTE, f"信用修复不收取任何费用（{profile_cite(ctx.profile, repair.article_for('free'))}）。"]),
    ]
    return DocumentContent(REPAIR_APPLICATION, title_for(ctx.profile, REPAIR_APPLICATION),
                           profile_cite(ctx.profile, repair.article),
                           case.case_no, subject.name, sections)


def repair_decision_content(ctx: ServiceContext, case: Case, event: CaseEvent) -> DocumentContent:
    """附件4 content: 编号, the subject with its code and legal representative, the dishonesty item,
    the findings on the conditions, 予以修复 / 不予修复, the effects, handler and date (湖南医保
    第二十五条; 湖南 第三十条–第三十一条; 海南 第四十二条（五）; 阳山 四（六））."""
    subject = ctx.session.get(Subject, case.subject_id)
    repair = ctx.profile.repair
    record = _record_of(ctx, case)
    repaired = event.to_state == REPAIRED_STEP
    events = _events(ctx, case)
    findings = []
    if repaired:
        findings.append("经核实，失信主体已纠正失信行为，相关法定责任和义务已履行，不良影响基本消除。")
        findings.append(publication_sentence(record, event.on, ctx.profile))
        findings.append(same_type_sentence(ctx, record, event.on))
        findings += notice_sentences(ctx, case, events, record, subject, event)
    else:
        findings.append("经核实，不符合信用修复条件，不予修复。")
    staff_reasons = [f"{e.on}：{e.reason}" for e in events if e.reason and e.role not in ("applicant", "system")
                     and e.action not in ("extend", "stop_clock", "resume_clock", "request_materials")
                     and e.id <= event.id]
    checked = "■ 予以修复　　□ 不予修复" if repaired else "□ 予以修复　　■ 不予修复"
    sections = [
        Section("一、申请修复的失信主体", _subject_rows(subject), []),
        Section("二、失信信息内容", _record_rows(record, subject, ctx.profile), []),
        Section("三、修复条件认定情况", [], findings + ([f"办理意见：{r}" for r in staff_reasons] or [])),
        Section("四、修复处理意见", [("处理意见", checked)], []),
    ]
    if repaired:
        sections.append(Section("五、修复效果", [], [f"{i}. {e}" for i, e in enumerate(repair.effects, 1)]
                                + [f"失信记录依规保留，不再对外公示（{profile_cite(ctx.profile, repair.article_for('effects'))}）。"]))
    sections.append(Section("六、办理" if repaired else "五、办理",
                            [("经办人", _handler(ctx, event.actor)), ("办理单位", _unit(ctx, case, event.actor)),
                             ("日期", event.on.isoformat())],
                            ["本通知书为本平台出具的电子文书，可扫描二维码核验真伪；需要加盖印章的纸质文书的，"
                             "请向办理单位申请。"]))
    return DocumentContent(REPAIR_DECISION, title_for(ctx.profile, REPAIR_DECISION),
                           profile_cite(ctx.profile, repair.article), case.case_no, subject.name, sections)


# --- facts the repair confirmation states (each computed from stored data; issue 14) ----------

def _span(first: date, last: date) -> str:
    """"3 个月又 5 天" between two days (both counted as publication days)."""
    months = _months_between(first, last + timedelta(days=1))
    rest = (last + timedelta(days=1) - add_months(first, months)).days
    if months == 0:
        return f"{rest} 天"
    return f"{months} 个月" + (f"又 {rest} 天" if rest else "")


def publication_sentence(record: CreditRecord | None, on: date, profile) -> str:
    """How long the record was published, from its window, clipped to ``on`` (the decision day)."""
    if record is None:
        return "未找到该失信信息的公示记录，公示期无法核对。"
    if record.scope != Scope.PUBLIC:
        return "该失信信息依规不予社会公开，未在本平台公示。"
    if record.severity in unpublished_severities(profile):
        return "该失信信息所属等级依规不予公示，未在本平台公示。"
    start, until = record.publish_from, record.publish_until
    if start is None:
        return "该失信信息未记录公示起始日期，公示期无法核对。"
    if on < start:
        return f"截至 {on}，该失信信息尚未开始公示（公示期自 {start} 起）。"
    if until is not None and until < on:
        return f"该失信信息自 {start} 起公示，公示期已于 {until} 届满（共公示 {_span(start, until)}）。"
    window = f"公示期至 {until}" if until is not None else "公示期未设截止日期"
    return f"截至 {on}，该失信信息自 {start} 起已公示 {_span(start, on)}（{window}）。"


def same_type_sentence(ctx: ServiceContext, record: CreditRecord | None, on: date) -> str:
    """New dishonesty of the same type after the record was determined, up to ``on``, as recorded here."""
    if record is None:
        return "未找到该失信信息，无法核对是否产生新的同类失信信息。"
    others = ctx.session.execute(select(CreditRecord).where(
        CreditRecord.subject_id == record.subject_id, CreditRecord.is_current.is_(True),
        CreditRecord.lineage_id != record.lineage_id, CreditRecord.record_type == record.record_type,
        CreditRecord.info_class.in_(DISHONEST), CreditRecord.decided_on > record.decided_on,
        CreditRecord.decided_on <= on)).scalars().all()
    if not others:
        return f"自该失信信息认定之日（{record.decided_on}）至 {on}，本平台未记录该主体新的同类失信信息。"
    return (f"自该失信信息认定之日（{record.decided_on}）至 {on}，本平台记录了该主体 {len(others)} 条新的同类失信信息"
            f"（认定日期：{'、'.join(str(o.decided_on) for o in others)}）。")


def notice_sentences(ctx: ServiceContext, case: Case, events: list[CaseEvent], record: CreditRecord | None,
                     subject: Subject, decision: CaseEvent) -> list[str]:
    """The public notice as the public page actually showed it (``services.repair_notice``, the
    rule of the 信用修复公示 page): never a notice nobody could see."""
    step = next((s for s in machine_for(ctx.profile, REPAIR).steps if s.id == NOTICE_STEP), None)
    if step is None:
        return []  # this profile's repair has no public notice step
    periods = notice_periods(events, record, subject, decision.id, ctx.profile)
    if not periods:
        return [f"本案未经过信用修复公示环节（{profile_cite(ctx.profile, step.article)}）。"]
    out = []
    rule = (f"（{profile_cite(ctx.profile, step.article)}：公示期不少于 {step.min_workdays} 个工作日）"
            if step.min_workdays else f"（{profile_cite(ctx.profile, step.article)}）")
    for p in periods:
        if p.waived:  # no notice was held (services.repair_notice.waive_if_not_public)
            privacy = ctx.profile.privacy_article  # the profile's own [privacy]; none of another province's
            basis = f"依据{profile_cite(ctx.profile, privacy)}，" if privacy else ""
            out.append(f"本案于 {p.entered_on} 审核通过时，{why_not_shown(record, subject, p.entered_on, ctx.profile)}，"
                       f"修复公示将披露非公开信息，{basis}本案不予公示，"
                       f"未设公示期，于 {p.left_on} 径行作出修复决定（{profile_cite(ctx.profile, step.article)}）。")
            continue
        if not p.shown:
            out.append(f"本案于 {p.entered_on} 进入公示环节，但{why_not_shown(record, subject, p.entered_on, ctx.profile)}，"
                       f"本平台“信用修复公示”栏目未显示该修复申请，本案未经社会公示{rule}。")
            continue
        calendar = load_calendar(ctx.session, ctx.profile)
        workdays = sum(1 for d in p.shown if calendar.is_workday(d))
        text = (f"该修复申请于 {p.first_shown} 至 {p.last_shown} 在本平台“信用修复公示”栏目公示，"
                f"其中工作日 {workdays} 个{rule}。")
        if not p.fully_shown:
            gap = next(d for d in (p.entered_on + timedelta(days=i) for i in range((p.left_on - p.entered_on).days + 1))
                       if d not in p.shown)
            text += f"公示环节中其余日期未显示：{why_not_shown(record, subject, gap, ctx.profile)}。"
        out.append(text)
        if p.objections:
            out.append(f"公示期间于 {'、'.join(str(d) for d in p.objections)} 收到异议，本案退回核查。")
        else:
            out.append("公示期间本平台未收到异议。")
    return out


# --- issuing ------------------------------------------------------------------------

def _content(ctx: ServiceContext, case: Case, kind: str, event: CaseEvent) -> DocumentContent:
    if kind == OBJECTION_APPLICATION:
        return objection_application_content(ctx, case)
    if kind == REPAIR_APPLICATION:
        return repair_application_content(ctx, case)
    if kind == OBJECTION_RESULT:
        return objection_result_content(ctx, case, event)
    return repair_decision_content(ctx, case, event)


def _issue(ctx: ServiceContext, case: Case, kind: str, *, base_url: str) -> CaseDocument:
    if kind not in KINDS_BY_CASE.get(case.kind, ()):
        raise ServiceError("该申请没有这种文书", "kind", 404)
    event = event_for(ctx, case, kind)
    if event is None:
        raise ServiceError(f"{title_for(ctx.profile, kind)}尚未出具：" +
                           ("作出处理决定后出具。" if kind == OBJECTION_RESULT else "作出修复决定后出具。"), "kind", 404)
    doc, new = issue_once(ctx, CaseDocument, prefix=PREFIX[kind], case_id=case.id, kind=kind, event_id=event.id,
                          content=lambda: _content(ctx, case, kind, event), base_url=base_url)
    if not new:
        return doc
    from .audit import record_event

    record_event(ctx.session, ctx.actor, "case.document", subject_id=case.subject_id,
                 object_ref=f"document:{doc.doc_no}",
                 detail={"case": case.case_no, "kind": kind, "event": event.id, "sha256": doc.sha256})
    return doc


def objection_application_pdf(ctx: ServiceContext, case: Case, *, base_url: str) -> CaseDocument:
    """The objection application (湖南医保 附件1; 湖南 第二十七条), issued at the first request."""
    return _issue(ctx, case, OBJECTION_APPLICATION, base_url=base_url)


def objection_result_pdf(ctx: ServiceContext, case: Case, *, base_url: str) -> CaseDocument:
    """The result of the latest decision (湖南医保 附件2; 湖南 第二十八条); 404 before one."""
    return _issue(ctx, case, OBJECTION_RESULT, base_url=base_url)


def repair_application_pdf(ctx: ServiceContext, case: Case, *, base_url: str) -> CaseDocument:
    """The repair application (湖南医保 附件3; 湖南 第三十条（一）)."""
    return _issue(ctx, case, REPAIR_APPLICATION, base_url=base_url)


def repair_decision_pdf(ctx: ServiceContext, case: Case, *, base_url: str) -> CaseDocument:
    """The repair confirmation notice (湖南医保 附件4; 阳山 四（六））; 404 before the decision."""
    return _issue(ctx, case, REPAIR_DECISION, base_url=base_url)


GENERATORS = {OBJECTION_APPLICATION: objection_application_pdf, OBJECTION_RESULT: objection_result_pdf,
              REPAIR_APPLICATION: repair_application_pdf, REPAIR_DECISION: repair_decision_pdf}


def case_document(ctx: ServiceContext, case: Case, kind: str, *, base_url: str) -> CaseDocument:
    """The one entry the web views and the CLI use: ``kind`` names the document."""
    generator = GENERATORS.get(kind)
    if generator is None or kind not in KINDS_BY_CASE.get(case.kind, ()):
        raise ServiceError("该申请没有这种文书", "kind", 404)
    return generator(ctx, case, base_url=base_url)


def download_name(doc: CaseDocument) -> str:
    return f"{doc.kind.replace('_', '-')}-{doc.doc_no}.pdf"
