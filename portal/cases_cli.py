"""``credit-portal cases …`` and ``credit-portal calendar …``: the case documents and the holiday
table from the command line, through the same services as the web."""
from __future__ import annotations

from pathlib import Path

import click

from .services.case_documents import KINDS


@click.group(help="异议与信用修复")
def cases() -> None:
    pass


@cases.command("document", help="输出案件文书 PDF（申请书、异议处理结果、信用修复确认通知书）；记入访问日志")
@click.argument("case_no")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件")
@click.option("--purpose", default="异议/信用修复办理", show_default=True, help="查看用途（记入访问日志）")
def document(case_no: str, kind: str, output: Path, purpose: str) -> None:
    from sqlalchemy import select

    from . import cli
    from .models import Case
    from .services.access_log import log_staff_view
    from .services.case_documents import case_document

    rt = cli._runtime()
    with cli._session(rt) as session:
        ctx = rt.context(session, "staff:cli")
        case = session.execute(select(Case).where(Case.case_no == case_no[:20])).scalar_one_or_none()
        if case is None:
            raise click.ClickException(f"未找到案件 {case_no}")
        doc = case_document(ctx, case, kind, base_url=rt.settings["PORTAL_BASE_URL"])
        log_staff_view(ctx, "cli", "命令行", case.subject_id, purpose, what="case_document",
                       ref=f"document:{doc.doc_no}")
        output.write_bytes(doc.pdf)
        session.commit()
        click.echo(f"{doc.doc_no}  SHA-256 {doc.sha256}  → {output}")


@click.group(help="工作日历（节假日维护）")
def calendar() -> None:
    pass


@calendar.command("set", help="录入一天的放假或调休上班安排（系统日历未收录的年份）；在办案件期限随之重新计算")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--holiday/--workday", "holiday", required=True, help="放假 / 调休上班")
@click.option("--note", required=True, help="依据（如国务院办公厅放假安排通知）")
def calendar_set(day, holiday: bool, note: str) -> None:
    from . import cli
    from .services.calendar import set_holiday_override

    rt = cli._runtime()
    with cli._session(rt) as session:
        set_holiday_override(rt.context(session, "staff:cli"), day.date(), not holiday, note)
        session.commit()
        click.echo(f"{day.date()}：{'放假' if holiday else '调休上班'}")


@calendar.command("review", help="确认某年的放假安排已全部录入（期限不再为暂定）；法定节假日未全部录入时拒绝")
@click.argument("year", type=int)
@click.option("--note", required=True, help="依据（放假通知文号）")
def calendar_review(year: int, note: str) -> None:
    from . import cli
    from .services.calendar import mark_year_reviewed

    rt = cli._runtime()
    with cli._session(rt) as session:
        years = mark_year_reviewed(rt.context(session, "staff:cli"), year, note)
        session.commit()
        click.echo("已确认的年份：" + "、".join(str(y) for y in years))


NOTICE_MAX_BYTES = 200_000


def _read_notice(path: Path) -> str:
    data = path.read_bytes()[:NOTICE_MAX_BYTES + 1]
    if len(data) > NOTICE_MAX_BYTES:
        raise click.ClickException("通知文件过大")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise click.ClickException("无法读取通知文件（应为 UTF-8 或 GB18030 编码的文本）")


@calendar.command("import-notice",
                  help="导入国务院办公厅放假安排通知全文：显示解析出的放假、调休上班日期，确认后录入并确认该年度")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="年份（通知全文缺少标题时填写）")
@click.option("--note", default="", help="依据（默认取通知标题和文号）")
@click.option("--yes", is_flag=True, help="不再询问，直接录入")
def calendar_import_notice(file: Path, year: int | None, note: str, yes: bool) -> None:
    from . import cli
    from .domain.holiday_notice import NoticeError, parse_notice, table_rows
    from .services.calendar import import_notice

    try:
        notice = parse_notice(_read_notice(file), year)
    except NoticeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{notice.year}年 {notice.title} {notice.doc_no}".rstrip())
    for day, weekday, kind, festival in table_rows(notice):
        click.echo(f"{day.isoformat()}  {weekday}  {kind}  {festival}")
    click.echo(f"共 放假 {len(notice.holidays)} 天，调休上班 {len(notice.workdays)} 天")
    if not yes and not click.confirm("确认按上表录入？", default=False):
        raise click.ClickException("未录入")
    rt = cli._runtime()
    with cli._session(rt) as session:
        note = note or " ".join(p for p in (notice.title, notice.doc_no) if p)
        years = import_notice(rt.context(session, "staff:cli"), notice, note)
        session.commit()
        click.echo(f"已录入并确认 {notice.year} 年；已确认的年份：" + "、".join(str(y) for y in years))


__all__ = ["cases", "calendar"]
