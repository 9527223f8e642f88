"""``credit-portal grade …``: the grading cycle (``grade run``, 湖南医保 第十六、十九条), the
summary table, and who is left out of a period (湖南 第十八条)."""
from __future__ import annotations

import click

from .common import load_runtime, open_session


@click.group(invoke_without_command=True, help="信用评价：grade run 运行评价周期（供定时任务调用）；"
             "grade --year Y 直接写入某年度正式等级（仅用于历史数据迁移，不经初评和异议期）")
@click.option("--year", type=int, default=None, help="直接评定的年度（不经初评，仅用于历史数据迁移）")
@click.pass_context
def grade(click_ctx: click.Context, year: int | None) -> None:
    if click_ctx.invoked_subcommand is not None:
        return
    from ..services.grading import compute_grades

    rt = load_runtime()
    year = year or rt.today().year - 1
    with open_session(rt) as session:
        n = compute_grades(rt.context(session, "cli:grade"), year)
        session.commit()
    click.echo(f"已评定 {year} 年度信用等级：{n} 个主体")


@grade.command("run", help="运行信用评价周期一次（幂等，每天由定时任务运行）：到期的初评结果形成正式结果；"
               "按年度评价的在生成日生成上一年度初评结果，动态考评的重新计算并生成有变化的初评结果")
def grade_run() -> None:
    from ..services.grading_cycle import run_cycle

    rt = load_runtime()
    with open_session(rt) as session:
        out = run_cycle(rt.context(session, "cli:grade-run"))
        session.commit()
    cycle = f"，周期 {out['cycle']}" if out["cycle"] else ""
    click.echo(f"信用评价：新生成初评结果 {out['generated']} 个{cycle}；形成正式结果 {out['formal']} 个")


@grade.command("cycles", help="列出信用评价周期及其状态")
def grade_cycles() -> None:
    from ..services.grading_cycle import cycles

    rt = load_runtime()
    with open_session(rt) as session:
        rows = cycles(rt.context(session, "cli"))
    for c in rows:
        click.echo(f"{c['key']}\t生成 {c['generated_on']}\t异议期至 {c['objection_until']}\t{c['state']}")
    click.echo(f"共 {len(rows)} 个评价周期")


@grade.command("summary", help="导出某年度分级评价结果汇总表（Excel，只含正式结果）")
@click.option("--year", type=int, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def grade_summary(year: int, output: str) -> None:
    from ..services.grading_cycle import summary_xlsx

    rt = load_runtime()
    with open_session(rt) as session:
        data = summary_xlsx(rt.context(session, "cli"), year)
    with open(output, "wb") as fh:
        fh.write(data)
    click.echo(f"已导出 {output}")


@click.command("grade-exclude", help="登记不参加某年度信用评价的主体及依据（湖南 第十八条）")
@click.argument("code")
@click.option("--kind", type=click.Choice(["org", "person"]), default="org", show_default=True)
@click.option("--year", type=int, required=True, help="评价年度")
@click.option("--reason", required=True, help="不参加本期评价的依据")
def grade_exclude(code: str, kind: str, year: int, reason: str) -> None:
    from ..services.grading import exclude_from_grading
    from ..services.subjects import find_subject_by_code

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:grade-exclude")
        subject = find_subject_by_code(ctx, code, kind)
        if subject is None:
            raise click.ClickException("未找到该主体")
        exclude_from_grading(ctx, subject, year, reason)
        name = subject.name
        session.commit()
    click.echo(f"已登记：{name} 不参加 {year} 年度评价")


@click.command("grade-exclusions", help="列出不参加某年度信用评价的主体及依据（湖南 第十八条）")
@click.option("--year", type=int, required=True)
def grade_exclusions_cmd(year: int) -> None:
    from ..services.grading import grading_exclusions

    rt = load_runtime()
    with open_session(rt) as session:
        rows = grading_exclusions(rt.context(session, "cli"), year)
    for row, subject in rows:
        click.echo(f"{subject.public_id}\t{subject.name}\t{row.reason}")
    click.echo(f"{year} 年度不参加评价的主体：{len(rows)}")
