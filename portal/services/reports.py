"""Credit reports (信用报告): a PDF of what the requester may see, numbered, with a QR code and
URL where anyone can check that a copy is genuine.

The PDF is not stored; its SHA-256 is (``Report.sha256``), and the public verify page shows only
the report number, the subject's name, the time of generation and that hash. Generating a report
is a read of non-public information and is logged like any other (海南 第二十七条, 第五十一条).
Fonts: a CJK TrueType font the install provides (Debian ``fonts-wqy-zenhei``), else reportlab's
built-in CID font STSong-Light (glyphs then come from the reader's fonts).
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from xml.sax.saxutils import escape

from sqlalchemy import select

from ..domain.identifiers import mask_person_name
from ..domain.private_view import explanation_rows, record_rows
from ..domain.vocab import INFO_CLASS_LABELS, SUBJECT_KIND_LABELS, SUBJECT_STATUS_LABELS, SubjectKind, category_label
from ..identity import Identity
from ..models import Authorisation, CreditRecord, Report, Subject
from ..models.base import utcnow
from ..permissions import VIA_LABELS, Decision, visible_records
from .access_log import actor_for, log_private_view
from .context import ServiceContext
from .indexing import latest_grade

CHINA_TZ = timezone(timedelta(hours=8))
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
REPORT_NO_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register and name the CJK font used in reports."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            try:
                pdfmetrics.registerFont(TTFont("PortalCJK", path, subfontIndex=0))
                return "PortalCJK"
            except Exception:  # noqa: BLE001 - an unusable font file: try the next one
                continue
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def china_time(at: datetime) -> datetime:
    """A stored naive UTC time in China Standard Time."""
    return at.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ)


def new_report_no(today: date) -> str:
    return f"XYBG{today:%Y%m%d}" + "".join(secrets.choice(REPORT_NO_ALPHABET) for _ in range(8))


def verify_url(base_url: str, report: Report) -> str:
    return f"{base_url.rstrip('/')}/verify/report/{report.report_no}?t={report.verify_token}"


def qr_png(data: str) -> bytes:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class ReportContent:
    subject: Subject
    subject_lines: list[tuple[str, str]]
    requester: str
    scope_note: str
    grade: object | None
    grade_label: str
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


def report_content(ctx: ServiceContext, subject: Subject, identity: Identity, decision: Decision,
                   authorisation: Authorisation | None) -> ReportContent:
    records = ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id)
                                  .order_by(CreditRecord.id)).scalars().all()
    rows = record_rows(visible_records(decision, records, ctx.today), ctx.today)
    grade = latest_grade(ctx.session, subject.id, ctx.today)
    info = ctx.profile.grade(grade.letter) if grade else None
    requester = f"{identity.name}（{VIA_LABELS.get(decision.via, decision.via)}）"
    if authorisation is not None:
        classes = "、".join(INFO_CLASS_LABELS.get(c, c) for c in authorisation.info_classes)
        scope_note = (f"本报告依据第 {authorisation.id} 号书面授权生成，授权用途：{authorisation.purpose}；"
                      f"授权范围：{classes}{'（含非公开信息）' if authorisation.include_non_public else '（仅公开信息）'}；"
                      f"有效期至 {authorisation.valid_until}。仅限约定用途使用（海南 第二十七条）。")
    else:
        scope_note = "本报告包含该信用主体的全部信用信息（含不予公开的信息），仅供信用主体本人使用（海南 第二十七条）。"
    return ReportContent(subject=subject, subject_lines=_subject_lines(subject, ctx), requester=requester,
                         scope_note=scope_note, grade=grade, grade_label=info.label if info else "",
                         explanation=explanation_rows(grade.explanation) if grade and decision.full else [],
                         rows=rows, today=ctx.today)


def render_pdf(content: ReportContent, report: Report, url: str, portal_name: str, authority: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11)
    h1 = ParagraphStyle("h1", parent=base, fontSize=20, leading=28, alignment=1, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4)
    center = ParagraphStyle("center", parent=base, alignment=1)

    def p(text, style=base):
        return Paragraph(escape(str(text if text is not None else "")), style)

    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    generated = china_time(report.generated_at)
    box = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                      ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    meta = Table([[p("报告编号"), p(report.report_no)],
                  [p("生成时间"), p(f"{generated:%Y-%m-%d %H:%M:%S}（北京时间）")],
                  [p("查询人"), p(content.requester)],
                  [p("信息截止日期"), p(content.today.isoformat())]],
                 colWidths=[26 * mm, 100 * mm], style=box)
    qr = Image(io.BytesIO(qr_png(url)), width=36 * mm, height=36 * mm)
    story = [p(portal_name, center), p("信用报告", h1),
             Table([[meta, [qr, p("扫码核验", center)]]], colWidths=[130 * mm, 40 * mm],
                   style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])),
             p(f"核验网址：{url}", small),
             p("扫描二维码或访问核验网址可核验本报告真伪；核验页面只显示报告编号、信用主体名称、生成时间和报告文件的"
               " SHA-256 摘要，不显示报告内容。", small),
             Spacer(1, 2 * mm), p(content.scope_note, small)]

    story.append(p("一、信用主体", h2))
    story.append(Table([[p(k), p(v)] for k, v in content.subject_lines], colWidths=[40 * mm, 130 * mm],
                       style=TableStyle([("FONTNAME", (0, 0), (-1, -1), font),
                                         ("GRID", (0, 0), (-1, -1), 0.4, colors.grey)])))

    story.append(p("二、信用等级", h2))
    if content.grade is not None:
        g = content.grade
        story.append(p(f"{g.year} 年度：{g.letter} {content.grade_label}（{g.score} 分，依据 {g.profile_id} 评分表）"))
        if content.explanation:
            rows = [[p("影响评分的信息"), p("分值变化"), p("评分规则")]]
            rows += [[p(e.label), p("" if e.delta is None else f"{e.delta:+d}"), p(e.rule, small)]
                     for e in content.explanation]
            story.append(Table(rows, colWidths=[80 * mm, 20 * mm, 70 * mm], style=grid, repeatRows=1))
    else:
        story.append(p("尚未评定信用等级。"))

    story.append(p("三、信用信息", h2))
    if content.rows:
        rows = [[p("类别 / 类型"), p("内容"), p("决定日期 / 文号"), p("公开方式 / 公示期"), p("状态")]]
        for row in content.rows:
            r, lab = row.current, row.labels
            detail = [r.title] + ([r.content] if r.content else [])
            if r.version > 1:
                detail.append(f"第 {r.version} 版；更正理由：{r.change_reason}")
            for old in row.history:
                detail.append(f"历史版本 第 {old.version} 版：{old.title}")
            window = f"{r.publish_from} 至 {r.publish_until or '长期'}"
            rows.append([Paragraph(escape(lab["class"]) + "<br/>" + escape(lab["type"] + ("·" + lab["severity"] if lab["severity"] else "")), small),
                         Paragraph("<br/>".join(escape(str(t)) for t in detail), small),
                         p(f"{r.decided_on} {r.doc_no}", small), p(f"{lab['scope']}；{window}", small),
                         p(f"{lab['status']}；{row.state}", small)])
        story.append(Table(rows, colWidths=[26 * mm, 62 * mm, 28 * mm, 30 * mm, 24 * mm], style=grid,
                           repeatRows=1))
    else:
        story.append(p("授权范围内没有信用信息。"))

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(20 * mm, 10 * mm, f"{authority} · 报告编号 {report.report_no}")
        canvas.drawRightString(190 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"信用报告 {report.report_no}", author=authority,
                            subject=content.subject.name, creator=portal_name)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def generate_report(ctx: ServiceContext, subject: Subject, identity: Identity, decision: Decision,
                    base_url: str) -> tuple[Report, bytes]:
    """Issue a numbered report of what ``decision`` lets ``identity`` see; log the read."""
    if not decision.allowed:
        raise PermissionError(decision.reason_zh)
    authorisation = ctx.session.get(Authorisation, decision.authorisation_id) if decision.authorisation_id else None
    report = Report(report_no=new_report_no(ctx.today), subject_id=subject.id, requested_by=actor_for(identity),
                    requester_name=identity.name, via=str(decision.via), authorisation_id=decision.authorisation_id,
                    generated_at=utcnow(), verify_token=secrets.token_urlsafe(16), sha256="")
    content = report_content(ctx, subject, identity, decision, authorisation)
    pdf = render_pdf(content, report, verify_url(base_url, report), ctx.profile.portal_name, ctx.profile.authority)
    report.sha256 = hashlib.sha256(pdf).hexdigest()
    ctx.session.add(report)
    ctx.session.flush()
    log_private_view(ctx, identity, subject, decision.purpose, decision.via, decision.authorisation_id,
                     what="report", ref=f"report:{report.report_no}")
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
    if report is None or not token or not secrets.compare_digest(report.verify_token, token[:64]):
        return Verification(False, report_no[:32])
    subject = ctx.session.get(Subject, report.subject_id)
    name = mask_person_name(subject.name) if subject.kind == SubjectKind.PERSON else subject.name
    matches = None if pdf is None else hashlib.sha256(pdf).hexdigest() == report.sha256
    return Verification(True, report.report_no, name, china_time(report.generated_at), report.sha256, matches)
