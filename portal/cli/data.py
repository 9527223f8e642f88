"""``credit-portal demo | import | bootstrap``: load data (synthetic or from a provider's file)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import load_runtime, open_session, progress, running


@click.command(help="生成演示数据（合成数据，校验位有效）")
@click.option("--subjects", default=2000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
def demo(subjects: int, seed: int) -> None:
    from ..db.migrate import upgrade
    from ..services.demo import load_demo

    rt = load_runtime()
    upgrade(rt.engine)
    with open_session(rt) as session, progress(subjects, "生成演示数据") as bar:
        result = load_demo(rt.context(session, "cli:demo"), subjects, seed, progress=bar.update)
        session.commit()
    click.echo(f"已生成 {result['subjects']} 个主体、{result['records']} 条信用信息、{result['grades']} 条信用等级")


@click.command("import", help="导入 .csv / .xlsx / .jsonl 信用信息文件（有错误则整体拒绝）")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_cmd(file: Path) -> None:
    from ..services.importer import ImportFileError, import_file

    rt = load_runtime()
    raw = file.read_bytes()
    with open_session(rt) as session, progress(None, "校验并导入") as bar:
        try:
            report = import_file(rt.context(session, "cli:import"), file.name, raw, progress=bar.update)
        except ImportFileError as exc:
            raise click.ClickException(exc.message) from exc
        if not report.ok:
            session.rollback()
            click.echo(f"\n文件未导入：共发现 {len(report.errors)} 处错误，请修改后重新导入。", err=True)
            for error in report.errors:
                click.echo(f"  {error}", err=True)
            sys.exit(1)
        session.commit()
    click.echo(f"已导入 {report.records} 条信用信息（{report.subjects} 个主体）")




@click.command(help="首次运行准备：迁移数据库；空库时生成演示数据；索引缺失时重建")
@click.option("--subjects", default=2000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
def bootstrap(subjects: int, seed: int) -> None:
    from sqlalchemy import func, select

    from search_index.analysis import stale_index

    from ..db.migrate import upgrade
    from ..models import Subject
    from ..services import indexing
    from ..services.demo import load_demo

    rt = load_runtime()
    upgrade(rt.engine)
    with open_session(rt) as session:
        if session.execute(select(func.count()).select_from(Subject)).scalar_one() == 0:
            with progress(subjects, "生成演示数据") as bar:
                load_demo(rt.context(session, "cli:bootstrap"), subjects, seed, progress=bar.update)
            session.commit()
        try:  # empty, or built with older analysis rules (search_index.analysis.ANALYSIS_VERSION)
            stale = rt.backend.count() == 0 or stale_index(rt.backend) is not None
        except RuntimeError:  # built by an earlier version (a schema change, e.g. #13's sort fields)
            stale = True
        if stale:
            total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
            with progress(total, "建立索引") as bar:
                indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=running(bar))
        else:
            indexing.drain(session, rt.backend, rt.today(), rt.profile)
        _demo_staff_side(rt, session)
    click.echo("准备完成")


def _demo_staff_side(rt, session) -> None:
    """Development only: a first staff account (printed once) and a few plates whose scan URLs use
    PORTAL_BASE_URL, so a newcomer can try the staff side and the scan pages (issue 14)."""
    from ..domain.plates import scan_url
    from ..services.demo_staff import ensure_demo_plates, ensure_demo_staff

    env = rt.settings["PORTAL_ENV"]
    ctx = rt.context(session, "cli:bootstrap")
    account = ensure_demo_staff(ctx, env)
    plates = ensure_demo_plates(ctx, env)
    session.commit()
    base = rt.settings["PORTAL_BASE_URL"]
    if account:
        click.echo("—— 开发环境演示工作人员账号（合成数据，仅显示一次；生产环境不会创建）——")
        click.echo(f"登录地址：{base.rstrip('/')}/staff/login")
        click.echo(f"用户名：{account.username}　密码：{account.password}　角色：系统管理员、认定部门")
        click.echo(f"动态验证码（TOTP）绑定地址：{account.totp_uri}")
        click.echo("复核须由另一账号办理（回避）：登录后在“工作人员账号”页面新建，"
                   "或 credit-portal staff create reviewer.demo --role reviewer")
    for plate in plates:
        click.echo(f"演示身份牌 {plate.plate_no}：{scan_url(base, plate.token)}")
