"""Supervision workflows on the command line (issue 16).

``credit-portal lists run``: the daily sweep of the list procedures (issue 16), idempotent —
exits entries whose listing ended or whose record was repaired or withdrawn, removes red-list
entries of subjects with a newer dishonesty record, proposes 海南 第十四条 escalations. The same
service as the staff pages (portal.services.lists); run it from the same timer as
``credit-portal expire``.

``credit-portal commitments run``: mark commitments broken by dishonesty records that came in
without the record verb (file imports), idempotent; daily.

``credit-portal warnings run``: evaluate the profile's early-warning rules (淮安 三（二）),
filing each finding once (idempotent); daily from the same timer.
"""
from __future__ import annotations

import click

from .common import load_runtime, open_session


@click.group("lists", help="名单认定（严重失信主体名单、守信红名单）")
def lists_cmd() -> None:
    pass


@lists_cmd.command("run", help="每日运行：到期移出、新增失信移出红名单、失信升级建议（可重复运行）")
def run() -> None:
    from ..services.lists import sweep

    rt = load_runtime()
    with open_session(rt) as session:
        counts = sweep(rt.context(session, "cli:lists"))
        session.commit()
    click.echo(f"移出名单 {counts['exited']} 条；红名单因新增失信移出 {counts['removed']} 条；"
               f"失信升级建议 {counts['escalations']} 件")


@click.group("warnings", help="信用预警")
def warnings_cmd() -> None:
    pass


@warnings_cmd.command("run", help="每日运行：按辖区规则生成信用预警（可重复运行，同一事项只生成一次）")
def warnings_run() -> None:
    from ..domain.warnings import LABELS
    from ..services.warnings import run_warnings

    rt = load_runtime()
    with open_session(rt) as session:
        made = run_warnings(rt.context(session, "cli:warnings"))
        counts: dict[str, int] = {}
        for w in made:
            counts[w.rule] = counts.get(w.rule, 0) + 1
        session.commit()
    click.echo(f"新增预警 {len(made)} 条" + "".join(f"；{LABELS[k]} {n}" for k, n in sorted(counts.items())))


@click.group("commitments", help="信用承诺")
def commitments_cmd() -> None:
    pass


@commitments_cmd.command("run", help="每日运行：承诺期内有失信信息（含批量导入的）的承诺记为违诺（可重复运行）")
def commitments_run() -> None:
    from ..services.commitments import sweep

    rt = load_runtime()
    with open_session(rt) as session:
        broken = sweep(rt.context(session, "cli:commitments"))
        session.commit()
    click.echo(f"新记违诺 {len(broken)} 件")
