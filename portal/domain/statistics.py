"""Pure rules of the statistics (海南 第五十条: 信用信息归集、应用情况报告; 阳山 四（三）: 分级评价结果
汇总表): who may read them, the reporting period, which lists count as lists, and when a case was
decided inside its time limit. No Flask, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Roles that read the statistics: the supervising side (平台运行机构, 认定部门, 复核部门, 负责人,
# 系统管理员). A providing unit alone (信息提供单位) reads its own submissions in its workspace,
# not the jurisdiction's figures.
STATS_ROLES = frozenset({"operator", "department", "reviewer", "head", "admin"})
STATS_ONLY = "只有平台运行机构、认定部门、复核部门、负责人和系统管理员可以查看统计与报告。"
STATS_REGION = "所选区划不在您的管辖范围内。"

# Record types that are lists (名单): 守信红名单 (淮安 三(一)), 失信黑名单, 严重失信主体名单,
# 联合惩戒对象名单 (湖南 第十五条). Entries and exits are the 联合激励惩戒 figures of 海南 第五十条.
LIST_TYPES = ("redlist", "blacklist", "serious_list", "joint_punishment")
# Record statuses that take a record off publication (and so off a list) before its window ends.
OFF_LIST_STATUSES = ("repaired", "withdrawn", "deleted")

# The article each regulation has on collection/use reports; ``documents.citations.cite`` keeps
# only the active profile's own part (a Hunan report never rests on 海南's draft).
REPORT_BASIS = "海南 第五十条；湖南 第三十二条；阳山 四（三）"
SUMMARY_BASIS = "阳山 四（三）；海南 第三十条；湖南 第十七条"

YEAR_MIN = 2000
_MONTH = re.compile(r"(\d{4})-(\d{1,2})", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)


class PeriodError(ValueError):
    """A period that cannot be read; the message is Chinese and safe to show."""


def may_view_statistics(user) -> bool:
    return user is not None and bool(getattr(user, "active", False)) and bool(STATS_ROLES & set(user.roles or ()))


@dataclass(frozen=True)
class Period:
    """Inclusive calendar-date range and a region ("" = the whole jurisdiction; a city code
    ``xxxx00`` covers its counties)."""

    start: date
    end: date
    region: str = ""

    @property
    def label(self) -> str:
        if self.start.month == 1 and self.end.month == 12 and self.start.year == self.end.year:
            return f"{self.start.year} 年"
        return f"{self.start:%Y-%m} 至 {self.end:%Y-%m}"

    def months(self) -> list[str]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def _month_end(y: int, m: int) -> date:
    return (date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)) - timedelta(days=1)


def _parse_month(text: str, max_year: int) -> tuple[int, int]:
    m = _MONTH.fullmatch(text.strip())
    if not m:
        raise PeriodError("月份格式应为 YYYY-MM，例如 2026-01。")
    y, mo = int(m.group(1)), int(m.group(2))
    if not (YEAR_MIN <= y <= max_year) or not 1 <= mo <= 12:
        raise PeriodError(f"月份超出范围（{YEAR_MIN} 年至 {max_year} 年）。")
    return y, mo


def parse_period(today: date, year: str | int | None = None, month_from: str | None = None,
                 month_to: str | None = None, region: str = "") -> Period:
    """A year (default: the current one) or a month range ``YYYY-MM``..``YYYY-MM``."""
    max_year = today.year + 1
    if month_from or month_to:
        y1, m1 = _parse_month(month_from or month_to or "", max_year)
        y2, m2 = _parse_month(month_to or month_from or "", max_year)
        if (y2, m2) < (y1, m1):
            raise PeriodError("起始月份不能晚于截止月份。")
        if (y2 - y1) * 12 + (m2 - m1) >= 36:
            raise PeriodError("统计期间最长 36 个月。")
        return Period(date(y1, m1, 1), _month_end(y2, m2), region)
    y = parse_year(year, today)
    return Period(date(y, 1, 1), date(y, 12, 31), region)


def parse_year(year: str | int | None, today: date) -> int:
    if year in (None, ""):
        return today.year
    text = str(year).strip()
    if not _YEAR.fullmatch(text) or not YEAR_MIN <= int(text) <= today.year + 1:
        raise PeriodError(f"年度应为 {YEAR_MIN} 至 {today.year + 1} 之间的四位数字。")
    return int(text)


def decided_in_time(events) -> bool:
    """A closed case was decided inside its time limit: its closing act (the last event) came on
    or before the due date the step it closed had (the ``due_on`` stored on the event before it;
    none: no statutory limit, or the clock was stopped). ``events``: the timeline in order,
    anything with ``on`` and ``due_on``."""
    events = list(events)
    if len(events) < 2:
        return True
    due = events[-2].due_on
    return due is None or events[-1].on <= due
