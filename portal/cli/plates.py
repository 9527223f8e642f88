"""``credit-portal plates …``: issue, revoke, reissue and print QR identity plates; scan counts.

Every write goes through ``services.plates`` (the same verbs a staff page would call).
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from ..documents.plates import PAGE_SIZES
from ..domain.plates import PLATE_STATUS_LABELS, REVOKE_REASONS
from .common import load_runtime, open_session, progress, running

REASON_HELP = "，".join(f"{k}={v}" for k, v in REVOKE_REASONS.items())



def _selection(session, region: str | None, category: str | None, plate_nos: tuple[str, ...]):
    from sqlalchemy.orm import selectinload

    from ..models import Plate
    from ..services import plates as svc

    if plate_nos:
        found = []
        for no in plate_nos:
            plate = svc.find_by_number(session, no)
            if plate is None:
                raise click.ClickException(f"没有编号为 {no} 的身份牌")
            found.append(plate)
        return found
    q = svc.plates_query(region, category).options(selectinload(Plate.subject))
    return session.execute(q).scalars().all()


@click.group(help="二维码身份牌：发放、作废、补发、打印、扫码统计")
def plates() -> None:
    pass


@plates.command("issue", help="为尚无有效身份牌的机构发放身份牌")
@click.option("--all", "all_", is_flag=True, help="全部机构")
@click.option("--region", help="区划代码（市级代码包含所辖区县）")
@click.option("--category", help="主体类别代码，如 clinic、pharmacy")
def issue(all_: bool, region: str | None, category: str | None) -> None:
    from sqlalchemy import func, select

    from ..services import plates as svc

    if not (all_ or region or category):
        raise click.UsageError("请指定 --all、--region 或 --category")
    rt = load_runtime()
    with open_session(rt) as session:
        matched = session.execute(select(func.count()).select_from(
            svc.subjects_query(region, category).subquery())).scalar_one()
        todo = session.execute(svc.subjects_without_plate(region, category)).scalars().all()
        with progress(len(todo), "发放身份牌") as bar:
            issued, _ = svc.issue_missing(rt.context(session, "cli:plates"), todo, progress=running(bar))
        session.commit()
    click.echo(f"已发放 {issued} 块身份牌；跳过 {matched - issued} 个（已有有效身份牌、已注销或许可已吊销）")


@plates.command("revoke", help=f"作废身份牌（原因：{REASON_HELP}）")
@click.argument("plate_no")
@click.option("--reason", required=True, type=click.Choice(list(REVOKE_REASONS)))
@click.option("--note", default="", help="说明")
def revoke(plate_no: str, reason: str, note: str) -> None:
    from ..services import plates as svc

    rt = load_runtime()
    with open_session(rt) as session:
        plate = svc.find_by_number(session, plate_no)
        if plate is None:
            raise click.ClickException(f"没有编号为 {plate_no} 的身份牌")
        svc.revoke_plate(rt.context(session, "cli:plates"), plate, reason, note)
        session.commit()
    click.echo(f"身份牌 {plate.plate_no} 已作废（{REVOKE_REASONS[reason]}）；扫码将显示作废提示")


@plates.command("reissue", help="补发（换发）身份牌：新编号、新二维码，旧牌扫码显示换发提示")
@click.argument("plate_no")
@click.option("--reason", default="damaged", show_default=True, type=click.Choice(list(REVOKE_REASONS)))
@click.option("--note", default="", help="说明")
def reissue(plate_no: str, reason: str, note: str) -> None:
    from ..domain.plates import scan_url
    from ..services import plates as svc

    rt = load_runtime()
    with open_session(rt) as session:
        plate = svc.find_by_number(session, plate_no)
        if plate is None:
            raise click.ClickException(f"没有编号为 {plate_no} 的身份牌")
        new = svc.reissue_plate(rt.context(session, "cli:plates"), plate, reason, note)
        session.commit()
        click.echo(f"已补发 {new.plate_no}（替换 {plate.plate_no}）：{scan_url(rt.settings['PORTAL_BASE_URL'], new.token)}")


def _print(fmt: str, region, category, plate_nos, size: str, output: Path) -> None:
    """The same verb as the staff pages' batch printing (``services.plates.print_batch``), so the
    print is audited from either."""
    from ..services import plates as svc

    rt = load_runtime()
    base_url = rt.settings["PORTAL_BASE_URL"]
    with open_session(rt) as session:
        selected = _selection(session, region, category, plate_nos)
        if not selected:
            raise click.ClickException("没有符合条件的有效身份牌（先用 credit-portal plates issue 发放）")
        with progress(len(selected), f"生成 {fmt.upper()}") as bar, output.open("wb") as fh:
            n = svc.print_batch(rt.context(session, "cli:plates"), selected, fh, fmt=fmt, size=size,
                                base_url=base_url, region=region, category=category, progress=running(bar))
        session.commit()  # QR matrices rendered for the first time are kept on the plates
    click.echo(f"已生成 {n} 块身份牌（{size}）：{output}")


def _print_options(f):
    f = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))(f)
    f = click.option("--size", default="A6", show_default=True, type=click.Choice(list(PAGE_SIZES)))(f)
    f = click.option("--plate", "plate_nos", multiple=True, help="身份牌编号（可重复）")(f)
    f = click.option("--category", help="主体类别代码")(f)
    f = click.option("--region", help="区划代码（市级代码包含所辖区县）")(f)
    return f


@plates.command("pdf", help="批量打印：一个 PDF，每页一块身份牌")
@_print_options
def pdf(region, category, plate_nos, size, output) -> None:
    _print("pdf", region, category, plate_nos, size, output)


@plates.command("zip", help="批量打印：ZIP，每块身份牌一个 PDF 和一个 SVG，附 index.csv")
@_print_options
def zip_(region, category, plate_nos, size, output) -> None:
    _print("zip", region, category, plate_nos, size, output)


@plates.command("list", help="列出身份牌及扫码次数")
@click.option("--region")
@click.option("--category")
@click.option("--status", type=click.Choice([*PLATE_STATUS_LABELS, "all"]), default="all", show_default=True)
def list_(region, category, status) -> None:
    from ..services import plates as svc

    rt = load_runtime()
    with open_session(rt) as session:
        rows = session.execute(svc.plates_query(region, category, None if status == "all" else status)).scalars().all()
        counts = svc.scan_counts(session, [p.id for p in rows])
        for p in rows:
            click.echo(f"{p.plate_no}\t{PLATE_STATUS_LABELS.get(p.status, p.status)}\t{p.issued_on}\t"
                       f"扫码 {counts.get(p.id, 0)}\t{p.subject.name}")
    click.echo(f"共 {len(rows)} 块", err=True)


@plates.command("scans", help="扫码统计（按身份牌汇总，或 --plate 按日）")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="最近天数")
@click.option("--plate", "plate_no", help="身份牌编号：按日列出")
@click.option("--top", default=50, show_default=True, type=click.IntRange(1, 100000))
def scans(days: int, plate_no: str | None, top: int) -> None:
    from ..models import Plate
    from ..services import plates as svc

    rt = load_runtime()
    since: date = rt.today() - timedelta(days=days - 1)
    with open_session(rt) as session:
        if plate_no:
            plate = svc.find_by_number(session, plate_no)
            if plate is None:
                raise click.ClickException(f"没有编号为 {plate_no} 的身份牌")
            rows = svc.scan_days(session, plate.id, since)
            for day, n in rows:
                click.echo(f"{day}\t{n}")
            click.echo(f"{plate.plate_no} 最近 {days} 天共 {sum(n for _, n in rows)} 次", err=True)
            return
        counts = svc.scan_counts(session, since=since)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        for pid, n in ranked:
            p = session.get(Plate, pid)
            click.echo(f"{p.plate_no}\t{n}\t{p.subject.name}")
        click.echo(f"最近 {days} 天：{len(counts)} 块身份牌被扫码，共 {sum(counts.values())} 次", err=True)

