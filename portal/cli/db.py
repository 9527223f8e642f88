"""``credit-portal db …``: schema migrations."""
from __future__ import annotations

import click

from .common import load_runtime


@click.group(help="数据库")
def db() -> None:
    pass


@db.command("upgrade", help="执行数据库迁移到最新版本")
def db_upgrade() -> None:
    from ..db.migrate import upgrade

    rt = load_runtime()
    upgrade(rt.engine)
    click.echo("数据库已是最新版本")
