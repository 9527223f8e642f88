"""Statutory deadlines in working days (工作日).

DESIGN.md "Deadlines": one pure function over a calendar object. The day of receipt is day zero;
a receipt on a non-working day counts from the next working day; make-up workdays (调休) count.
Years that chinesecalendar does not cover fall back to Monday-Friday plus the staff-edited
holiday table, with a visible warning to staff, never a crash. Clock stops (湖南 第二十八条:
检验、检测、鉴定或者专家评审 time is not counted) are explicit intervals.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import chinese_calendar

_ONE_DAY = timedelta(days=1)
# Years the installed package has data for (1.11.0: 2004-2026), read from its own tables.
PACKAGE_YEARS = range(min(d.year for d in chinese_calendar.holidays),
                      max(d.year for d in chinese_calendar.holidays) + 1)


class WorkCalendar:
    """Which days are working days.

    ``overrides`` is the staff-editable holiday table (True = working day, False = holiday) and
    wins over everything. Otherwise chinesecalendar decides for the years it covers, and
    Monday-Friday is the fallback. ``reviewed_years`` are years for which staff have entered
    the State Council's holiday notice completely, so the fallback no longer needs a warning.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 reviewed_years: Iterable[int] = ()) -> None:
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.reviewed_years = frozenset(reviewed_years)
        self._cache: dict[date, bool] = {}

    def is_workday(self, d: date) -> bool:
        found = self._cache.get(d)
        if found is None:
            found = self._cache[d] = self._lookup(d)
        return found

    def _lookup(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        if d.year in PACKAGE_YEARS:
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:  # a year inside the range without data
                pass
        return d.weekday() < 5

    def covers(self, year: int) -> bool:
        """True when the year's holidays are known (package data or reviewed by staff)."""
        return year in PACKAGE_YEARS or year in self.reviewed_years

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """Years between ``start`` and ``end`` (either order) computed with the fallback."""
        low, high = sorted((start.year, end.year))
        return [y for y in range(low, high + 1) if not self.covers(y)]


def fallback_warning(years: Iterable[int]) -> str:
    """The warning staff see when a deadline runs through an uncovered year ('' if none)."""
    years = sorted(set(years))
    if not years:
        return ""
    listed = "、".join(f"{y}年" for y in years)
    return (f"{listed}的法定节假日安排尚未收录，期限暂按周一至周五为工作日计算（已计入节假日维护中"
            f"录入的日期），请对照国务院办公厅放假通知在节假日维护中补录后核对。")


def _stopped(d: date, stops: Sequence[tuple[date, date]]) -> bool:
    return any(first <= d <= last for first, last in stops)


def add_workdays_with_stops(start: date, n: int, calendar: WorkCalendar,
                            stops: Sequence[tuple[date, date]]) -> date:
    """The n-th counting day after day zero, where days inside a clock stop do not count.

    湖南 第二十八条: "检验、检测、鉴定或者专家评审的，所需时间不计入" — each stop is an
    inclusive ``(first, last)`` interval. Otherwise the rule of :func:`add_workdays` applies:
    day zero is the receipt day, or the first counting day after it.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    for first, last in stops:
        if first > last:
            raise ValueError(f"clock stop ends before it starts: {first} > {last}")

    def counts(d: date) -> bool:
        return calendar.is_workday(d) and not _stopped(d, stops)

    day = start
    while not counts(day):
        day += _ONE_DAY
    for _ in range(n):
        day += _ONE_DAY
        while not counts(day):
            day += _ONE_DAY
    return day


def add_workdays(start: date, n: int, calendar: WorkCalendar) -> date:
    """Due date n working days after receipt.

    DESIGN.md "Deadlines": "the day of receipt is day zero; a receipt on a non-working day
    counts from the next working day; make-up workdays (调休) count". The result is the n-th
    working day strictly after day zero; n = 0 gives day zero itself. E.g. 湖南 第二十八条
    "自收到异议申请之日起3个工作日内": a Monday receipt is due on Thursday.
    """
    return add_workdays_with_stops(start, n, calendar, ())


def workdays_between(start: date, end: date, calendar: WorkCalendar) -> int:
    """Working days in (start, end]; negative when end is before start ("剩余工作日")."""
    if end < start:
        return -workdays_between(end, start, calendar)
    count, day = 0, start
    while day < end:
        day += _ONE_DAY
        count += calendar.is_workday(day)
    return count
