"""Staff statistics (海南 第五十条; 阳山 四（三）): the dashboard with server-drawn SVG charts and
their tables, the yearly summary table (.xlsx) and the yearly report on collection and use (PDF).

Behind the staff login; which roles and regions may read is decided by the service
(``services.statistics.require_viewer``). Reads only: no POST route here.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from ..documents import charts
from ..documents import statistics as files
from ..documents.citations import profile_cite
from ..domain import statistics as rules
from ..domain.permissions import in_region
from ..domain.vocab import INFO_CLASS_LABELS, category_label, record_type_label
from ..services import statistics as svc
from . import runtime
from .common import caller_ctx, no_store

UNITS_CHARTED = 15  # a province has hundreds of providing units: the chart shows the largest

bp = Blueprint("staff_stats", __name__, url_prefix="/staff/stats")
no_store(bp)


def _require():
    from .staff import current_staff

    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    return user


def _period(ctx, *, year_only: bool = False):
    a = request.args
    if year_only:
        return svc.period_for(ctx, year=a.get("year"), region=a.get("region", ""))
    return svc.period_for(ctx, year=a.get("year"), month_from=a.get("from") or None, month_to=a.get("to") or None,
                          region=a.get("region", ""))


def _region_name(region: str) -> str:
    r = runtime().profile.region(region) if region else None
    return r.name if r else "全辖区"


def _chart_data(dash: svc.Dashboard, profile) -> dict:
    """The charts and the tables behind them (the tables are the accessible fallback)."""
    months = dash.period.months()
    classes = list(INFO_CLASS_LABELS)
    by_class = defaultdict(Counter)
    by_unit = Counter()
    for m, c, a, n in dash.records:
        by_class[m][c] += n
        by_unit[a] += n
    rec_rows = [[by_class[m][c] for c in classes] for m in months]
    letters = [g.letter for g in profile.grades]
    by_region, by_category = defaultdict(Counter), defaultdict(Counter)
    for region, cat, letter, n in dash.grades:
        by_region[region][letter] += n
        by_category[cat][letter] += n
    region_labels = [(runtime().profile.region(r).name if runtime().profile.region(r) else r) for r in sorted(by_region)]
    case_rows = [[f.received, f.decided, f.decided_in_time] for f in dash.cases.values()]
    list_rows = [[e, x] for e, x in dash.lists.values()]
    return {
        "records": {"svg": charts.stacked_bars("按月归集的信用信息（按信息类别）", months, list(INFO_CLASS_LABELS.values()),
                                               rec_rows),
                    "head": ["月份", *INFO_CLASS_LABELS.values(), "合计"],
                    "rows": [[m, *r, sum(r)] for m, r in zip(months, rec_rows, strict=True)]},
        "units": {"svg": charts.stacked_bars(f"归集的信用信息（按信息提供单位，前 {UNITS_CHARTED} 个；全部见数据表）",
                                             [u for u, _ in by_unit.most_common(UNITS_CHARTED)], ["条数"],
                                             [[n] for _, n in by_unit.most_common(UNITS_CHARTED)]),
                  "head": ["信息提供单位", "条数"], "rows": [[u, n] for u, n in by_unit.most_common()]},
        "grade_region": {"svg": charts.stacked_bars("信用等级分布（按区划）", region_labels, letters,
                                                    [[by_region[r][g] for g in letters] for r in sorted(by_region)]),
                         "head": ["区划", *letters, "合计"],
                         "rows": [[name, *(by_region[r][g] for g in letters), sum(by_region[r].values())]
                                  for name, r in zip(region_labels, sorted(by_region), strict=True)]},
        "grade_category": {"svg": charts.stacked_bars("信用等级分布（按类别）", [category_label(c) for c in sorted(by_category)],
                                                      letters, [[by_category[c][g] for g in letters] for c in sorted(by_category)]),
                           "head": ["类别", *letters, "合计"],
                           "rows": [[category_label(c), *(by_category[c][g] for g in letters), sum(by_category[c].values())]
                                    for c in sorted(by_category)]},
        "cases": {"svg": charts.stacked_bars("异议与信用修复：受理、办结、按期办结", ["异议", "信用修复"],
                                             ["受理", "办结", "按期办结"], case_rows),
                  "head": ["类别", "受理", "办结", "按期办结"],
                  "rows": [[label, *r] for label, r in zip(["异议", "信用修复"], case_rows, strict=True)]},
        "lists": {"svg": charts.stacked_bars("名单列入与移出", [record_type_label(t) for t in dash.lists],
                                             ["列入", "移出"], list_rows),
                  "head": ["名单", "列入", "移出"],
                  "rows": [[record_type_label(t), *r] for t, r in zip(dash.lists, list_rows, strict=True)]},
        "scans": {"svg": charts.columns("每日扫码次数", [d.isoformat() for d, _ in dash.scans], [n for _, n in dash.scans]),
                  "head": ["日期", "扫码次数"], "rows": [[d.isoformat(), n] for d, n in dash.scans if n]},
        "top": {"svg": charts.stacked_bars("扫码最多的机构", [name for name, _, _ in dash.top], ["扫码次数"],
                                           [[n] for _, _, n in dash.top]),
                "head": ["机构", "区划", "扫码次数"],
                "rows": [[name, _region_name(r), n] for name, r, n in dash.top]},
        "searched": {"svg": charts.stacked_bars("搜索最多的机构", [name for name, _, _ in dash.searched],
                                                ["从搜索结果打开次数"], [[n] for _, _, n in dash.searched]),
                     "head": ["机构", "区划", "从搜索结果打开次数"],
                     "rows": [[name, _region_name(r), n] for name, r, n in dash.searched]},
    }


@bp.get("/", endpoint="index")
def index():
    user = _require()
    ctx = caller_ctx(f"staff:{user.username}", user)
    svc.require_viewer(ctx)  # 403 before anything is parsed for an account that may not read
    period = _period(ctx)
    dash = svc.dashboard(ctx, period)
    profile = runtime().profile
    regions = [r for r in profile.regions if not user.region_code or in_region(user.region_code, r.code)]
    return render_template("staff/stats.html", user=user, dash=dash, charts=_chart_data(dash, profile),
                           args=request.args, regions=regions, region_name=_region_name(period.region),
                           basis=profile_cite(profile, rules.REPORT_BASIS))


@bp.get("/summary.xlsx", endpoint="summary_xlsx")
def summary_xlsx():
    user = _require()
    ctx = caller_ctx(f"staff:{user.username}", user)
    period, rows = svc.annual_summary(ctx, request.args.get("year"), request.args.get("region", ""))
    profile = runtime().profile
    data = files.summary_xlsx(svc.SUMMARY_COLUMNS, rows,
                              title=f"{period.start.year} 年度医疗卫生信用信息汇总表（{_region_name(period.region)}）",
                              basis=profile_cite(profile, rules.SUMMARY_BASIS), generated_on=ctx.today)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=summary-{period.start.year}.xlsx"})


@bp.get("/report.pdf", endpoint="report_pdf")
def report_pdf():
    user = _require()
    ctx = caller_ctx(f"staff:{user.username}", user)
    period, rows = svc.annual_summary(ctx, request.args.get("year"), request.args.get("region", ""))
    dash = svc.dashboard(ctx, period)
    data = files.collection_use_pdf(dash, svc.SUMMARY_COLUMNS, rows, profile=runtime().profile,
                                    region_name=_region_name(period.region), generated_on=ctx.today)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=collection-use-{period.start.year}.pdf"})
