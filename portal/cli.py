"""``credit-portal``: the command line. Every write goes through the same service verbs as the web."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .config import load_settings
from .runtime import ConfigError, Runtime


def _runtime() -> Runtime:
    try:
        rt = Runtime.from_settings(load_settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # close pooled connections when the command ends (a server counts them)
        ctx.call_on_close(rt.close)
    return rt


@contextmanager
def _session(rt: Runtime):
    """A session for one command; a refused service call (``ServiceError``, its message in
    Chinese) ends the command with that message and nothing committed."""
    from .services.errors import ServiceError

    session = rt.sessions()
    try:
        yield session
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        session.close()


class _Counter:
    """Progress for work of unknown length: a running count on stderr."""

    def __init__(self, label: str):
        self.label, self.n = label, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        click.echo(f"\r{self.label}：{self.n}", err=True)

    def update(self, n: int) -> None:
        self.n += n
        if self.n % 1000 == 0:
            click.echo(f"\r{self.label}：{self.n}", err=True, nl=False)


def _progress(total: int | None, label: str):
    if total is None:
        return _Counter(label)
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, width=30)


def _running(bar):
    """Adapt a callback that reports a running total to click's incremental progress bar."""
    seen = [0]

    def update(total: int) -> None:
        bar.update(total - seen[0])
        seen[0] = total

    return update


@click.group(help="医疗卫生信用信息公示平台 命令行工具")
def main() -> None:
    pass


@main.group(help="数据库")
def db() -> None:
    pass


@db.command("upgrade", help="执行数据库迁移到最新版本")
def db_upgrade() -> None:
    from .migrate import upgrade

    rt = _runtime()
    upgrade(rt.engine)
    click.echo("数据库已是最新版本")


@main.command(help="生成演示数据（合成数据，校验位有效）")
@click.option("--subjects", default=2000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
def demo(subjects: int, seed: int) -> None:
    from .migrate import upgrade
    from .services.demo import load_demo

    rt = _runtime()
    upgrade(rt.engine)
    with _session(rt) as session, _progress(subjects, "生成演示数据") as bar:
        result = load_demo(rt.context(session, "cli:demo"), subjects, seed, progress=bar.update)
        session.commit()
    click.echo(f"已生成 {result['subjects']} 个主体、{result['records']} 条信用信息、{result['grades']} 条信用等级")


@main.command("import", help="导入 .csv / .xlsx / .jsonl 信用信息文件（有错误则整体拒绝）")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_cmd(file: Path) -> None:
    from .services.importer import ImportFileError, import_file

    rt = _runtime()
    raw = file.read_bytes()
    with _session(rt) as session, _progress(None, "校验并导入") as bar:
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


@main.group(help="搜索索引")
def index() -> None:
    pass


@index.command("drain", help="处理待写入的索引任务（唯一写入者）")
def index_drain() -> None:
    from .services import indexing

    rt = _runtime()
    total = 0
    with _session(rt) as session:
        while n := indexing.drain(session, rt.backend, rt.today(), rt.profile):
            total += n
    click.echo(f"已处理 {total} 个索引任务")


@index.command("rebuild", help="从数据库重建整个索引")
def index_rebuild() -> None:
    from sqlalchemy import func, select

    from .models import Subject
    from .services import indexing

    rt = _runtime()
    with _session(rt) as session:
        total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
        with _progress(total, "重建索引") as bar:
            count = indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=_running(bar))
    click.echo(f"索引已重建：{count} 个可检索主体")


@index.command("status", help="索引状态")
def index_status() -> None:
    from .services import indexing

    rt = _runtime()
    with _session(rt) as session:
        click.echo(f"索引文档数：{rt.backend.count()}；待处理任务：{indexing.pending_count(session)}；"
                   f"最近更新：{indexing.get_state(session, 'index_updated_at') or '—'}")


@main.command(help="处理公示期届满的信息：移出索引（每日运行）")
def expire() -> None:
    from .services import indexing

    rt = _runtime()
    with _session(rt) as session:
        from .services.case_sweep import sweep_lapsed  # 湖南 第二十八条第三款: unused review windows

        closed = sweep_lapsed(rt.context(session, "cli:expire"))
        session.commit()
        queued = indexing.expire(session, rt.today())
        drained = indexing.drain(session, rt.backend, rt.today(), rt.profile) if queued or closed else 0
    click.echo(f"公示期变化的主体：{queued}；期满自动办结的案件：{len(closed)}；已更新索引任务：{drained}")


@main.command(help="按本辖区评分表评定年度信用等级")
@click.option("--year", type=int, default=None, help="评定年度，默认上一年度")
def grade(year: int | None) -> None:
    from .services.grading import compute_grades

    rt = _runtime()
    year = year or rt.today().year - 1
    with _session(rt) as session:
        n = compute_grades(rt.context(session, "cli:grade"), year)
        session.commit()
    click.echo(f"已评定 {year} 年度信用等级：{n} 个主体")


@main.command("grade-exclude", help="登记不参加某年度信用评价的主体及依据（湖南 第十八条）")
@click.argument("code")
@click.option("--kind", type=click.Choice(["org", "person"]), default="org", show_default=True)
@click.option("--year", type=int, required=True, help="评价年度")
@click.option("--reason", required=True, help="不参加本期评价的依据")
def grade_exclude(code: str, kind: str, year: int, reason: str) -> None:
    from .services.grading import exclude_from_grading
    from .services.subjects import find_subject_by_code

    rt = _runtime()
    with _session(rt) as session:
        ctx = rt.context(session, "cli:grade-exclude")
        subject = find_subject_by_code(ctx, code, kind)
        if subject is None:
            raise click.ClickException("未找到该主体")
        exclude_from_grading(ctx, subject, year, reason)
        name = subject.name
        session.commit()
    click.echo(f"已登记：{name} 不参加 {year} 年度评价")


@main.command("grade-exclusions", help="列出不参加某年度信用评价的主体及依据（湖南 第十八条）")
@click.option("--year", type=int, required=True)
def grade_exclusions_cmd(year: int) -> None:
    from .services.grading import grading_exclusions

    rt = _runtime()
    with _session(rt) as session:
        rows = grading_exclusions(rt.context(session, "cli"), year)
    for row, subject in rows:
        click.echo(f"{subject.public_id}\t{subject.name}\t{row.reason}")
    click.echo(f"{year} 年度不参加评价的主体：{len(rows)}")


@main.group(help="审计日志")
def audit() -> None:
    pass


@audit.command("verify", help="校验审计日志哈希链和检查点，发现篡改、删除和重算哈希")
def audit_verify() -> None:
    from .services.audit import audit_key, verify_chain
    from .services.audit_anchor import read_checkpoints

    rt = _runtime()
    with _session(rt) as session:
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
    from .services.audit_anchor import write_checkpoint
    from .services.audit_rollup import flush_closed

    rt = _runtime()
    with _session(rt) as session:
        flush_closed(session)  # repeated-failure counts of past minutes become their summary events
        session.commit()
        cp = write_checkpoint(session, rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    click.echo(f"已写入检查点：第 {cp.seq} 个事件（编号 {cp.event_id}），文件 {rt.settings['PORTAL_AUDIT_CHECKPOINT_FILE']}")


@main.command(help="首次运行准备：迁移数据库；空库时生成演示数据；索引缺失时重建")
@click.option("--subjects", default=2000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
def bootstrap(subjects: int, seed: int) -> None:
    from sqlalchemy import func, select

    from .migrate import upgrade
    from .models import Subject
    from .services import indexing
    from .services.demo import load_demo

    rt = _runtime()
    upgrade(rt.engine)
    with _session(rt) as session:
        if session.execute(select(func.count()).select_from(Subject)).scalar_one() == 0:
            with _progress(subjects, "生成演示数据") as bar:
                load_demo(rt.context(session, "cli:bootstrap"), subjects, seed, progress=bar.update)
            session.commit()
        if rt.backend.count() == 0:
            total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
            with _progress(total, "建立索引") as bar:
                indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=_running(bar))
        else:
            indexing.drain(session, rt.backend, rt.today(), rt.profile)
        _demo_staff_side(rt, session)
    click.echo("准备完成")


def _demo_staff_side(rt, session) -> None:
    """Development only: a first staff account (printed once) and a few plates whose scan URLs use
    PORTAL_BASE_URL, so a newcomer can try the staff side and the scan pages (issue 14)."""
    from .domain.plates import scan_url
    from .services.demo_staff import ensure_demo_plates, ensure_demo_staff

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
        click.echo("复核须由另一账号办理（回避），例如：credit-portal staff create reviewer.demo --role reviewer")
    for plate in plates:
        click.echo(f"演示身份牌 {plate.plate_no}：{scan_url(base, plate.token)}")


@main.command(help="启动开发服务器（生产请用 gunicorn，见 README）")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from . import create_app

    app = create_app()
    click.echo(f"{app.extensions['portal'].profile.portal_name}：http://{host}:{port}/")
    _exit_on_sigterm()
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _exit_on_sigterm() -> None:
    """SIGTERM (systemd stop, ``kill``) ends the server like Ctrl-C: Python's default for it is to
    die without exit hooks, which lost the buffered scan counts (199 of 200, issue 12); as
    SystemExit the ``atexit`` flush of ``portal.services.plates`` runs, as under gunicorn."""
    import signal

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


from .plates_cli import plates as _plates  # noqa: E402  (credit-portal plates …)

main.add_command(_plates)

from .staff_cli import staff as _staff  # noqa: E402  (credit-portal staff …)

main.add_command(_staff)

from .cases_cli import calendar as _calendar  # noqa: E402  (credit-portal calendar …)
from .cases_cli import cases as _cases  # noqa: E402  (credit-portal cases …)

main.add_command(_cases)
main.add_command(_calendar)

from .backup_cli import backup_cmd as _backup  # noqa: E402  (credit-portal backup / restore)
from .backup_cli import restore_cmd as _restore  # noqa: E402

main.add_command(_backup)
main.add_command(_restore)


if __name__ == "__main__":
    main()

from .draws_cli import draw as _draw  # noqa: E402  (credit-portal draw …, 双随机、一公开)

main.add_command(_draw)
