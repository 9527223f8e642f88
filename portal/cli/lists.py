"""``credit-portal lists run``: the daily sweep of the list procedures (issue 16), idempotent —
exits entries whose listing ended or whose record was repaired or withdrawn, removes red-list
entries of subjects with a newer dishonesty record, proposes 海南 第十四条 escalations. The same
service as the staff pages (portal.services.lists); run it from the same timer as
``credit-portal expire``.
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
