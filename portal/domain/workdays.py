"""Statutory deadlines in working days (工作日) and windows in calendar days.

One pure function over a calendar object (DESIGN.md "Deadlines"), with the counting rule of
民法典 第二百零一条: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算" — the day of
receipt is day zero and is never counted; the due date is the n-th working day after it. So a
Saturday receipt with 3 working days ends on Wednesday. This supersedes DESIGN.md's older wording
("a receipt on a non-working day counts from the next working day"), which is kept only as the
profile setting ``receipt_on_non_working_day = "next_working_day"`` for a regulation that says so
(none of the five profiles' documents does). Make-up workdays (调休) count.

Where a day's status comes from, in order (:meth:`WorkCalendar.source`):
1. ``override`` — the staff-edited holiday table (a day entered by hand or from the State
   Council's notice, ``domain.holiday_notice``);
2. ``chinesecalendar`` — the package's tables (1.11.0: 2004–2026);
3. ``statutory`` — for other years, the statutory holidays of 《全国年节及纪念日放假办法》
   computed by ``domain.statutory`` (元旦, 春节 4 days, 清明, 劳动节 2, 端午, 中秋, 国庆 3);
4. ``weekday`` — Monday to Friday.
A due date counted through a year that neither the package covers nor staff have reviewed is
provisional (暂定): its make-up swaps are unknown. Clock stops (湖南 第二十八条第二款: 检验、检测、鉴定或者
专家评审 time is not counted) are explicit intervals.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import chinese_calendar

from .statutory import statutory_holidays

_ONE_DAY = timedelta(days=1)
# Years the installed package has data for (1.11.0: 2004-2026), read from its own tables.
PACKAGE_YEARS = range(min(d.year for d in chinese_calendar.holidays),
                      max(d.year for d in chinese_calendar.holidays) + 1)
# Years an administrator may confirm (issue #12: any integer used to be accepted).
REVIEW_YEARS = range(2000, 2101)

# profile setting ``receipt_on_non_working_day`` (portal.profiles.loader validates it)
DAY_ZERO = "day_zero"              # 民法典 第二百零一条: the receipt day is day zero, whatever it is
NEXT_WORKING_DAY = "next_working_day"  # day zero moves to the next working day
RECEIPT_RULES = (DAY_ZERO, NEXT_WORKING_DAY)



class WorkCalendar:
    """Which days are working days, and how a receipt day is counted.

    ``overrides`` is the staff-editable holiday table (True = working day, False = holiday) and
    wins over everything; then chinesecalendar for the years it covers; then the computed
    statutory holidays; then Monday-Friday. ``reviewed_years`` are years for which staff have
    entered the State Council's holiday notice completely, so deadlines through them are final.
    ``receipt`` is the active profile's ``receipt_on_non_working_day`` (default: the statute).
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 reviewed_years: Iterable[int] = (), receipt: str = DAY_ZERO) -> None:
        if receipt not in RECEIPT_RULES:
            raise ValueError(f"unknown receipt rule {receipt!r}")
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.reviewed_years = frozenset(reviewed_years)
        self.receipt = receipt
        self._cache: dict[date, bool] = {}

    def is_workday(self, d: date) -> bool:
        found = self._cache.get(d)
        if found is None:
            found = self._cache[d] = self._lookup(d)[0]
        return found

    def source(self, d: date) -> str:
        """Which source decided ``d``: override, chinesecalendar, statutory or weekday."""
        return self._lookup(d)[1]

    def _lookup(self, d: date) -> tuple[bool, str]:
        if d in self.overrides:
            return self.overrides[d], "override"
        if d.year in PACKAGE_YEARS:
            try:
                return chinese_calendar.is_workday(d), "chinesecalendar"
            except NotImplementedError:  # a year inside the range without data
                pass
        if d in statutory_holidays(d.year):
            return False, "statutory"
        return d.weekday() < 5, "weekday"

    def covers(self, year: int) -> bool:
        """True when the year's holidays and make-up days are known (package data or reviewed)."""
        return year in PACKAGE_YEARS or year in self.reviewed_years

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """Years between ``start`` and ``end`` (either order) whose make-up days are unknown."""
        low, high = sorted((start.year, end.year))
        return [y for y in range(low, high + 1) if not self.covers(y)]

    def provisional(self, start: date, end: date | None) -> bool:
        """A date counted from ``start`` to ``end`` is 暂定 (the make-up swaps of a year it runs
        through are not yet published or not yet entered)."""
        return end is not None and bool(self.uncovered_years(start, end))


def fallback_warning(years: Iterable[int]) -> str:
    """What staff see when a deadline runs through an uncovered year ('' if none)."""
    years = sorted(set(years))
    if not years:
        return ""
    listed = "、".join(f"{y}年" for y in years)
    return (f"期限为暂定：{listed}的调休安排尚未确认，期限已按《全国年节及纪念日放假办法》的法定节假日"
            f"和节假日维护中录入的日期计算，其余周一至周五按工作日计。国务院办公厅放假通知录入并确认后，"
            f"在办案件的期限将自动重新计算并通知申请人。")


PROVISIONAL_NOTE = ("暂定：相关年份的调休安排尚未公布或尚未录入，期限已扣除法定节假日；"
                    "国务院办公厅放假通知公布并录入后，期限可能调整，届时将另行通知。")


def _stopped(d: date, stops: Sequence[tuple[date, date]]) -> bool:
    return any(first <= d <= last for first, last in stops)


def add_workdays_with_stops(start: date, n: int, calendar: WorkCalendar,
                            stops: Sequence[tuple[date, date]], receipt: str | None = None) -> date:
    """The n-th counting day after day zero, where days inside a clock stop do not count.

    湖南 第二十八条第二款: "需要进行检验、检测、鉴定或者专家评审的，所需时间不计入异议申请办理时间" — each stop is an
    inclusive ``(first, last)`` interval. Otherwise the rule of :func:`add_workdays` applies.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    receipt = receipt or calendar.receipt
    if receipt not in RECEIPT_RULES:
        raise ValueError(f"unknown receipt rule {receipt!r}")
    for first, last in stops:
        if first > last:
            raise ValueError(f"clock stop ends before it starts: {first} > {last}")

    def counts(d: date) -> bool:
        return calendar.is_workday(d) and not _stopped(d, stops)

    day = start
    if receipt == NEXT_WORKING_DAY:
        while not counts(day):
            day += _ONE_DAY
    for _ in range(n):
        day += _ONE_DAY
        while not counts(day):
            day += _ONE_DAY
    return day


def add_workdays(start: date, n: int, calendar: WorkCalendar, receipt: str | None = None) -> date:
    """Due date n working days after receipt.

    民法典 第二百零一条: the day of receipt is not counted, counting starts the next day; the
    result is the n-th working day strictly after ``start`` (n = 0 gives ``start``). E.g.
    湖南 第二十八条 "自收到异议申请之日起3个工作日内": a Monday receipt is due on Thursday, a
    Saturday receipt on Wednesday. ``receipt`` (default: the calendar's, i.e. the profile's
    ``receipt_on_non_working_day``) = ``next_working_day`` first moves day zero to the next
    working day (Saturday receipt → Thursday).
    """
    return add_workdays_with_stops(start, n, calendar, (), receipt)


def day_zero(start: date, calendar: WorkCalendar, receipt: str | None = None) -> date:
    """The day counting starts after (the receipt day, or the next working day)."""
    return add_workdays(start, 0, calendar, receipt)


def add_calendar_days(start: date, days: int, calendar: WorkCalendar) -> date:
    """End of a window counted in calendar days (日, not 工作日), e.g. 海南 第十五条第三款
    "收到异议材料之日起15日内".

    民法典 第二百零一条: the start day is not counted; 第二百零三条: "期间的最后一日是法定休假日的，
    以法定休假日结束的次日为期间的最后一日" — a last day that is not a working day (weekend or
    holiday, by the same calendar as working days) moves to the next working day.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start + timedelta(days=days)
    while not calendar.is_workday(day):
        day += _ONE_DAY
    return day


def workdays_between(start: date, end: date, calendar: WorkCalendar) -> int:
    """Working days in (start, end]; negative when end is before start ("剩余工作日")."""
    if end < start:
        return -workdays_between(end, start, calendar)
    count, day = 0, start
    while day < end:
        day += _ONE_DAY
        count += calendar.is_workday(day)
    return count
