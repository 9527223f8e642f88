"""``credit-portal audit …``: verify the audit hash chain; write signed checkpoints."""
from __future__ import annotations

import sys

import click

from .common import load_runtime, open_session


@click.group(help="审计日志")
def audit() -> None:
    pass


@audit.command("verify", help="校验审计日志哈希链和检查点，发现篡改、删除和重算哈希")
def audit_verify() -> None:
    from ..services.audit import audit_key, verify_chain
    from ..services.audit_anchor import read_checkpoints

    rt = load_runtime()
    with open_session(rt) as session:
        checkpoints, bad = read_checkpoints(rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"], audit_key(session))
        problems = verify_chain(session, checkpoints)
    for line in bad:
        click.echo(f"检查点文件第 {line.line_no} 行：{line.message}", err=True)
    for p in problems:
        click.echo(f"事件 {p.event_id}：{p.message}", err=True)
    if problems or bad:
        sys.exit(1)
    if not checkpoints:
        click.echo("提示：没有可核对的检查点，无法发现最新事件被删除或整链重写；"
                   "请运行 credit-portal audit checkpoint（建议每日）", err=True)
    click.echo(f"审计日志完整（已核对 {len(checkpoints)} 个检查点）")


@audit.command("checkpoint", help="把审计日志链头写入签名检查点文件（每日运行，也可随时运行）")
def audit_checkpoint() -> None:
    from ..services.audit_anchor import write_checkpoint
    from ..services.audit_rollup import flush_closed

    rt = load_runtime()
    with open_session(rt) as session:
        flush_closed(session)  # repeated-failure counts of past minutes become their summary events
        session.commit()
        cp = write_checkpoint(session, rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    click.echo(f"已写入检查点：第 {cp.seq} 个事件（编号 {cp.event_id}），文件 {rt.settings['PORTAL_AUDIT_CHECKPOINT_FILE']}")
