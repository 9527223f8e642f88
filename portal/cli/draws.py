"""``credit-portal draw …``: 双随机、一公开 draws by grade (阳山 四（四）; 湖南 第二十、二十一、二十三条;
海南 第三十二条; 湖南医保 第二十条). The same service verbs as the staff page (portal.services.draws).

    credit-portal draw announce --category clinic --region 441823   # publish the seed's SHA-256
    credit-portal draw run --category clinic --region 441823        # fix the population, reveal, draw
    credit-portal draw inspector-add USERNAME                        # inspector pool
    credit-portal draw conflict USERNAME (--region R | --subject USCC) --reason …   # 回避
    credit-portal draw result CJ2026-0001 USCC --outcome compliant [--finding …]
    credit-portal draw link CJ2026-0001 USCC RECORD_ID                # the credit record it led to
    credit-portal draw verify CJ2026-0001                             # re-run from the published data
"""
from __future__ import annotations

import click
from sqlalchemy import select

from .common import load_runtime, open_session


@click.group(help="“双随机、一公开”抽查")
def draw() -> None:
    pass

def _staff(session, username: str):
    from ..models import StaffUser

    user = session.execute(select(StaffUser).where(StaffUser.username == username.strip().lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException("未找到该工作人员账号")
    return user

@draw.command("announce", help="公布随机种子的 SHA-256 承诺（须在抽取之前）")
@click.option("--category", required=True)
@click.option("--region", required=True)
def announce(category: str, region: str) -> None:
    from ..services.draws import announce_draw

    rt = load_runtime()
    with open_session(rt) as session:
        row = announce_draw(rt.context(session, "cli:draw"), category, region)
        number, digest = row.number, row.seed_sha256
        session.commit()
    click.echo(f"已公布抽查 {number} 的种子承诺 SHA-256：{digest}")

@draw.command("run", help="抽取：确定对象名录，公布种子，按等级比例抽取机构和检查人员")
@click.option("--category", required=True)
@click.option("--region", required=True)
def run(category: str, region: str) -> None:
    from ..services.draws import run_draw

    rt = load_runtime()
    with open_session(rt) as session:
        row = run_draw(rt.context(session, "cli:draw"), category, region)
        number, seed, counts = row.number, row.seed, row.counts
        session.commit()
    click.echo(f"抽查 {number} 已抽取，种子：{seed}")
    for c in counts:
        click.echo(f"  {c['stratum']}\t{c['percent']}%\t对象 {c['population']}\t抽中 {c['drawn']}")

@draw.command("inspector-add", help="把工作人员加入检查人员名录库")
@click.argument("username")
def inspector_add(username: str) -> None:
    from ..services.draws import add_inspector

    rt = load_runtime()
    with open_session(rt) as session:
        add_inspector(rt.context(session, "cli:draw"), _staff(session, username))
        session.commit()
    click.echo(f"已加入检查人员名录库：{username}")

@draw.command("conflict", help="登记回避：该检查人员不被抽取检查某机构或某地区的机构")
@click.argument("username")
@click.option("--region", default="")
@click.option("--subject", "code", default="", help="机构的统一社会信用代码")
@click.option("--reason", required=True)
def conflict(username: str, region: str, code: str, reason: str) -> None:
    from ..services.draws import add_conflict
    from ..services.subjects import find_subject_by_code

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:draw")
        subject = None
        if code:
            subject = find_subject_by_code(ctx, code, "org")
            if subject is None:
                raise click.ClickException("未找到该机构")
        add_conflict(ctx, _staff(session, username), reason, subject=subject, region_code=region)
        session.commit()
    click.echo("已登记回避")

@draw.command("result", help="登记抽中机构的检查结果")
@click.argument("number")
@click.argument("code")
@click.option("--outcome", required=True, type=click.Choice(["compliant", "rectify", "penalty", "unreachable"]))
@click.option("--finding", default="")
@click.option("--on", "inspected_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
def result(number: str, code: str, outcome: str, finding: str, inspected_on) -> None:
    from ..models import DrawItem
    from ..services.draws import draw_by_number, record_inspection

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:draw")
        row = draw_by_number(ctx, number)
        item = None if row is None else session.execute(
            select(DrawItem).where(DrawItem.draw_id == row.id, DrawItem.code == code.strip().upper())).scalar_one_or_none()
        if item is None:
            raise click.ClickException("未找到该抽查或该机构不在抽中名单内")
        record_inspection(ctx, item, outcome, finding, inspected_on=inspected_on.date() if inspected_on else None)
        session.commit()
    click.echo("已登记检查结果")

def _item(ctx, session, number: str, code: str):
    from ..models import DrawItem
    from ..services.draws import draw_by_number

    row = draw_by_number(ctx, number)
    item = None if row is None else session.execute(
        select(DrawItem).where(DrawItem.draw_id == row.id, DrawItem.code == code.strip().upper())).scalar_one_or_none()
    if item is None:
        raise click.ClickException("未找到该抽查或该机构不在抽中名单内")
    return item

@draw.command("link", help="把检查发现问题后作出的信用记录关联到抽中的机构")
@click.argument("number")
@click.argument("code")
@click.argument("record_id")
def link(number: str, code: str, record_id: str) -> None:
    from ..services.draws import link_inspection_record

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:draw")
        link_inspection_record(ctx, _item(ctx, session, number, code), record_id)
        session.commit()
    click.echo(f"已关联信用记录 #{record_id.strip()}")

@draw.command("verify", help="用公布的种子和对象名录重新计算，核对抽中名单")
@click.argument("number")
def verify_cmd(number: str) -> None:
    from ..services.draws import draw_by_number, public_view, verify

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:draw")
        row = draw_by_number(ctx, number)
        if row is None or row.status != "drawn":
            raise click.ClickException("未找到已抽取的该抽查")
        ok = verify(public_view(ctx, row))
    if not ok:
        raise click.ClickException("复核不一致：抽中名单与种子和对象名录的计算结果不符")
    click.echo("复核一致")
