"""Windows counted in calendar days (日, not 工作日), e.g. 海南 第十五条第三款 "在收到异议材料之日起
15日内作出是否更正的决定".

民法典 第二百零一条: the day the period starts on is not counted (counting starts the next day);
第二百零三条: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日" — a last day
that is not a working day (weekend or holiday, by the same calendar as working days) moves to
the next working day.

Helper ``workdays`` adds the same rule to ``portal.domain.workdays`` (``add_calendar_days``); this
module holds it until that lands, under a name the lead can fold into the other.
"""
from __future__ import annotations

from datetime import date, timedelta

from .workdays import WorkCalendar

_ONE_DAY = timedelta(days=1)


def add_calendar_days_to_workday(start: date, n: int, calendar: WorkCalendar) -> date:
    """The last day of an ``n``-day window starting on ``start``; a last day that is not a working
    day moves to the next working day."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start + timedelta(days=n)
    while not calendar.is_workday(day):
        day += _ONE_DAY
    return day
