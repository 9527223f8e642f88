"""``credit-portal grade …``: annual credit grades and who is left out of them (湖南 第十八条)."""
from __future__ import annotations

import click

from .common import load_runtime, open_session


@click.command(help="按本辖区评分表评定年度信用等级")
@click.option("--year", type=int, default=None, help="评定年度，默认上一年度")
def grade(year: int | None) -> None:
    from ..services.grading import compute_grades

    rt = load_runtime()
    year = year or rt.today().year - 1
    with open_session(rt) as session:
        n = compute_grades(rt.context(session, "cli:grade"), year)
        session.commit()
    click.echo(f"已评定 {year} 年度信用等级：{n} 个主体")


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
