"""Issue #11: deadlines across 2026 → 2027, the first year chinesecalendar 1.11.0 does not cover.

For every profile, every start day from 2026-12-01 to 2027-09-30 and every limit of 1–30 working
days, no due date falls on a 2027 statutory holiday of 《全国年节及纪念日放假办法》（2024年修订）第二条:
元旦 01-01; 春节 除夕 02-05 to 初三 02-08; 清明 04-05; 劳动节 05-01/05-02; 端午 06-09; 中秋 09-15;
国庆 10-01..10-03. The same holds for the case machines' first steps and public notices, the
chatbot's plans and the calendar-day window of 海南 第十五条第三款. Every date counted into 2027 is
provisional (暂定) until the year is confirmed. Under the old Monday-Friday fallback 283 of the
9,120 (start, n) pairs fell on such a holiday (measured; asserted below so this test can fail).
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from portal.chatbot.deadline import plan
from portal.domain import cases
from portal.domain.statutory import statutory_holidays
from portal.domain.workdays import PACKAGE_YEARS, WorkCalendar, add_calendar_days, add_workdays
from portal.profiles import load_profile

PROFILES = ("hunan", "hunan-mi", "hainan", "guangdong", "jiangsu")
HOLIDAYS_2027 = {date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8),
                 date(2027, 4, 5), date(2027, 5, 1), date(2027, 5, 2), date(2027, 6, 9), date(2027, 9, 15),
                 date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)}
STARTS = [date(2026, 12, 1) + timedelta(days=i) for i in range((date(2027, 9, 30) - date(2026, 12, 1)).days + 1)]


def test_the_computed_2027_holidays_are_the_statutory_ones():
    """Checked by hand against the lunar calendar: 春节 2027-02-06 (除夕 02-05), 端午 (五月初五)
    06-09, 中秋 (八月十五) 09-15, 清明 (solar term) 04-05."""
    assert set(statutory_holidays(2027)) == HOLIDAYS_2027
    assert 2027 not in PACKAGE_YEARS  # if a new chinesecalendar covers 2027, this file still holds


def _calendar(pid: str) -> WorkCalendar:
    return WorkCalendar(receipt=load_profile(pid).receipt_on_non_working_day)


@pytest.mark.parametrize("pid", PROFILES)
def test_no_working_day_deadline_on_a_2027_holiday(pid):
    cal = _calendar(pid)
    hits = [(s, n) for s in STARTS for n in range(1, 31) if add_workdays(s, n, cal) in HOLIDAYS_2027]
    assert hits == []
    assert cal.provisional(date(2026, 12, 25), add_workdays(date(2026, 12, 25), 5, cal))
    assert not WorkCalendar(reviewed_years=[2027]).provisional(date(2026, 12, 25), date(2027, 1, 4))


def test_the_old_fallback_did_hit_them():
    """The same table under the Monday-Friday fallback of before: the test above can fail."""

    class MondayToFriday(WorkCalendar):
        def _lookup(self, d):
            if d.year in PACKAGE_YEARS:
                return chinese_calendar.is_workday(d), "chinesecalendar"
            return d.weekday() < 5, "weekday"

    old = MondayToFriday()
    hits = [(s, n) for s in STARTS for n in range(1, 31) if add_workdays(s, n, old) in HOLIDAYS_2027]
    assert len(hits) == 283
    assert (date(2026, 12, 25), 5) in hits and (date(2026, 12, 4), 20) in hits and (date(2026, 12, 18), 10) in hits


@pytest.mark.parametrize("pid", PROFILES)
@pytest.mark.parametrize("kind", ["objection", "repair"])
def test_case_machines_and_chatbot_plans_avoid_2027_holidays(pid, kind):
    profile, cal = load_profile(pid), _calendar(pid)
    machine = getattr(profile, kind)
    notice = next((s for s in machine.steps if s.min_workdays), None)
    for start in STARTS:
        state = cases.start_case(machine, start, cal)
        assert state.due_on not in HOLIDAYS_2027, (start, state)
        if notice is not None:
            assert cases.compute_due(notice, start, cal) not in HOLIDAYS_2027
            assert cases.notice_earliest(notice, start, cal) - timedelta(days=1) not in HOLIDAYS_2027
        p = plan(profile, kind, start, cal)
        dates = [d for st in p.stages for d in (st.due, st.due_extended, st.earliest_end) if d is not None]
        dates += [d for st in p.stages for _, _, d in st.alternatives]
        assert not set(dates) & HOLIDAYS_2027, (start, dates)
        if dates and max(dates).year == 2027:
            assert p.provisional


def test_hainan_calendar_day_window_avoids_2027_holidays():
    """海南 第十五条第三款 (15 日) with 民法典 第二百零三条: never ends on a holiday."""
    hainan, cal = load_profile("hainan"), _calendar("hainan")
    for start in STARTS:
        end = add_calendar_days(start, 15, cal)
        assert end not in HOLIDAYS_2027 and cal.is_workday(end)
        assert plan(hainan, "serious_list", start, cal).final == end
    assert add_calendar_days(date(2026, 12, 17), 15, cal) == date(2027, 1, 4)  # 01-01 元旦, weekend
