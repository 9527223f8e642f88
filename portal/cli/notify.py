"""``credit-portal notify send``: the outside notices' single sender, run by a scheduler (issue 14)."""
from __future__ import annotations

import click

from .common import load_runtime, open_session


@click.group(help="通知（电子邮件、短信）")
def notify() -> None:
    pass


@notify.command("send", help="发送待发送的通知（每条通知只发送一次；建议由定时任务每分钟运行）")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000), help="本次最多处理条数")
def notify_send(limit: int) -> None:
    from ..services.notify import send_pending

    rt = load_runtime()
    with open_session(rt) as session:
        counts = send_pending(session, rt.protector, rt.settings, rt.profile.portal_name, limit=limit)
    click.echo(f"已发送 {counts['sent']} 条；因已关闭通知跳过 {counts['skipped']} 条；"
               f"多次失败放弃 {counts['failed']} 条；通道未配置、暂不发送 {counts['waiting']} 条")
