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
    from . import cli
    from .services.case_reads import case_by_number, read_case_document

    rt = cli._runtime()
    with cli._session(rt) as session:
        ctx = rt.context(session, "staff:cli")
        case = case_by_number(session, case_no)
        if case is None:
            raise click.ClickException(f"未找到案件 {case_no}")
        # the same logged read as the subject's and the staff's download pages
        doc = read_case_document(ctx, case, kind, base_url=rt.settings["PORTAL_BASE_URL"], purpose=purpose)
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


@calendar.command("review", help="确认某年的放假安排已全部录入（不再提示按周一至周五估算）")
@click.argument("year", type=click.IntRange(2000, 2200))
@click.option("--note", required=True, help="依据（放假通知文号）")
def calendar_review(year: int, note: str) -> None:
    from . import cli
    from .services.calendar import mark_year_reviewed

    rt = cli._runtime()
    with cli._session(rt) as session:
        years = mark_year_reviewed(rt.context(session, "staff:cli"), year, note)
        session.commit()
        click.echo("已确认的年份：" + "、".join(str(y) for y in years))


__all__ = ["cases", "calendar"]
