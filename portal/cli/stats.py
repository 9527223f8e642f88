"""``credit-portal stats …``: the figures of the staff dashboard and of the yearly reports, from the
same service reads (``services.statistics``), so every number on the page, in the Excel table and
in the PDF can be checked here (海南 第五十条)."""
from __future__ import annotations

import json

import click

from .common import load_runtime, open_session

_period_options = [
    click.option("--year", help="年度（默认今年）"),
    click.option("--from", "month_from", help="起始月份 YYYY-MM"),
    click.option("--to", "month_to", help="截止月份 YYYY-MM"),
    click.option("--region", default="", help="区划代码（市级代码包含所辖区县；默认全辖区）"),
    click.option("--json", "as_json", is_flag=True, help="输出 JSON"),
]


def _with_period(f):
    for option in reversed(_period_options):
        f = option(f)
    return f


@click.group(help="统计与报告：与工作人员统计页、年度汇总表和归集应用情况报告相同的数字")
def stats() -> None:
    pass


@stats.command("dashboard", help="统计页的全部数字")
@_with_period
def dashboard_cmd(year, month_from, month_to, region, as_json) -> None:
    from ..services import statistics as svc

    rt = load_runtime()
    with open_session(rt) as session:
        ctx = rt.context(session, "cli:stats")
        data = svc.dashboard(ctx, svc.period_for(ctx, year, month_from, month_to, region)).to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    p = data["period"]
    click.echo(f"统计期间 {p['start']} 至 {p['end']}，区划 {p['region'] or '全辖区'}")
    click.echo(f"归集信用信息：{sum(r['count'] for r in data['records_by_month'])} 条")
    for r in data["records_by_month"]:
        click.echo(f"  {r['month']} {r['info_class']} {r['authority']}: {r['count']}")
    click.echo(f"信用等级：{sum(r['count'] for r in data['grade_distribution'])} 个主体")
    for r in data["grade_distribution"]:
        click.echo(f"  {r['region']} {r['category']} {r['grade']}: {r['count']}")
    for kind, f in data["cases"].items():
        click.echo(f"{kind}: 受理 {f['received']}，办结 {f['decided']}，按期办结 {f['decided_in_time']}")
    for t, f in data["lists"].items():
        click.echo(f"名单 {t}: 列入 {f['entries']}，移出 {f['exits']}")
    click.echo(f"扫码次数：{sum(r['count'] for r in data['scans_per_day'])}")
    for r in data["top_scanned"]:
        click.echo(f"  {r['name']}（{r['region']}）: {r['count']}")
    click.echo(f"出具信用报告：{data['uses']['reports']}")
    for r in data["uses"]["private_views"]:
        click.echo(f"查看非公开信息（{r['purpose']}）：{r['count']}")
    click.echo(f"从搜索结果打开机构页面：{sum(r['count'] for r in data['top_searched'])}（前 {len(data['top_searched'])} 个机构）")
    for r in data["top_searched"]:
        click.echo(f"  {r['name']}（{r['region']}）: {r['count']}")
    click.echo(data["top_searched_note"])


@stats.command("summary", help="年度分区划汇总表（与下载的 Excel 相同）")
@click.option("--year", help="年度（默认今年）")
@click.option("--region", default="", help="区划代码（默认全辖区）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def summary_cmd(year, region, as_json) -> None:
    from ..services import statistics as svc

    rt = load_runtime()
    with open_session(rt) as session:
        _, rows = svc.annual_summary(rt.context(session, "cli:stats"), year, region)
    if as_json:
        click.echo(json.dumps([dict(zip(svc.SUMMARY_COLUMNS, r, strict=True)) for r in rows],
                              ensure_ascii=False, indent=2))
        return
    click.echo("\t".join(svc.SUMMARY_COLUMNS))
    for r in rows:
        click.echo("\t".join(str(c) for c in r))
