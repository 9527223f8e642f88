"""Credit reports (信用报告): a PDF of what the requester may see, numbered, with a QR code and
URL where anyone can check that a copy is genuine.

The PDF is kept encrypted with a key derived from the data key (``Report.pdf``; it holds non-public
information), and its SHA-256 (``Report.sha256``); the public verify page shows only the report
number, the subject's name, the time of generation and that hash. The person who had a report
issued can download that same report again by its number (``issued_report``): a read, logged as
one, never a new number. Generating a report
is a read of non-public information and is logged like any other (海南 第二十七条, 第五十一条; the
report itself cites the active profile's own article, ``documents.citations``).
Font, QR code, numbering and the token check are shared with the case documents
(``services.verifiable``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..documents.citations import profile_cite
from ..domain.identifiers import mask_person_name
from ..domain.identity import Identity
from ..domain.private_view import explanation_rows, own_values, record_rows
from ..domain.vocab import INFO_CLASS_LABELS, SUBJECT_KIND_LABELS, SUBJECT_STATUS_LABELS, SubjectKind, category_label
from ..models import Authorisation, CreditRecord, Report, Subject
from ..models.base import utcnow
from ..permissions import VIA_LABELS, Decision, visible_records
from .access_log import actor_for, log_private_view
from .context import ServiceContext
from .errors import ServiceError
from .indexing import latest_grade
from .verifiable import (  # noqa: F401  (cjk_font, china_time: the names other modules import)
    CHINA_TZ,
    build_pdf,
    china_time,
    cjk_font,
    new_number,
    new_token,
    sha256,
    styles,
    token_matches,
    verify_header,
)


def new_report_no(today: date) -> str:
    return new_number("XYBG", today)


def verify_url(base_url: str, report: Report) -> str:
    return f"{base_url.rstrip('/')}/verify/report/{report.report_no}?t={report.verify_token}"


@dataclass(frozen=True)
class ReportContent:
    subject: Subject
    subject_lines: list[tuple[str, str]]
    requester: str
    scope_note: str
    grade: object | None
    grade_label: str
    grade_basis: str
    explanation: list
    rows: list
    today: date


def _subject_lines(subject: Subject, ctx: ServiceContext) -> list[tuple[str, str]]:
    region = ctx.profile.region(subject.region_code)
    lines = [("名称", subject.name), ("类型", SUBJECT_KIND_LABELS.get(subject.kind, subject.kind)),
             ("类别", category_label(subject.category))]
    if subject.kind == SubjectKind.ORG:
        lines.append(("统一社会信用代码", subject.credit_code or subject.code_masked))
        if subject.legal_rep:
            lines.append(("法定代表人（负责人）", subject.legal_rep))
        if subject.address:
            lines.append(("地址", subject.address))
        if subject.licence_no:
            lines.append(("许可证号", subject.licence_no))
    else:
        lines.append(("公民身份号码", subject.code_masked))  # masked even in the subject's report
    lines.append(("所在地区", region.name if region else subject.region_code))
    lines.append(("状态", SUBJECT_STATUS_LABELS.get(subject.status, subject.status)))
    return lines


def _cited(profile, items, rows) -> list:
    """The explanation rows with each rule's article by the regulation's full name (the stored
    explanation keeps the profile's shorthand, "湖南 第十五条")."""
    out = []
    for row, item in zip(rows, items or [], strict=False):
        if isinstance(item, dict) and item.get("article"):
            text = next((str(item[k]) for k in ("rule_text", "rule", "rule_id") if item.get(k)), "")
            row = dataclasses.replace(row, rule="，".join(filter(None, (text, profile_cite(profile, str(item["article"]))))))
        out.append(row)
    return out


def _grade_basis(profile, grade) -> str:
    """The scoring rules a grade was computed by, by the regulation's full name (never the
    profile key: "依据 hunan 评分表" was printed before, issue 14)."""
    if grade is None:
        return ""
    if grade.profile_id != profile.id:
        return "评定时适用的信用评价规则"
    default = "（具体分值为本平台执行的默认标准）" if profile.scoring.is_default() else ""
    return f"{profile_cite(profile, profile.scoring.article)}的信用评价规则{default}"


def report_content(ctx: ServiceContext, subject: Subject, identity: Identity, decision: Decision,
                   authorisation: Authorisation | None) -> ReportContent:
    records = ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id)
                                  .order_by(CreditRecord.id)).scalars().all()
    own = own_values(subject)  # the subject's own data stays; other people's is masked
    rows = record_rows(visible_records(decision, records, ctx.today, ctx.profile), ctx.today, ctx.profile, own)
    grade = latest_grade(ctx.session, subject.id, ctx.today)
    info = ctx.profile.grade(grade.letter) if grade else None
    requester = f"{identity.name}（{VIA_LABELS.get(decision.via, decision.via)}）"
    # The active regulation's own article on non-public information, never another place's draft
    # (a Hunan report cited 海南 第二十七条; issue 14); "未作具体规定" when it has none.
    basis = profile_cite(ctx.profile, ctx.profile.display.article_for("assurance_level_for_private"))
    if authorisation is not None:
        classes = "、".join(INFO_CLASS_LABELS.get(c, c) for c in authorisation.info_classes)
        scope_note = (f"本报告依据第 {authorisation.id} 号书面授权生成，授权用途：{authorisation.purpose}；"
                      f"授权范围：{classes}{'（含非公开信息）' if authorisation.include_non_public else '（仅公开信息）'}；"
                      f"有效期至 {authorisation.valid_until}。仅限约定用途使用（{basis}）。")
    else:
        scope_note = f"本报告包含该信用主体的全部信用信息（含不予公开的信息），仅供信用主体本人使用（{basis}）。"
    return ReportContent(subject=subject, subject_lines=_subject_lines(subject, ctx), requester=requester,
                         scope_note=scope_note, grade=grade, grade_label=info.label if info else "",
                         grade_basis=_grade_basis(ctx.profile, grade),
                         explanation=_cited(ctx.profile, grade.explanation, explanation_rows(grade.explanation, own))
                         if grade and decision.full else [],
                         rows=rows, today=ctx.today)


def render_pdf(content: ReportContent, report: Report, url: str, portal_name: str, authority: str) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    st = styles()
    p, small = st.p, st.small
    generated = china_time(report.generated_at)
    story = verify_header(
        st, portal_name=portal_name, title="信用报告", url=url,
        meta=[("报告编号", report.report_no), ("生成时间", f"{generated:%Y-%m-%d %H:%M:%S}（北京时间）"),
              ("查询人", content.requester), ("信息截止日期", content.today.isoformat())],
        explain="扫描二维码或访问核验网址可核验本报告真伪；核验页面只显示报告编号、信用主体名称、生成时间和报告文件的"
                " SHA-256 摘要，不显示报告内容。")
    story += [Spacer(1, 2 * mm), p(content.scope_note, small)]

    story.append(p("一、信用主体", st.h2))
    story.append(Table([[p(k), p(v)] for k, v in content.subject_lines], colWidths=[40 * mm, 130 * mm],
                       style=st.box))

    story.append(p("二、信用等级", st.h2))
    if content.grade is not None:
        g = content.grade
        story.append(p(f"{g.year} 年度：{g.letter} {content.grade_label}（{g.score} 分，依据{content.grade_basis}）"))
        if content.explanation:
            rows = [[p("影响评分的信息"), p("分值变化"), p("评分规则")]]
            rows += [[p(e.label), p("" if e.delta is None else f"{e.delta:+d}"), p(e.rule, small)]
                     for e in content.explanation]
            story.append(Table(rows, colWidths=[80 * mm, 20 * mm, 70 * mm], style=st.grid, repeatRows=1))
    else:
        story.append(p("尚未评定信用等级。"))

    story.append(p("三、信用信息", st.h2))
    if content.rows:
        rows = [[p("类别 / 类型"), p("内容"), p("决定日期 / 文号"), p("公开方式 / 公示期"), p("状态")]]
        for row in content.rows:
            r, lab = row.current, row.labels
            detail = [row.title] + ([row.content] if row.content else [])
            if r.version > 1:
                detail.append(f"第 {r.version} 版；更正理由：{row.change_reason}")
            for old, old_title in zip(row.history, row.history_titles, strict=False):
                detail.append(f"历史版本 第 {old.version} 版：{old_title}")
            window = f"{r.publish_from} 至 {r.publish_until or '长期'}"
            rows.append([st.lines([lab["class"], lab["type"] + ("·" + lab["severity"] if lab["severity"] else "")], small),
                         st.lines(detail, small),
                         p(f"{r.decided_on} {r.doc_no}", small), p(f"{lab['scope']}；{window}", small),
                         p(f"{lab['status']}；{row.state}", small)])
        story.append(Table(rows, colWidths=[26 * mm, 62 * mm, 28 * mm, 30 * mm, 24 * mm], style=st.grid,
                           repeatRows=1))
    else:
        story.append(p("授权范围内没有信用信息。"))
    return build_pdf(story, title=f"信用报告 {report.report_no}", author=authority, subject=content.subject.name,
                     creator=portal_name, footer_left=f"{authority} · 报告编号 {report.report_no}")


def generate_report(ctx: ServiceContext, subject: Subject, identity: Identity, decision: Decision,
                    base_url: str) -> tuple[Report, bytes]:
    """Issue a numbered report of what ``decision`` lets ``identity`` see; log the read.

    With a caller (the web passes who asks as ``ctx.caller``) the verb decides itself: only the
    logged-in person may ask for their own report, and the decision is taken again here
    (``permissions.can_view_private``), so no caller can hand in a decision it was not given."""
    caller = ctx.caller
    if caller is not None:
        from ..domain.identity import Identity as _Identity
        from ..permissions import can_view_private, required_acr

        if not isinstance(caller, _Identity) or (caller.iss, caller.sub) != (identity.iss, identity.sub):
            raise ServiceError("信用报告只能由信用主体本人或其法定代表人、被授权人登录后出具", "report", 403)
        decision = can_view_private(identity, subject, ctx.today, session=ctx.session,
                                    required=required_acr(ctx.profile))
    if not decision.allowed:
        raise ServiceError(decision.reason_zh or "无权查看该主体的非公开信息", "report", decision.status or 403)
    authorisation = ctx.session.get(Authorisation, decision.authorisation_id) if decision.authorisation_id else None
    report = Report(report_no=new_report_no(ctx.today), subject_id=subject.id, requested_by=actor_for(identity),
                    requester_name=identity.name, via=str(decision.via), authorisation_id=decision.authorisation_id,
                    generated_at=utcnow(), verify_token=new_token(), sha256="")
    content = report_content(ctx, subject, identity, decision, authorisation)
    pdf = render_pdf(content, report, verify_url(base_url, report), ctx.profile.portal_name, ctx.profile.authority)
    report.sha256 = sha256(pdf)
    report.pdf = ctx.protector.encrypt_bytes(pdf)
    ctx.session.add(report)
    ctx.session.flush()
    log_private_view(ctx, identity, subject, decision.purpose, decision.via, decision.authorisation_id,
                     what="report", ref=f"report:{report.report_no}")
    return report, pdf


REPORT_NOT_FOUND = "未找到该信用报告。报告只能由出具时的查询人本人下载。"
REPORT_NOT_KEPT = "该报告出具时未保存文件，请在主体页面重新出具信用报告。"


def issued_report(ctx: ServiceContext, subject: Subject, identity: Identity, decision: Decision,
                  report_no: str) -> tuple[Report, bytes]:
    """The same bytes of a report issued earlier, by its number: only to the person who had it
    issued, and only while they may still see the subject's non-public information (``decision``
    is taken again by the caller's load; an expired authorisation ends the downloads too). A
    read of non-public information, logged as such (海南 第二十七条); no new number, no new row
    in ``reports``. Someone else's number answers exactly like an unknown one."""
    if not decision.allowed:
        raise ServiceError(decision.reason_zh or "无权查看该主体的非公开信息", "report", decision.status or 403)
    report = ctx.session.execute(select(Report).where(Report.report_no == report_no[:32])).scalar_one_or_none()
    if (report is None or report.subject_id != subject.id or report.via == "public"
            or report.requested_by != actor_for(identity)):
        raise ServiceError(REPORT_NOT_FOUND, "report", 404)
    if report.pdf is None:
        raise ServiceError(REPORT_NOT_KEPT, "report", 410)
    pdf = ctx.protector.decrypt_bytes(report.pdf)
    if sha256(pdf) != report.sha256:  # the stored copy must be the report that was issued
        raise ServiceError(REPORT_NOT_KEPT, "report", 410)
    log_private_view(ctx, identity, subject, decision.purpose, decision.via, decision.authorisation_id,
                     what="report_copy", ref=f"report:{report.report_no}")
    return report, pdf


@dataclass(frozen=True)
class Verification:
    genuine: bool
    report_no: str
    subject_name: str = ""
    generated_at: datetime | None = None  # China time
    sha256: str = ""
    file_matches: bool | None = None  # when a file was uploaded for comparison


def verify_report(ctx: ServiceContext, report_no: str, token: str, pdf: bytes | None = None) -> Verification:
    """Public check of a report: genuine only with the number *and* the token from its QR code.

    Shows nothing from the report's content: the number, the time, the hash and the subject's
    name (masked for a natural person, whose report may be shown to a third party).
    """
    report = ctx.session.execute(select(Report).where(Report.report_no == report_no[:32])).scalar_one_or_none()
    if report is None or not token_matches(report.verify_token, token):
        return Verification(False, report_no[:32])
    subject = ctx.session.get(Subject, report.subject_id)
    name = mask_person_name(subject.name) if subject.kind == SubjectKind.PERSON else subject.name
    matches = None if pdf is None else sha256(pdf) == report.sha256
    return Verification(True, report.report_no, name, china_time(report.generated_at), report.sha256, matches)
