"""Deadlines in working days. Expected dates are hand-checked against the State Council notices
as recorded in chinesecalendar 1.11.0:

2025 春节 1月28日–2月4日 (上班 1月26日周日、2月8日周六); 国庆/中秋 10月1日–8日 (上班 9月28日周日、
10月11日周六). 2026 元旦 1月1日–3日 (上班 1月4日周日); 春节 2月15日–23日 (上班 2月14日周六、2月28日
周六); 劳动节 5月1日–5日 (上班 5月9日周六); 中秋 9月25日; 国庆 10月1日–7日 (上班 9月20日周日、
10月10日周六). 2027 is not in the package: its statutory holidays are computed
(《全国年节及纪念日放假办法》第二条), the make-up swaps are unknown (暂定).

Counting rule: 民法典 第二百零一条 "开始的当日不计入，自下一日开始计算" — the receipt day is day
zero whatever day it is (profile default ``receipt_on_non_working_day = "day_zero"``). The old
rule (a non-working receipt day counts from the next working day) is ``"next_working_day"``.
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from portal.domain.workdays import (
    DAY_ZERO,
    NEXT_WORKING_DAY,
    WorkCalendar,
    add_calendar_days,
    add_workdays,
    add_workdays_with_stops,
    fallback_warning,
    workdays_between,
)

D = date
CAL = WorkCalendar()


@pytest.mark.parametrize(("start", "n", "due"), [
    # an ordinary week (March 2025), a start on each day of the week
    (D(2025, 3, 3), 3, D(2025, 3, 6)),     # Mon -> Thu (湖南 第二十八条: 3 WD)
    (D(2025, 3, 4), 3, D(2025, 3, 7)),     # Tue -> Fri
    (D(2025, 3, 5), 3, D(2025, 3, 10)),    # Wed -> Mon
    (D(2025, 3, 6), 3, D(2025, 3, 11)),    # Thu -> Tue
    (D(2025, 3, 7), 3, D(2025, 3, 12)),    # Fri -> Wed
    (D(2025, 3, 3), 0, D(2025, 3, 3)),     # n = 0 is day zero itself
    (D(2025, 3, 3), 10, D(2025, 3, 17)),   # 湖南 第三十条: 10 WD
    # 2025 Spring Festival
    (D(2025, 1, 24), 3, D(2025, 2, 5)),    # Fri; Sun 1-26 make-up counts, Mon 1-27, then Wed 2-5
    # 2025 National Day
    (D(2025, 9, 26), 3, D(2025, 9, 30)),   # Fri; Sun 9-28 make-up, 9-29, 9-30
    (D(2025, 9, 30), 3, D(2025, 10, 11)),  # 10-9, 10-10, Sat 10-11 make-up
    (D(2025, 9, 30), 10, D(2025, 10, 21)),
    # 2025 -> 2026 New Year
    (D(2025, 12, 31), 3, D(2026, 1, 6)),   # 1-1..1-3 off, Sun 1-4 make-up, 1-5, 1-6
    # 2026 Spring Festival
    (D(2026, 2, 13), 3, D(2026, 2, 25)),   # Fri; Sat 2-14 make-up, 2-15..2-23 off, 2-24, 2-25
    # 2026 May Day
    (D(2026, 4, 30), 3, D(2026, 5, 8)),
    (D(2026, 4, 30), 4, D(2026, 5, 9)),    # Sat 5-9 make-up
    # 2026 Mid-Autumn and National Day
    (D(2026, 9, 18), 2, D(2026, 9, 21)),   # Sun 9-20 make-up
    (D(2026, 9, 24), 1, D(2026, 9, 28)),   # Fri 9-25 中秋 off
    (D(2026, 9, 30), 3, D(2026, 10, 10)),  # 10-1..10-7 off, 10-8, 10-9, Sat 10-10 make-up
])
def test_add_workdays(start, n, due):
    assert add_workdays(start, n, CAL) == due
    # a working-day receipt: both receipt rules agree
    assert add_workdays(start, n, CAL, NEXT_WORKING_DAY) == due


@pytest.mark.parametrize(("start", "n", "statute", "next_working_day"), [
    # 民法典 第二百零一条: Saturday receipt, 3 WD -> Mon 1, Tue 2, Wed 3 (not Thursday)
    (D(2025, 3, 8), 3, D(2025, 3, 12), D(2025, 3, 13)),
    (D(2025, 3, 9), 3, D(2025, 3, 12), D(2025, 3, 13)),    # Sunday
    (D(2025, 3, 8), 0, D(2025, 3, 8), D(2025, 3, 10)),     # day zero itself
    # receipt in the 2025 Spring Festival: 2-5, 2-6, 2-7 (old rule: day zero 2-5, Sat 2-8 make-up)
    (D(2025, 1, 29), 3, D(2025, 2, 7), D(2025, 2, 8)),
    # Saturday receipt before National Day 2025: Sun 9-28 make-up is day 1, 9-29, 9-30
    (D(2025, 9, 27), 3, D(2025, 9, 30), D(2025, 10, 9)),
    # receipt in the National Day holiday: 10-9, 10-10, Sat 10-11 make-up
    (D(2025, 10, 3), 3, D(2025, 10, 11), D(2025, 10, 13)),
    # receipt in the 2026 Spring Festival: 2-24 .. 2-27, Sat 2-28 make-up is the 5th
    (D(2026, 2, 20), 5, D(2026, 2, 28), D(2026, 3, 2)),
    # Saturday 2026-12-26, 3 WD: 12-28, 12-29, 12-30 (old rule: 12-31)
    (D(2026, 12, 26), 3, D(2026, 12, 30), D(2026, 12, 31)),
])
def test_receipt_on_a_non_working_day(start, n, statute, next_working_day):
    assert add_workdays(start, n, CAL) == statute  # the default is the statute
    assert add_workdays(start, n, CAL, DAY_ZERO) == statute
    assert add_workdays(start, n, CAL, NEXT_WORKING_DAY) == next_working_day
    assert add_workdays(start, n, WorkCalendar(receipt=NEXT_WORKING_DAY)) == next_working_day


def test_unknown_receipt_rule_is_refused():
    with pytest.raises(ValueError):
        WorkCalendar(receipt="whenever")
    with pytest.raises(ValueError):
        add_workdays(D(2025, 3, 3), 3, CAL, "whenever")


@pytest.mark.parametrize(("day", "expected"), [
    (D(2025, 9, 28), True),    # Sunday make-up workday
    (D(2025, 10, 1), False),
    (D(2025, 10, 8), False),   # Wednesday, still National Day
    (D(2025, 10, 11), True),   # Saturday make-up workday
    (D(2026, 2, 14), True),
    (D(2026, 2, 23), False),   # Monday, last day of the Spring Festival
    (D(2026, 10, 10), True),
    (D(2027, 1, 1), False),    # uncovered year: 元旦 is a statutory holiday all the same
    (D(2027, 1, 4), True),
    (D(2027, 1, 2), False),
    (D(2027, 2, 5), False),    # 除夕 (2024 amendment: 春节 4 days)
    (D(2027, 2, 9), True),     # Tuesday after 初三: the unknown extension is not guessed
    (D(1999, 10, 1), False),   # before the package's data: 国庆 computed too
])
def test_is_workday(day, expected):
    assert CAL.is_workday(day) is expected


@pytest.mark.parametrize(("day", "source"), [
    (D(2026, 10, 1), "chinesecalendar"),
    (D(2027, 1, 1), "statutory"),
    (D(2027, 1, 4), "weekday"),
])
def test_which_source_decided(day, source):
    assert CAL.source(day) == source
    assert WorkCalendar(overrides={day: True}).source(day) == "override"


def test_package_data_matches_the_hand_checked_make_up_days():
    make_up = sorted(d for d in chinese_calendar.workdays if d.year in (2025, 2026))
    assert make_up == [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11),
                       D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20),
                       D(2026, 10, 10)]


def test_year_end_into_an_uncovered_year_is_provisional():
    start = D(2026, 12, 24)  # Thursday
    due = add_workdays(start, 7, CAL)
    assert due == D(2027, 1, 5)  # 12-25, 12-28..12-31, 元旦 1-1 off (computed), Mon 1-4, Tue 1-5
    assert CAL.uncovered_years(start, due) == [2027] and CAL.provisional(start, due)
    warning = fallback_warning(CAL.uncovered_years(start, due))
    assert "2027年" in warning and "暂定" in warning


@pytest.mark.parametrize(("start", "n"), [
    (D(2026, 12, 25), 5),   # issue #11: was due on 2027-01-01
    (D(2026, 12, 4), 20),
    (D(2026, 12, 18), 10),
])
def test_issue_11_examples_no_longer_end_on_new_year(start, n):
    assert add_workdays(start, n, CAL) == D(2027, 1, 4)


def test_override_wins_over_the_computed_statutory_day():
    cal = WorkCalendar(overrides={D(2027, 1, 1): True, D(2027, 1, 4): False})
    assert add_workdays(D(2026, 12, 31), 1, cal) == D(2027, 1, 1)
    assert add_workdays(D(2026, 12, 31), 2, cal) == D(2027, 1, 5)


def test_override_wins_over_the_package():
    cal = WorkCalendar(overrides={D(2025, 10, 1): True, D(2025, 3, 5): False})
    assert cal.is_workday(D(2025, 10, 1)) and not cal.is_workday(D(2025, 3, 5))
    assert add_workdays(D(2025, 3, 3), 3, cal) == D(2025, 3, 7)


@pytest.mark.parametrize(("reviewed", "years"), [
    ((), [2027, 2028]),
    ((2027,), [2028]),
    ((2027, 2028), []),
])
def test_reviewed_years_silence_the_warning(reviewed, years):
    cal = WorkCalendar(reviewed_years=reviewed)
    assert cal.uncovered_years(D(2026, 6, 1), D(2028, 2, 1)) == years
    assert cal.uncovered_years(D(2028, 2, 1), D(2026, 6, 1)) == years
    assert cal.covers(2026) and not cal.covers(2029)
    assert (fallback_warning(years) == "") is (not years)


def test_far_years_never_raise():
    for day in (D(2100, 3, 1), D(1950, 3, 1)):
        assert add_workdays(day, 30, CAL) > day
        assert workdays_between(day, add_workdays(day, 30, CAL), CAL) == 30


def test_lookups_are_cached(monkeypatch):
    calls = []

    def counting(day):
        calls.append(day)
        return True

    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    cal = WorkCalendar()
    for _ in range(3):
        cal.is_workday(D(2025, 5, 6))
    assert calls == [D(2025, 5, 6)]


def test_negative_n_is_rejected():
    with pytest.raises(ValueError):
        add_workdays(D(2025, 3, 3), -1, CAL)


@pytest.mark.parametrize(("start", "end", "count"), [
    (D(2025, 3, 3), D(2025, 3, 3), 0),
    (D(2025, 3, 3), D(2025, 3, 10), 5),
    (D(2025, 9, 26), D(2025, 9, 30), 3),     # includes the Sunday make-up day
    (D(2025, 9, 30), D(2025, 10, 9), 1),
    (D(2025, 9, 30), D(2025, 9, 26), -3),    # overdue: negative
    (D(2026, 12, 31), D(2027, 1, 4), 1),     # 2027-01-01 is computed as 元旦
])
def test_workdays_between(start, end, count):
    assert workdays_between(start, end, CAL) == count


@pytest.mark.parametrize("start", [D(2025, 9, 24) + timedelta(days=i) for i in range(21)])
def test_workdays_between_inverts_add_workdays(start):
    day_zero = add_workdays(start, 0, CAL)
    for n in (1, 3, 7):
        assert workdays_between(day_zero, add_workdays(start, n, CAL), CAL) == n


@pytest.mark.parametrize(("start", "n", "stops", "due"), [
    (D(2025, 3, 3), 3, [], D(2025, 3, 6)),
    # testing Tue-Wed: 3-6, 3-7, 3-10  (湖南 第二十八条: 检验、检测…时间不计算在内)
    (D(2025, 3, 3), 3, [(D(2025, 3, 4), D(2025, 3, 5))], D(2025, 3, 10)),
    # a stop from the day of receipt: the receipt day is not counted anyway, 3-4 is stopped
    (D(2025, 3, 3), 3, [(D(2025, 3, 3), D(2025, 3, 4))], D(2025, 3, 7)),
    # two stops, one over a weekend (costs nothing extra)
    (D(2025, 3, 3), 4, [(D(2025, 3, 4), D(2025, 3, 4)), (D(2025, 3, 8), D(2025, 3, 10))],
     D(2025, 3, 11)),
    # a stop running into the National Day holiday
    (D(2025, 9, 26), 3, [(D(2025, 9, 29), D(2025, 10, 9))], D(2025, 10, 11)),
])
def test_add_workdays_with_stops(start, n, stops, due):
    assert add_workdays_with_stops(start, n, CAL, stops) == due


def test_stop_that_ends_before_it_starts_is_rejected():
    with pytest.raises(ValueError):
        add_workdays_with_stops(D(2025, 3, 3), 3, CAL, [(D(2025, 3, 5), D(2025, 3, 4))])


@pytest.mark.parametrize(("start", "days", "end"), [
    # 海南 第十五条第三款 "收到异议材料之日起15日内"; 民法典 第二百零一条: the start day is not counted
    (D(2025, 3, 3), 15, D(2025, 3, 18)),    # Tuesday: a working day, stays
    (D(2025, 3, 7), 15, D(2025, 3, 24)),    # would end Sat 3-22: 民法典 第二百零三条 -> Mon 3-24
    (D(2025, 9, 16), 15, D(2025, 10, 9)),   # would end 10-1 (国庆): next working day 10-9
    (D(2025, 9, 13), 15, D(2025, 9, 28)),   # ends on Sun 9-28, a make-up workday: stays
    (D(2026, 12, 17), 15, D(2027, 1, 4)),   # would end 2027-01-01 (元旦, computed), Sat, Sun -> 1-4
    (D(2027, 1, 22), 15, D(2027, 2, 9)),    # would end 2-6 (春节 2027, computed) -> Tue 2-9
    (D(2025, 3, 3), 0, D(2025, 3, 3)),
])
def test_add_calendar_days(start, days, end):
    assert add_calendar_days(start, days, CAL) == end


def test_add_calendar_days_rejects_negative():
    with pytest.raises(ValueError):
        add_calendar_days(D(2025, 3, 3), -1, CAL)
