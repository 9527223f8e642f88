"""``credit-portal backup DIR`` and ``credit-portal restore DIR`` (``portal.backup``)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import load_runtime, open_session, progress, running


@click.command("backup", help="备份数据库（SQLite 在线备份或 pg_dump）、运行数据目录中的密钥和上传文件、审计检查点文件到新目录")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_cmd(directory: Path) -> None:
    from ..backup import BackupError, backup

    rt = load_runtime()
    try:
        manifest = backup(rt.settings, rt.engine, directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"备份完成：{directory}（{manifest.database}，{len(manifest.files)} 个文件）；"
               "环境变量中的密钥不在备份中，请另行妥善保管")


@click.command("restore", help="从备份目录恢复到新的空数据库和运行数据目录，迁移到最新版本并重建索引")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_cmd(directory: Path) -> None:
    from sqlalchemy import func, select

    from ..backup import BackupError, restore_database, restore_files
    from ..config import load_settings
    from ..db.migrate import upgrade
    from ..models import Subject
    from ..services import indexing

    try:
        # the var files first: the runtime reads the development keys from there
        manifest = restore_files(load_settings(), directory)
        rt = load_runtime()
        restore_database(rt.settings, rt.engine, directory, manifest.schema)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    upgrade(rt.engine)
    with open_session(rt) as session:
        total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
        with progress(total, "重建索引") as bar:
            count = indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=running(bar))
    click.echo(f"恢复完成：备份时间 {manifest.created_at}；索引已重建（{count} 个可检索主体）；"
               "请运行 credit-portal audit verify 核对审计日志")
