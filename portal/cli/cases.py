"""``credit-portal cases …`` and ``credit-portal calendar …``: the case documents and the holiday
table from the command line, through the same services as the web."""
from __future__ import annotations

from pathlib import Path

import click

from ..services.case_documents import KINDS
from .common import load_runtime, open_session


@click.group(help="异议与信用修复")
def cases() -> None:
    pass


@cases.command("document", help="输出案件文书 PDF（申请书、异议处理结果、信用修复确认通知书）；记入访问日志")
@click.argument("case_no")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件")
@click.option("--purpose", default="异议/信用修复办理", show_default=True, help="查看用途（记入访问日志）")
def document(case_no: str, kind: str, output: Path, purpose: str) -> None:
    from ..services.case_reads import case_by_number, read_case_document

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "staff:cli")
        case = case_by_number(session, case_no)
        if case is None:
            raise click.ClickException(f"未找到案件 {case_no}")
        # the same logged read as the subject's and the staff's download pages
        doc = read_case_document(ctx, case, kind, base_url=rt.settings["PORTAL_BASE_URL"], purpose=purpose)
        output.write_bytes(doc.pdf)
        session.commit()
        click.echo(f"{doc.doc_no}  SHA-256 {doc.sha256}  → {output}")


@cases.command("register-paper", help="登记纸质或窗口受理的申请：期限自实际收到日期起算（依本辖区办法）")
@click.option("--kind", type=click.Choice(["objection", "repair"]), required=True)
@click.option("--subject", "code", required=True, help="主体代码（统一社会信用代码或身份证号）")
@click.option("--subject-kind", type=click.Choice(["org", "person"]), default="org", show_default=True)
@click.option("--record", "lineage_id", type=int, required=True, help="信息编号")
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), required=True, help="实际收到申请的日期")
@click.option("--channel", type=click.Choice(["paper", "window"]), required=True)
@click.option("--name", "applicant_name", required=True, help="申请人姓名或单位名称")
@click.option("--statement", required=True, help="申请内容及理由")
@click.option("--ground", default="", help="异议理由代码（异议申请必填）")
@click.option("--scan", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="申请书扫描件（PDF/JPG/PNG）")
@click.option("--role", default="department", show_default=True, help="登记人的角色（受理申请的部门）")
def register_paper(kind, code, subject_kind, lineage_id, received, channel, applicant_name, statement, ground,
                   scan: Path, role) -> None:
    from ..services.paper import register_paper_application
    from ..services.records import current_version
    from ..services.subjects import find_subject_by_code

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "staff:cli")
        subject = find_subject_by_code(ctx, code, subject_kind)
        record = current_version(ctx, lineage_id)
        if subject is None or record is None:
            raise click.ClickException("未找到该主体或信息")
        case = register_paper_application(ctx, subject, record, kind=kind, received_on=received.date(),
                                          channel=channel, applicant_name=applicant_name, statement=statement,
                                          scan=(scan.name, scan.read_bytes()), var_dir=rt.settings["PORTAL_VAR_DIR"],
                                          role=role, ground=ground)
        no, due, code = case.case_no, case.due_on, case.lookup_code
        session.commit()
    click.echo(f"已登记 {no}，收到日期 {received.date().isoformat()}，办理期限 {due.isoformat() if due else '—'}")
    click.echo(f"查询码 {code}（写入回执交申请人，凭申请编号和查询码在 /progress 查询进度；只显示这一次）")


@cases.command("sweep", help="期限届满未办理的案件按本辖区办法的规定自动办结（如异议不成立后未申请复核）；每日运行")
def sweep() -> None:
    from ..services import indexing
    from ..services.case_sweep import sweep_lapsed

    rt = load_runtime()
    with open_session(rt) as session:
        closed = sweep_lapsed(rt.context(session, "cli:cases-sweep"))
        session.commit()
        while indexing.drain(session, rt.backend, rt.today(), rt.profile):
            pass
    for case in closed:
        click.echo(f"{case.case_no}  {case.outcome_reason}")
    click.echo(f"自动办结的案件：{len(closed)}")


@click.group(help="工作日历（节假日维护）")
def calendar() -> None:
    pass


@calendar.command("set", help="录入一天的放假或调休上班安排（系统日历未收录的年份）；在办案件期限随之重新计算")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--holiday/--workday", "holiday", required=True, help="放假 / 调休上班")
@click.option("--note", required=True, help="依据（如国务院办公厅放假安排通知）")
def calendar_set(day, holiday: bool, note: str) -> None:
    from ..services.holiday_table import set_holiday_override

    rt = load_runtime()
    with open_session(rt) as session:
        set_holiday_override(rt.context(session, "staff:cli"), day.date(), not holiday, note)
        session.commit()
        click.echo(f"{day.date()}：{'放假' if holiday else '调休上班'}")


@calendar.command("review", help="确认某年的放假安排已全部录入（期限不再为暂定）；法定节假日未全部录入时拒绝")
@click.argument("year", type=int)
@click.option("--note", required=True, help="依据（放假通知文号）")
def calendar_review(year: int, note: str) -> None:
    from ..services.holiday_table import mark_year_reviewed

    rt = load_runtime()
    with open_session(rt) as session:
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
    from ..domain.holiday_notice import NoticeError, parse_notice, table_rows
    from ..services.holiday_table import import_notice

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
    rt = load_runtime()
    with open_session(rt) as session:
        note = note or " ".join(p for p in (notice.title, notice.doc_no) if p)
        years = import_notice(rt.context(session, "staff:cli"), notice, note)
        session.commit()
        click.echo(f"已录入并确认 {notice.year} 年；已确认的年份：" + "、".join(str(y) for y in years))


__all__ = ["cases", "calendar"]
