"""Statistics and reports for the supervising side (海南 第五十条: 信用信息归集、应用情况报告 and the
跟踪、监测、统计 of 联合激励惩戒; 阳山 四（三）: the yearly 分级评价结果汇总表).

Every figure is a read of the stored facts, computed here and nowhere else: the staff dashboard,
the Excel summary, the PDF report and ``credit-portal stats`` all call these functions, so the
same period and region give the same numbers everywhere. Figures are counts only: no name of a
natural person, nothing non-public about a subject (the top-scanned list names organisations,
whose names are public registration information, and only those with a QR plate).

What is counted:

* records collected: first versions (``version = 1``: a correction is not a new record) by the
  month of their decision date (``decided_on``), information class and providing unit
  (``authority``);
* grades: the yearly grades whose year lies in the period, by the subject's region and category;
* objections and repairs: received (``received_on`` in the period), decided (closed in the period,
  not withdrawn by the applicant) and decided within the time limit (``domain.statistics.
  decided_in_time`` over the stored timeline);
* list entries and exits (``domain.statistics.LIST_TYPES``): entries are first versions whose
  publication starts in the period; exits are current versions whose window ends in the period,
  or that were repaired / withdrawn / deleted (status change) in the period;
* plate scans per day (the anonymous per-plate daily counters) and the most scanned facilities;
* uses: views of non-public information (the access log) by purpose, credit reports issued.

Search terms are not stored by the portal (a citizen's query is personal data we do not keep), so
"top searched facilities" is answered with the most scanned ones and the page says so.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, true

from ..domain import statistics as rules
from ..domain.identity import Identity
from ..domain.permissions import in_region
from ..domain.vocab import InfoClass
from ..models import (
    AuditEvent,
    Case,
    CaseEvent,
    CreditRecord,
    Grade,
    Plate,
    PlateScanDay,
    Report,
    SearchOpenDay,
    Subject,
)
from .access_log import ACCESS_ACTIONS
from .context import ServiceContext
from .errors import ServiceError

OBJECTION, REPAIR = "objection", "repair"
TOP_N = 10
SEARCH_TERMS_NOTE = ("本平台不保存公众的搜索词（搜索词可能含有个人信息）。“搜索最多的机构”按公众从搜索结果"
                     "打开机构页面的次数统计，只按机构和日期计数，不记录搜索内容和访问者的任何信息；只统计机构，"
                     "不含个人。")


def require_viewer(ctx: ServiceContext, region: str = "") -> str:
    """The caller may read the statistics for ``region`` ("" = their whole area); returns the
    region the figures cover. The command line (no caller) reads everything."""
    region = (region or "").strip()
    if region and ctx.profile.region(region) is None:
        raise ServiceError("未知的区划代码。", "region", 400)
    caller = ctx.caller
    if caller is None:
        return region
    if isinstance(caller, Identity) or not rules.may_view_statistics(caller):
        raise ServiceError(rules.STATS_ONLY, "stats", 403)
    own = caller.region_code or ""
    if not region:
        return own
    if not in_region(own, region):
        raise ServiceError(rules.STATS_REGION, "region", 403)
    return region


def period_for(ctx: ServiceContext, year=None, month_from=None, month_to=None, region: str = "") -> rules.Period:
    """Parse and check a period in one step (a bad one is a 400 with the Chinese reason)."""
    try:
        period = rules.parse_period(ctx.today, year, month_from, month_to)
    except rules.PeriodError as exc:
        raise ServiceError(str(exc), "period", 400) from None
    return rules.Period(period.start, period.end, require_viewer(ctx, region))


def _region_filter(column, region: str):
    if not region:
        return true()
    if region.endswith("00"):
        return func.substr(column, 1, 4) == region[:4]
    return column == region


def _between(column, period: rules.Period):
    return and_(column >= period.start, column <= period.end)


def _at_between(column, period: rules.Period):
    """A stored UTC datetime inside the period's days (UTC days; the report says so)."""
    return and_(column >= datetime.combine(period.start, time.min),
                column < datetime.combine(period.end + timedelta(days=1), time.min))


# --- the figures -----------------------------------------------------------------------------------

def records_by_month(ctx: ServiceContext, period: rules.Period) -> list[tuple[str, str, str, int]]:
    """(month ``YYYY-MM``, information class, providing unit, records) for records collected."""
    rows = ctx.session.execute(
        select(CreditRecord.decided_on, CreditRecord.info_class, CreditRecord.authority)
        .join(Subject, Subject.id == CreditRecord.subject_id)
        .where(CreditRecord.version == 1, _between(CreditRecord.decided_on, period),
               _region_filter(Subject.region_code, period.region))).all()
    counts = Counter((f"{d:%Y-%m}", c, a or "（未注明）") for d, c, a in rows)
    return sorted((m, c, a, n) for (m, c, a), n in counts.items())


def grade_distribution(ctx: ServiceContext, period: rules.Period) -> list[tuple[str, str, str, int]]:
    """(region code, category, grade letter, subjects) for the grades of the period's years."""
    rows = ctx.session.execute(
        select(Subject.region_code, Subject.category, Grade.letter, func.count())
        .join(Subject, Subject.id == Grade.subject_id)
        .where(Grade.year >= period.start.year, Grade.year <= period.end.year,
               _region_filter(Subject.region_code, period.region))
        .group_by(Subject.region_code, Subject.category, Grade.letter)).all()
    return sorted((r, c, g, int(n)) for r, c, g, n in rows)


@dataclass(frozen=True)
class CaseFigures:
    kind: str
    received: int
    decided: int
    decided_in_time: int


def _timelines(ctx: ServiceContext, ids: list[int]) -> dict[int, list]:
    """The timelines of ``ids`` (in order), read 500 cases at a time."""
    timelines: dict[int, list] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for ev in ctx.session.execute(select(CaseEvent).where(CaseEvent.case_id.in_(ids[chunk:chunk + 500]))
                                      .order_by(CaseEvent.case_id, CaseEvent.id)).scalars():
            timelines[ev.case_id].append(ev)
    return timelines


def _list_exit(period: rules.Period):
    """A list record leaves the list in the period: its window ends, or it is repaired, withdrawn
    or deleted (a status change) in the period."""
    return or_(and_(CreditRecord.status == "active", CreditRecord.publish_until.is_not(None),
                    _between(CreditRecord.publish_until, period)),
               and_(CreditRecord.status.in_(rules.OFF_LIST_STATUSES), _at_between(CreditRecord.updated_at, period)))


def case_figures(ctx: ServiceContext, period: rules.Period) -> dict[str, CaseFigures]:
    where = _region_filter(Case.region_code, period.region)
    received = dict(ctx.session.execute(
        select(Case.kind, func.count()).where(where, _between(Case.received_on, period)).group_by(Case.kind)).all())
    closed = ctx.session.execute(
        select(Case.id, Case.kind).where(where, Case.closed_on.is_not(None), _between(Case.closed_on, period),
                                         Case.outcome != "withdrawn")).all()
    timelines = _timelines(ctx, [cid for cid, _ in closed])
    decided, in_time = Counter(), Counter()
    for cid, kind in closed:
        decided[kind] += 1
        in_time[kind] += rules.decided_in_time(timelines[cid])
    return {k: CaseFigures(k, int(received.get(k, 0)), decided[k], in_time[k]) for k in (OBJECTION, REPAIR)}


def list_movements(ctx: ServiceContext, period: rules.Period) -> dict[str, tuple[int, int]]:
    """record type → (entries, exits) for the lists."""
    region = _region_filter(Subject.region_code, period.region)
    base = (select(CreditRecord.record_type, func.count()).join(Subject, Subject.id == CreditRecord.subject_id)
            .where(CreditRecord.record_type.in_(rules.LIST_TYPES), region).group_by(CreditRecord.record_type))
    entries = dict(ctx.session.execute(base.where(CreditRecord.version == 1,
                                                  _between(CreditRecord.publish_from, period))).all())
    exits = dict(ctx.session.execute(base.where(CreditRecord.is_current.is_(True), _list_exit(period))).all())
    return {t: (int(entries.get(t, 0)), int(exits.get(t, 0))) for t in rules.LIST_TYPES}


def _scan_query(period: rules.Period):
    return (select(PlateScanDay.day, func.sum(PlateScanDay.count))
            .join(Plate, Plate.id == PlateScanDay.plate_id).join(Subject, Subject.id == Plate.subject_id)
            .where(_between(PlateScanDay.day, period), _region_filter(Subject.region_code, period.region)))


def scans_per_day(ctx: ServiceContext, period: rules.Period) -> list[tuple[date, int]]:
    """Every day of the period with its scans (0 included, so the chart has no gaps)."""
    counts = dict(ctx.session.execute(_scan_query(period).group_by(PlateScanDay.day)).all())
    return [(d, int(counts.get(d, 0) or 0)) for d in period.days()]


def top_scanned(ctx: ServiceContext, period: rules.Period, limit: int = TOP_N) -> list[tuple[str, str, int]]:
    """(facility name, region code, scans): organisations only, most scanned first."""
    total = func.sum(PlateScanDay.count)
    rows = ctx.session.execute(
        select(Subject.name, Subject.region_code, total).select_from(PlateScanDay)
        .join(Plate, Plate.id == PlateScanDay.plate_id).join(Subject, Subject.id == Plate.subject_id)
        .where(_between(PlateScanDay.day, period), _region_filter(Subject.region_code, period.region),
               Subject.kind == "org")
        .group_by(Subject.id, Subject.name, Subject.region_code)
        .order_by(total.desc(), Subject.name).limit(limit)).all()
    return [(name, region, int(n)) for name, region, n in rows]


def top_searched(ctx: ServiceContext, period: rules.Period, limit: int = TOP_N) -> list[tuple[str, str, int]]:
    """(facility name, region code, opens from a search result): organisations only, most
    searched first (``services.search_opens`` says what is counted and why)."""
    total = func.sum(SearchOpenDay.count)
    rows = ctx.session.execute(
        select(Subject.name, Subject.region_code, total).select_from(SearchOpenDay)
        .join(Subject, Subject.id == SearchOpenDay.subject_id)
        .where(_between(SearchOpenDay.day, period), _region_filter(Subject.region_code, period.region),
               Subject.kind == "org")
        .group_by(Subject.id, Subject.name, Subject.region_code)
        .order_by(total.desc(), Subject.name).limit(limit)).all()
    return [(name, region, int(n)) for name, region, n in rows]


def uses(ctx: ServiceContext, period: rules.Period) -> dict:
    """信用信息应用: views of non-public information by purpose, credit reports issued."""
    region = _region_filter(Subject.region_code, period.region)
    views = ctx.session.execute(
        select(AuditEvent.purpose, func.count()).join(Subject, Subject.id == AuditEvent.subject_id)
        .where(AuditEvent.action.in_(ACCESS_ACTIONS), _at_between(AuditEvent.at, period), region)
        .group_by(AuditEvent.purpose)).all()
    reports = ctx.session.execute(
        select(func.count()).select_from(Report).join(Subject, Subject.id == Report.subject_id)
        .where(_at_between(Report.generated_at, period), region)).scalar_one()
    return {"private_views": sorted(((p or "（未注明）", int(n)) for p, n in views), key=lambda x: (-x[1], x[0])),
            "reports": int(reports)}


# --- what the pages, files and the command line show ---------------------------------------------

@dataclass
class Dashboard:
    period: rules.Period
    records: list = field(default_factory=list)
    grades: list = field(default_factory=list)
    cases: dict = field(default_factory=dict)
    lists: dict = field(default_factory=dict)
    scans: list = field(default_factory=list)
    top: list = field(default_factory=list)
    searched: list = field(default_factory=list)
    uses: dict = field(default_factory=dict)
    search_terms_note: str = SEARCH_TERMS_NOTE

    def to_json(self) -> dict:
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                       "region": self.period.region},
            "records_by_month": [{"month": m, "info_class": c, "authority": a, "count": n}
                                 for m, c, a, n in self.records],
            "grade_distribution": [{"region": r, "category": c, "grade": g, "count": n} for r, c, g, n in self.grades],
            "cases": {k: {"received": f.received, "decided": f.decided, "decided_in_time": f.decided_in_time}
                      for k, f in self.cases.items()},
            "lists": {t: {"entries": e, "exits": x} for t, (e, x) in self.lists.items()},
            "scans_per_day": [{"day": d.isoformat(), "count": n} for d, n in self.scans],
            "top_scanned": [{"name": name, "region": r, "count": n} for name, r, n in self.top],
            "uses": {"private_views": [{"purpose": p, "count": n} for p, n in self.uses.get("private_views", [])],
                     "reports": self.uses.get("reports", 0)},
            "top_searched": [{"name": name, "region": r, "count": n} for name, r, n in self.searched],
            "top_searched_note": self.search_terms_note,
        }


def dashboard(ctx: ServiceContext, period: rules.Period) -> Dashboard:
    """Every figure of the dashboard for ``period`` (made by ``period_for``, which checked the caller)."""
    # A caller's own region narrows a whole-jurisdiction period, whoever built the period.
    period = rules.Period(period.start, period.end, require_viewer(ctx, period.region))
    return Dashboard(period=period, records=records_by_month(ctx, period), grades=grade_distribution(ctx, period),
                     cases=case_figures(ctx, period), lists=list_movements(ctx, period),
                     scans=scans_per_day(ctx, period), top=top_scanned(ctx, period),
                     searched=top_searched(ctx, period), uses=uses(ctx, period))


SUMMARY_COLUMNS = ("区划代码", "区划名称", "归集信息合计", "基础信息", "增信信息", "失信信息", "严重失信信息",
                   "参评主体", "A", "B", "C", "D", "E", "异议受理", "异议办结", "异议按期办结", "修复受理",
                   "修复办结", "修复按期办结", "名单列入", "名单移出", "扫码次数")


def annual_summary(ctx: ServiceContext, year, region: str = "") -> tuple[rules.Period, list[list]]:
    """The yearly summary table per region (阳山 四（三） 分级评价结果汇总表, extended by the
    collection and handling figures of 海南 第五十条): one row per leaf region in scope with any
    figure, then the total row. Columns: ``SUMMARY_COLUMNS``. Each figure is one query grouped by
    region (not one query per region: 71 counties in Hunan), with the same filters as the
    dashboard's reads."""
    period = period_for(ctx, year=year, region=region)
    s = ctx.session
    subj_region = _region_filter(Subject.region_code, period.region)
    rec: dict[str, Counter] = defaultdict(Counter)
    for code, cls, n in s.execute(
            select(Subject.region_code, CreditRecord.info_class, func.count()).select_from(CreditRecord)
            .join(Subject, Subject.id == CreditRecord.subject_id)
            .where(CreditRecord.version == 1, _between(CreditRecord.decided_on, period), subj_region)
            .group_by(Subject.region_code, CreditRecord.info_class)).all():
        rec[code][cls] += int(n)
    grades: dict[str, Counter] = defaultdict(Counter)
    for code, _, letter, n in grade_distribution(ctx, period):
        grades[code][letter] += n
    case_region = _region_filter(Case.region_code, period.region)
    received: dict[str, Counter] = defaultdict(Counter)
    for code, kind, n in s.execute(
            select(Case.region_code, Case.kind, func.count()).where(case_region, _between(Case.received_on, period))
            .group_by(Case.region_code, Case.kind)).all():
        received[code][kind] += int(n)
    closed = s.execute(select(Case.id, Case.kind, Case.region_code).where(
        case_region, Case.closed_on.is_not(None), _between(Case.closed_on, period),
        Case.outcome != "withdrawn")).all()
    timelines = _timelines(ctx, [cid for cid, _, _ in closed])
    decided: dict[str, Counter] = defaultdict(Counter)
    in_time: dict[str, Counter] = defaultdict(Counter)
    for cid, kind, code in closed:
        decided[code][kind] += 1
        in_time[code][kind] += rules.decided_in_time(timelines[cid])
    base = (select(Subject.region_code, func.count()).select_from(CreditRecord).join(Subject, Subject.id == CreditRecord.subject_id)
            .where(CreditRecord.record_type.in_(rules.LIST_TYPES), subj_region).group_by(Subject.region_code))
    entries = dict(s.execute(base.where(CreditRecord.version == 1, _between(CreditRecord.publish_from, period))).all())
    exits = dict(s.execute(base.where(CreditRecord.is_current.is_(True), _list_exit(period))).all())
    scans = dict(s.execute(
        select(Subject.region_code, func.sum(PlateScanDay.count)).select_from(PlateScanDay)
        .join(Plate, Plate.id == PlateScanDay.plate_id).join(Subject, Subject.id == Plate.subject_id)
        .where(_between(PlateScanDay.day, period), subj_region).group_by(Subject.region_code)).all())
    regions = [r for r in ctx.profile.leaf_regions() if not period.region or in_region(period.region, r.code)]
    rows = []
    for r in regions:
        c = r.code
        row = [c, r.name, sum(rec[c].values()), *(rec[c][k] for k in InfoClass), sum(grades[c].values()),
               *(grades[c][g] for g in "ABCDE"),
               received[c][OBJECTION], decided[c][OBJECTION], in_time[c][OBJECTION],
               received[c][REPAIR], decided[c][REPAIR], in_time[c][REPAIR],
               int(entries.get(c, 0)), int(exits.get(c, 0)), int(scans.get(c, 0) or 0)]
        if any(row[2:]):
            rows.append(row)
    total = ["", "合计", *(sum(row[i] for row in rows) for i in range(2, len(SUMMARY_COLUMNS)))]
    return period, rows + [total]
