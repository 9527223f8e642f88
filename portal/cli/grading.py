"""``credit-portal grade …``: the grading cycle (``grade run``, 湖南医保 第十六、十九条), the
summary table, and who is left out of a period (湖南 第十八条)."""
from __future__ import annotations

import click

from .common import load_runtime, open_session


@click.group(invoke_without_command=True, help="信用评价：grade run 运行评价周期（供定时任务调用，初评 → 异议期 → 正式结果）；"
             "grade --load-historical --year Y 仅用于迁移历史年度的正式等级（不经初评和异议期，评价周期管理的年度一律拒绝）")
@click.option("--load-historical", "load_historical", is_flag=True, default=False,
              help="迁移历史数据：直接写入 --year 年度的正式等级（不经初评和异议期；上一年度及以后、已有评价周期的年度拒绝）")
@click.option("--year", type=int, default=None, help="与 --load-historical 一起使用：要迁移的历史年度")
@click.pass_context
def grade(click_ctx: click.Context, load_historical: bool, year: int | None) -> None:
    # Plain ``credit-portal grade`` used to write last year's FORMAL grades directly (a yearly timer
    # ran it every 1 January), skipping the 初评 and the objection window (湖南医保 第十九条;
    # 阳山 四（三）). It now only prints help; formal grades come from ``grade run``.
    if click_ctx.invoked_subcommand is not None:
        return
    if not load_historical:
        if year is not None:
            raise click.UsageError("grade --year 不再直接写入正式等级：评价由 credit-portal grade run 按周期完成"
                                   "（初评 → 异议期 → 正式结果）；迁移历史数据请加 --load-historical")
        click.echo(click_ctx.get_help())
        return
    if year is None:
        raise click.UsageError("--load-historical 需要 --year：要迁移的历史年度")
    from ..services.errors import ServiceError
    from ..services.grading import load_historical_grades

    rt = load_runtime()
    with open_session(rt) as session:
        try:
            n = load_historical_grades(rt.context(session, "cli:grade-load-historical"), year)
        except ServiceError as err:
            raise click.ClickException(str(err)) from err
        session.commit()
    click.echo(f"已迁移 {year} 年度历史信用等级（正式，不经初评）：{n} 个主体")


@grade.command("run", help="运行信用评价周期一次（幂等，每天由定时任务运行）：到期的初评结果形成正式结果；"
               "按年度评价的在生成日生成上一年度初评结果，动态考评的重新计算并生成有变化的初评结果")
def grade_run() -> None:
    from ..services.exclusion_backfill import backfill_exclusion_effective
    from ..services.grading_cycle import run_cycle

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:grade-run")
        backfilled = backfill_exclusion_effective(ctx)  # rows from before migration 0028 (rolling only)
        out = run_cycle(ctx)
        session.commit()
    cycle = f"，周期 {out['cycle']}" if out["cycle"] else ""
    filled = f"；补记不参加评价登记的生效日期 {backfilled} 条" if backfilled else ""
    click.echo(f"信用评价：新生成初评结果 {out['generated']} 个{cycle}；形成正式结果 {out['formal']} 个{filled}")


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


@click.command("grade-exclude", help="登记不参加某年度信用评价的主体及依据（根据有关规定不参加本期评价）")
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


@click.command("grade-exclusions", help="列出不参加某年度信用评价的主体及依据")
@click.option("--year", type=int, required=True)
def grade_exclusions_cmd(year: int) -> None:
    from ..services.grading import grading_exclusions

    rt = load_runtime()
    with open_session(rt) as session:
        rows = grading_exclusions(rt.context(session, "cli"), year)
    for row, subject in rows:
        click.echo(f"{subject.public_id}\t{subject.name}\t{row.reason}")
    click.echo(f"{year} 年度不参加评价的主体：{len(rows)}")
