"""Public credit reports (公共信用信息报告, as 信用中国 offers): a PDF of an organisation's public
information only, for anyone, without login, with the same number + QR verification as the
subject's own report (``services.reports``: ``/verify/report/<no>``).

The content is exactly what the public facility page shows (``public_pages.facility_read``:
public views through the privacy boundary, never a record the public may not see). A report is
issued per version of this organisation's public data and day (``portal.public_version``: the
global version and the organisation's own stamp; a publication window can end
at midnight without a write) and kept byte for byte, so asking again about an unchanged
organisation returns the same numbered report instead of a new row each time. Natural persons
(doctors …) get no public report: their page shows records only while they are public, and a
document about a person travels further than a page (湖南 第四条: 不得泄露个人隐私).
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from ..documents.citations import profile_cite
from ..domain.vocab import InfoClass, SubjectKind
from ..models import Report
from ..models.base import utcnow
from .context import ServiceContext
from .errors import ServiceError
from .public_page_read import read_one
from .public_pages import facility_read
from .reports import new_report_no, verify_url
from .verifiable import build_pdf, china_time, facts_table, new_token, sha256, styles, verify_header

PUBLIC_REQUESTER = "public"
TITLE = "公共信用信息报告"
NO_PERSON_REPORT = "个人不提供公共信用信息报告；其公开信息请以公示页面为准。"
SECTIONS = ((InfoClass.SERIOUS, "严重失信信息"), (InfoClass.DISHONEST, "行政处罚与失信信息"),
            (InfoClass.POSITIVE, "表彰奖励与增信信息"), (InfoClass.BASIC, "许可、承诺与基础信息"))


NOT_FOUND = "未找到该主体。请检查链接是否完整。"


def _read(ctx: ServiceContext, public_id: str):
    """``(rows, content)`` of the organisation's facility page, from the page's one statement
    (``public_pages.facility_read``): no subject loaded before it; 404 for an unknown public id."""
    read = facility_read(ctx.session, ctx.profile, public_id[:16], ctx.today)
    if read is None:
        raise ServiceError(NOT_FOUND, "subject", 404)
    return read


def _version_key(rows, today) -> str:
    """What this organisation's public data depends on: the global public data version (its own
    row, anything not scoped), its own stamp (its records, grades, plates, cases) and the day;
    a change to another organisation keeps its report (``public_version``: scoped changes). Both
    are read by the statement that reads the content, so the key is the content's."""
    return f"{rows.global_version or '-'}:{rows.subject['public_stamp'] or '-'}@{today.isoformat()}"


def _issued(ctx: ServiceContext, subject_id: int, key: str) -> Report | None:
    return ctx.session.execute(select(Report).where(Report.subject_id == subject_id,
                                                    Report.public_version == key)).scalar_one_or_none()


def public_report(ctx: ServiceContext, public_id: str, base_url: str) -> Report:
    """The public report of the organisation ``public_id`` for today's public data (issued on
    first request)."""
    rows, view = _read(ctx, public_id)
    if rows.subject["kind"] != SubjectKind.ORG:
        raise ServiceError(NO_PERSON_REPORT, "subject", 404)
    if view is None:
        raise ServiceError("未找到该主体。", "subject", 404)
    key = _version_key(rows, ctx.today)
    subject_id = rows.subject["id"]
    found = _issued(ctx, subject_id, key)
    if found is not None:
        return found
    report = Report(report_no=new_report_no(ctx.today), subject_id=subject_id, requested_by=PUBLIC_REQUESTER,
                    requester_name="", via=PUBLIC_REQUESTER, generated_at=utcnow(), verify_token=new_token(),
                    sha256="", public_version=key)
    report.pdf = render_public_pdf(ctx.profile, view, report, verify_url(base_url, report), ctx.today)
    report.sha256 = sha256(report.pdf)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(report)
            ctx.session.flush()
    except IntegrityError:  # another request issued it a moment ago: that one is the report
        found = _issued(ctx, subject_id, key)
        if found is None:
            raise
        return found
    return report


REPORT_GONE = "该报告所依据的公开信息已更新或已过当日，原报告不再提供下载；可在公示页面重新生成，报告真伪仍可凭编号核验。"


def issued_public_report(ctx: ServiceContext, public_id: str, report_no: str):
    """A public report by its number, for anyone: only while it still shows today's public data
    (the same version key it was issued for). An older one may show a record that has since been
    repaired or withdrawn (湖南 第三十一条: after 信用修复 the record is no longer disclosed), so it is not handed out
    again; its number and hash stay verifiable at /verify/report. Two read-only statements (the
    page's and the report's), on PostgreSQL outside a transaction; returns the report's
    ``report_no`` and ``pdf``."""
    rows, _ = _read(ctx, public_id)
    report = read_one(ctx.session, _ISSUED_BY_NO, {"report_no": report_no[:32]})
    if report is None or report.subject_id != rows.subject["id"] or report.via != PUBLIC_REQUESTER or report.pdf is None:
        raise ServiceError("未找到该公共信用信息报告。", "report", 404)
    if rows.subject["kind"] != SubjectKind.ORG or report.public_version != _version_key(rows, ctx.today):
        raise ServiceError(REPORT_GONE, "report", 410)
    return report


# columns, not the entity: read on the pages' AUTOCOMMIT path (public_page_read.read_one)
_ISSUED_BY_NO = select(Report.report_no, Report.subject_id, Report.via, Report.public_version, Report.pdf).where(
    Report.report_no == bindparam("report_no"))


def _subject_rows(view: dict) -> list[tuple[str, str]]:
    s, region = view["subject"], view["region"]
    rows = [("名称", s["name"]), ("类别", s["category_label"])]
    rows += [(label, s[k]) for label, k in (("统一社会信用代码", "credit_code"), ("法定代表人（负责人）", "legal_rep"),
                                            ("地址", "address")) if s.get(k)]
    if s.get("licence_no"):
        until = f"（有效期至 {s['licence_valid_until']}）" if s.get("licence_valid_until") else ""
        rows.append(("许可证号", f"{s['licence_no']}{until}"))
    rows += [("所在地区", region.name if region else s["region_code"]), ("状态", s["status_label"])]
    return rows


def render_public_pdf(profile, view: dict, report: Report, url: str, today) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    st = styles()
    p, small = st.p, st.small
    generated = china_time(report.generated_at)
    basis = profile_cite(profile, profile.display.article)
    story = verify_header(
        st, portal_name=profile.portal_name, title=TITLE, url=url,
        meta=[("报告编号", report.report_no), ("生成时间", f"{generated:%Y-%m-%d %H:%M:%S}（北京时间）"),
              ("信息截止日期", today.isoformat()), ("数据更新时间", view["risk"].get("data_time") or "—")],
        explain="扫描二维码或访问核验网址可核验本报告真伪；核验页面只显示报告编号、信用主体名称、生成时间和报告文件的"
                " SHA-256 摘要。")
    story += [Spacer(1, 2 * mm), p(
        f"本报告仅包含依据{basis}向社会公开、且在公示期内的信用信息，内容与本平台该主体的公示页面一致；"
        "不含依法不予公开的信息，已修复、已撤销或公示期届满的信息不再列示。", small)]

    story += [p("一、主体信息", st.h2), facts_table(st, _subject_rows(view))]
    story.append(p("二、当前风险提示", st.h2))
    story.append(st.lines([item["text"] for item in view["risk"]["items"]]))
    story.append(p("三、信用等级", st.h2))
    grade, info = view["grade"], view["grade_info"]
    if grade:
        story.append(p(f"{grade['year']} 年度：{grade['letter']} {info.label if info else ''}"))
        if view["risk"].get("grade_note"):
            story.append(p(view["risk"]["grade_note"], small))
    else:
        story.append(p("尚未评定信用等级。"))
    story.append(p("四、公开信用信息", st.h2))
    for n, (cls, label) in enumerate(SECTIONS, 1):
        records = view["groups"].get(cls) or []
        story.append(p(f"（{n}）{label}", st.base))
        if not records:
            story.append(p("暂无。", small))
            continue
        rows = [[p("类型"), p("内容"), p("决定日期 / 文号 / 部门"), p("公示期")]]
        for r in records:
            kind = r["type_label"] + (f"·{r['severity_label']}" if r.get("severity_label") else "")
            detail = [r["title"]] + ([r["content"]] if r.get("content") else []) \
                + ([r["case_marker"]] if r.get("case_marker") else [])
            rows.append([p(kind, small), st.lines(detail, small),
                         st.lines([str(r["decided_on"] or ""), r["doc_no"], r["authority"]], small),
                         p(f"{r['publish_from'] or ''} 至 {r['publish_until'] or '长期'}", small)])
        story.append(Table(rows, colWidths=[26 * mm, 74 * mm, 40 * mm, 30 * mm], style=st.grid, repeatRows=1))
    name = view["subject"]["name"]
    return build_pdf(story, title=f"{TITLE} {report.report_no}", author=profile.authority, subject=name,
                     creator=profile.portal_name, footer_left=f"{profile.authority} · 报告编号 {report.report_no}")
