"""``credit-portal index …`` and ``expire``: the search index's single writer."""
from __future__ import annotations

import click

from .common import load_runtime, open_session, progress, running


@click.group(help="搜索索引")
def index() -> None:
    pass


@index.command("drain", help="处理待写入的索引任务（唯一写入者）")
def index_drain() -> None:
    from ..services import indexing

    rt = load_runtime()
    total = 0
    with open_session(rt) as session:
        while n := indexing.drain(session, rt.backend, rt.today(), rt.profile):
            total += n
    click.echo(f"已处理 {total} 个索引任务")


@index.command("rebuild", help="从数据库重建整个索引")
def index_rebuild() -> None:
    from sqlalchemy import func, select

    from ..models import Subject
    from ..services import indexing

    rt = load_runtime()
    with open_session(rt) as session:
        total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
        with progress(total, "重建索引") as bar:
            count = indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=running(bar))
    click.echo(f"索引已重建：{count} 个可检索主体")


@index.command("status", help="索引状态")
def index_status() -> None:
    from ..services import indexing

    rt = load_runtime()
    with open_session(rt) as session:
        click.echo(f"索引文档数：{rt.backend.count()}；待处理任务：{indexing.pending_count(session)}；"
                   f"最近更新：{indexing.get_state(session, 'index_updated_at') or '—'}")


@click.command(help="处理公示期届满的信息：移出索引（每日运行）")
def expire() -> None:
    from ..services import indexing

    rt = load_runtime()
    with open_session(rt) as session:
        from ..services.case_sweep import sweep_lapsed  # 湖南 第二十八条第三款: unused review windows

        closed = sweep_lapsed(rt.context(session, "cli:expire"))
        session.commit()
        queued = indexing.expire(session, rt.today())
        drained = indexing.drain(session, rt.backend, rt.today(), rt.profile) if queued or closed else 0
    click.echo(f"公示期变化的主体：{queued}；期满自动办结的案件：{len(closed)}；已更新索引任务：{drained}")
