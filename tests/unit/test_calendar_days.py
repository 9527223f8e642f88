"""Calendar-day windows (海南 第十五条第三款 "15日内"; 民法典 第二百零一、二百零三条)."""
from datetime import date as D

import pytest

from portal.domain import cases
from portal.domain.workdays import WorkCalendar, add_calendar_days
from portal.profiles import load_profile

CAL = WorkCalendar()


@pytest.mark.parametrize("start, end", [
    (D(2026, 11, 5), D(2026, 11, 20)),   # a Friday: stays
    (D(2026, 11, 20), D(2026, 12, 7)),   # 12-05 is a Saturday: the next working day
    (D(2026, 9, 16), D(2026, 10, 8)),    # 10-01 国庆: after the holiday (10-01..10-07)
])
def test_last_day_on_a_holiday_moves_to_next_working_day(start, end):
    assert add_calendar_days(start, 15, CAL) == end


def test_hainan_serious_list_objection_machine():
    """海南 第十五条第三款: an objection against a serious-list finding is decided by the 认定部门
    within 15 days, as its own start step of the objection machine."""
    m = load_profile("hainan").objection
    start = m.start_for({"info_class": "serious"})
    assert start.id == "serious_decide" and start.actor == "department" and start.calendar_days == 15
    assert m.start_for({"info_class": "dishonest"}).id == m.start.id == "triage"
    s = cases.start_case(m, D(2026, 9, 16), CAL, start.id)
    assert s.step == "serious_decide" and s.due_on == D(2026, 10, 8)
    assert cases.allowed_actions(m, s, "department") == ("modify", "delete", "keep")
    kept = cases.apply(m, s, "keep", D(2026, 9, 30), CAL, role="department")
    assert kept.step == "kept" and kept.terminal
    # the other profiles have no such step: objections against serious records take the usual path
    hunan = load_profile("hunan").objection
    assert hunan.start_for({"info_class": "serious"}) is hunan.start
