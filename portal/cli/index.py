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


@index.command("create", help="创建 PostgreSQL 搜索索引的表、索引和函数（已存在则不作改动；部署时运行）")
def index_create() -> None:
    """Idempotent (issue #17): safe to run on every deploy, from every node at once."""
    rt = load_runtime()
    backend = rt.backend
    create = getattr(backend, "create", None)
    if create is None:  # file backends create their directory on first use
        click.echo("当前搜索后端（SEARCH_URL）在首次使用时自动建立，无需预先创建")
        return
    from search_index.postgres_backend import SchemaMismatch

    created = create()
    try:
        count = backend.count()  # also refuses a store of another schema version
    except SchemaMismatch as exc:
        raise click.ClickException(f"搜索索引表已存在但版本不符，请运行 credit-portal index rebuild：{exc}") from exc
    click.echo("已创建搜索索引表（空），请运行 credit-portal index rebuild 建立索引" if created
               else f"搜索索引表已存在，未作改动（文档数：{count}）")


def _count_or_explain(backend) -> int:
    """The index's document count; a PostgreSQL store built by another schema version (e.g.
    before facet tokens and frequent phrases, issue #17) is a clear message, not a traceback."""
    from search_index.postgres_backend import SchemaMismatch

    try:
        return backend.count()
    except SchemaMismatch as exc:
        raise click.ClickException(f"搜索索引表版本不符，请运行 credit-portal index rebuild：{exc}") from exc


@index.command("status", help="索引状态")
def index_status() -> None:
    """Without followers, jobs not yet drained (``done_at``); with followers registered
    (``index follow``), each node's lag instead: followers never set ``done_at``."""
    from search_index.analysis import ANALYSIS_VERSION, stale_index

    from ..services import index_log, indexing

    rt = load_runtime()
    count = _count_or_explain(rt.backend)
    if (built := stale_index(rt.backend)) is not None:
        click.echo(f"注意：搜索索引按第 {built} 版检索规则建立（当前为第 {ANALYSIS_VERSION} 版），此前索引的主体"
                   "按新规则可能检索不到（如以名称中带编号的部分名称检索），请运行 credit-portal index rebuild")
    with open_session(rt) as session:
        followed = index_log.lag(session)
        if followed is None:
            click.echo(f"索引文档数：{count}；待处理任务：{indexing.pending_count(session)}；"
                       f"最近更新：{indexing.get_state(session, 'index_updated_at') or '—'}")
            return
        click.echo(f"索引文档数（本节点）：{count}；跟随节点 {len(followed['nodes'])} 个，"
                   f"日志位置 {followed['head']}，最慢节点 {followed['slowest']} 位于 {followed['min_position']}，"
                   f"最多待应用 {followed['max_behind']}")
        for r in followed["nodes"]:
            click.echo(f"  {r['node']}：待应用 {r['behind']}（位置 {r['position']}），"
                       f"最近推进 {r['updated_at']:%Y-%m-%d %H:%M:%S}")


def _feed_keep_after(rt):
    """Jobs created since then stay in the log for the sharing feed's consumers."""
    from datetime import timedelta

    from ..models.base import utcnow

    raw = rt.settings["PORTAL_FEED_KEEP_HOURS"].strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > 24 * 366:
        raise click.ClickException(f"PORTAL_FEED_KEEP_HOURS 须为 0–{24 * 366} 之间的整数（小时），当前为 {raw!r}")
    return utcnow() - timedelta(hours=int(raw))


@index.command("follow", help="本节点的索引按自己的游标跟随数据库的索引任务日志（每个节点一个，SEARCH_URL 指向本节点的索引）")
@click.option("--node", required=True, help="节点名称（每个 Web 节点唯一，如主机名）")
@click.option("--once", is_flag=True, help="追上日志后退出（供 systemd 定时器或 cron 运行）")
@click.option("--interval", default=0.5, show_default=True, help="追上后再次检查的间隔（秒）")
def index_follow(node: str, once: bool, interval: float) -> None:
    """A node not yet registered joins at the log's head and rebuilds its index from the
    database first; then it applies the log after its cursor (``services.index_log``)."""
    import time

    from sqlalchemy import func, select

    from ..models import Subject
    from ..services import index_log, indexing

    node = node.strip()[:64]
    if not node:
        raise click.BadParameter("节点名称不能为空", param_hint="--node")
    rt = load_runtime()
    with open_session(rt) as session:
        if session.get(index_log.IndexCursor, node) is None:
            index_log.register(session, node)
            session.commit()  # the rebuild below reads everything up to this position, or later
            total = session.execute(select(func.count()).select_from(Subject)).scalar_one()
            with progress(total, f"节点 {node} 首次建立索引") as bar:
                indexing.rebuild_index_only(session, rt.backend, rt.today(), rt.profile, progress=running(bar))
        applied = 0
        while True:
            n = index_log.follow_once(session, node, rt.backend, rt.today(), rt.profile)
            applied += n
            if n:
                continue
            index_log.prune(session, _feed_keep_after(rt))
            if once:
                break
            time.sleep(interval)
    click.echo(f"节点 {node}：已应用 {applied} 个索引任务")


@index.command("nodes", help="跟随索引任务日志的节点及其进度")
def index_nodes() -> None:
    from ..services import index_log

    rt = load_runtime()
    with open_session(rt) as session:
        rows = index_log.nodes(session)
    if not rows:
        click.echo("没有已登记的索引节点")
    for r in rows:
        click.echo(f"{r['node']}：位置 {r['position']} / {r['head']}，待应用 {r['behind']}，最近推进 {r['updated_at']:%Y-%m-%d %H:%M:%S}")


@index.command("forget", help="注销不再使用的索引节点（否则任务日志不会被清理）")
@click.argument("node")
def index_forget(node: str) -> None:
    from ..services import index_log

    rt = load_runtime()
    with open_session(rt) as session:
        gone = index_log.forget(session, node)
        session.commit()
        pruned = index_log.prune(session, _feed_keep_after(rt))
    click.echo(f"已注销节点 {node}，清理任务 {pruned} 个" if gone else f"没有名为 {node} 的节点")


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
