"""The generic case engine over each profile's step machine (portal.domain.cases).

Dates cross 2025 National Day (10-01..10-08 off, 09-28 and 10-11 make-up workdays), New Year
2026 (01-04 make-up), Spring Festival 2026 (02-15..02-23 off, 02-14 and 02-28 make-up) and
Labour Day 2026 (05-01..05-05 off, 05-09 make-up)."""
from datetime import date

import pytest

from portal.domain import cases
from portal.domain.cases import CaseError
from portal.domain.workdays import WorkCalendar
from portal.profiles import load_profile

D = date
CAL = WorkCalendar()


@pytest.fixture(scope="module")
def profiles():
    return {p: load_profile(p) for p in ("hunan", "hainan", "hunan-mi", "guangdong", "jiangsu")}


# profile, machine, received_on, due_on, extended due_on
START_TABLE = [
    # 湖南 第二十八条: 3 WD, +3 WD
    ("hunan", "objection", D(2025, 9, 30), D(2025, 10, 11), D(2025, 10, 15)),  # ends on make-up Sat
    # received in the holiday: the receipt day is day zero all the same (民法典 第二百零一条)
    ("hunan", "objection", D(2025, 10, 3), D(2025, 10, 11), D(2025, 10, 15)),
    ("hunan", "objection", D(2025, 12, 31), D(2026, 1, 6), D(2026, 1, 9)),  # year end, 01-04 make-up
    ("hunan", "objection", D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 28)),  # Spring Festival
    ("hunan", "objection", D(2026, 2, 14), D(2026, 2, 26), D(2026, 3, 2)),  # received on make-up Sat
    ("hunan", "objection", D(2026, 2, 15), D(2026, 2, 26), D(2026, 3, 2)),  # received on holiday Sun
    # 湖南医保 第十七条: 3 WD; 5 WD from receipt when other units help verify
    ("hunan-mi", "objection", D(2025, 9, 26), D(2025, 9, 30), D(2025, 10, 10)),
    ("hunan-mi", "objection", D(2026, 4, 30), D(2026, 5, 8), D(2026, 5, 11)),
    # 海南 第三十八条: the operator triages within 3 WD
    ("hainan", "objection", D(2026, 4, 30), D(2026, 5, 8), None),
    # repair review 10 WD (湖南 第三十条（二）; 湖南医保 第二十五条: complex up to 30 WD)
    ("hunan", "repair", D(2026, 2, 10), D(2026, 3, 2), None),
    ("hunan-mi", "repair", D(2026, 2, 10), D(2026, 3, 2), D(2026, 3, 30)),
    ("hainan", "repair", D(2025, 9, 30), D(2025, 10, 11), None),  # accept within 3 WD
]


@pytest.mark.parametrize("pid,kind,received,due,extended_due", START_TABLE)
def test_start_and_extension(profiles, pid, kind, received, due, extended_due):
    machine = getattr(profiles[pid], kind)
    state = cases.start_case(machine, received, CAL)
    assert state.step == machine.start.id
    assert state.due_on == due
    if extended_due is None:
        with pytest.raises(CaseError):
            cases.extend(machine, state, received, CAL, "情况复杂")
    else:
        longer = cases.extend(machine, state, received, CAL, "需要其他单位协助核查")
        assert longer.due_on == extended_due and longer.extended
        with pytest.raises(CaseError, match="已延期一次"):
            cases.extend(machine, longer, received, CAL, "再次延期")


def test_extension_needs_reason_and_time(profiles):
    m = profiles["hunan"].objection
    s = cases.start_case(m, D(2026, 2, 13), CAL)
    with pytest.raises(CaseError, match="理由"):
        cases.extend(m, s, D(2026, 2, 13), CAL, "  ")
    with pytest.raises(CaseError, match="期限已过"):
        cases.extend(m, s, D(2026, 2, 26), CAL, "情况复杂")


def test_clock_stop_hunan(profiles):
    """湖南 第二十八条: 鉴定 time is not counted."""
    m = profiles["hunan"].objection
    s = cases.start_case(m, D(2026, 2, 10), CAL)
    assert s.due_on == D(2026, 2, 13)
    stopped = cases.stop_clock(m, s, D(2026, 2, 11), "鉴定")
    assert stopped.due_on is None and stopped.clock_stopped
    assert not cases.is_overdue(stopped.due_on, D(2026, 3, 30))
    with pytest.raises(CaseError, match="先恢复计时"):
        cases.apply(m, stopped, "uphold", D(2026, 2, 12), CAL)
    resumed = cases.resume_clock(m, stopped, D(2026, 2, 13), CAL)
    assert resumed.stops == ((D(2026, 2, 11), D(2026, 2, 12)),)
    assert resumed.due_on == D(2026, 2, 24)  # 02-13, 02-14 (make-up), 02-24
    # an extension after a stop keeps the stop
    assert cases.extend(m, resumed, D(2026, 2, 20), CAL, "情况复杂").due_on == D(2026, 2, 27)
    # a known interval at once
    assert cases.with_stop(m, s, D(2026, 2, 11), D(2026, 2, 12), "鉴定", CAL).due_on == D(2026, 2, 24)


def test_clock_stop_reasons(profiles):
    m = profiles["hunan"].objection
    s = cases.start_case(m, D(2026, 2, 10), CAL)
    with pytest.raises(CaseError, match="中止事由"):
        cases.stop_clock(m, s, D(2026, 2, 11), "出差")
    hm = profiles["hunan-mi"].objection  # no clock stops in 湖南医保 第十七条
    with pytest.raises(CaseError, match="不能中止"):
        cases.stop_clock(hm, cases.start_case(hm, D(2026, 2, 10), CAL), D(2026, 2, 11), "鉴定")


def test_hunan_objection_reject_then_review(profiles):
    m = profiles["hunan"].objection
    s = cases.start_case(m, D(2025, 9, 30), CAL)
    assert cases.allowed_actions(m, s, "department") == ("uphold", "reject")
    assert cases.allowed_actions(m, s, "applicant") == ()
    with pytest.raises(CaseError):
        cases.apply(m, s, "uphold", D(2025, 10, 9), CAL, role="operator")
    s = cases.apply(m, s, "reject", D(2025, 10, 9), CAL, role="department")
    # 湖南 第二十八条第三款: a review window (15 WD, editable default) that closes the case when unused
    assert s.step == "rejected" and s.due_on == D(2025, 10, 29)
    assert not cases.lapsed(m, s, D(2025, 10, 29)) and cases.lapsed(m, s, D(2025, 10, 30))
    closed = cases.lapse(m, s, D(2025, 11, 3), CAL)
    assert closed.step == "closed" and closed.closed_on == D(2025, 10, 30)
    with pytest.raises(CaseError, match="届满"):
        cases.apply(m, s, "request_review", D(2025, 10, 30), CAL, role="applicant")
    s = cases.apply(m, s, "request_review", D(2025, 10, 10), CAL, role="applicant")
    assert s.step == "review" and s.due_on == D(2025, 10, 14)  # 10-11 make-up, 10-13, 10-14
    s = cases.apply(m, s, "uphold", D(2025, 10, 13), CAL)
    assert s.step == "upheld" and s.terminal and s.closed_on == D(2025, 10, 13)
    with pytest.raises(CaseError, match="已办结"):
        cases.apply(m, s, "reject", D(2025, 10, 14), CAL)


def test_unknown_action_and_backdating(profiles):
    m = profiles["hunan"].objection
    s = cases.start_case(m, D(2026, 2, 10), CAL)
    with pytest.raises(CaseError, match="不能执行"):
        cases.apply(m, s, "approve", D(2026, 2, 11), CAL)
    with pytest.raises(CaseError, match="早于"):
        cases.apply(m, s, "uphold", D(2026, 2, 9), CAL)


def test_hainan_objection_chain(profiles):
    """海南 第三十八–四十条: triage 3 WD (forward within 2), accept 3, investigate 7 (+7), review 2."""
    m = profiles["hainan"].objection
    s = cases.start_case(m, D(2026, 4, 30), CAL)
    assert s.due_on == D(2026, 5, 8)
    assert cases.action_due(m, s, "forward", CAL) == D(2026, 5, 7)
    assert cases.action_due(m, s, "correct", CAL) == D(2026, 5, 8)
    assert cases.allowed_actions(m, s, "operator") == ("correct", "forward")
    s = cases.apply(m, s, "forward", D(2026, 5, 7), CAL, role="operator")
    assert (s.step, s.due_on) == ("accept", D(2026, 5, 11))  # 05-08, 05-09 make-up, 05-11
    s = cases.apply(m, s, "accept", D(2026, 5, 11), CAL, role="provider")
    assert (s.step, s.due_on) == ("investigate", D(2026, 5, 20))
    assert cases.extend(m, s, D(2026, 5, 20), CAL, "情况复杂").due_on == D(2026, 5, 29)
    s = cases.apply(m, s, "decide", D(2026, 5, 15), CAL, role="provider")
    assert (s.step, s.due_on) == ("review", D(2026, 5, 19))
    s = cases.apply(m, s, "delete", D(2026, 5, 18), CAL, role="operator")
    assert s.step == "deleted" and s.terminal


@pytest.mark.parametrize("pid,approve_on,earliest", [
    ("hunan", D(2026, 2, 12), D(2026, 2, 27)),  # notice 02-13, 02-14, 02-24, 02-25, 02-26; decision 02-27
    ("hunan-mi", D(2025, 9, 30), D(2025, 10, 15)),  # notice 10-09, 10-10, 10-11, 10-13, 10-14
    ("guangdong", D(2025, 12, 31), D(2026, 1, 9)),
    ("jiangsu", D(2026, 4, 30), D(2026, 5, 12)),
])
def test_repair_public_notice_minimum(profiles, pid, approve_on, earliest):
    """湖南 第三十条（三）（四）; 湖南医保 第二十五条: the notice lasts at least 5 working days and the
    decision comes when it has ended ("公示期满无异议的"): refused on its 5th day, allowed after."""
    m = profiles[pid].repair
    s = cases.start_case(m, approve_on, CAL)
    s = cases.apply(m, s, "approve", approve_on, CAL)
    assert s.step == "notice" and s.earliest_on == earliest
    day_before = D.fromordinal(earliest.toordinal() - 1)
    with pytest.raises(CaseError, match="公示期不少于5个工作日"):
        cases.apply(m, s, "no_objection", day_before, CAL)
    back = cases.apply(m, s, "objection", day_before, CAL)  # an objection may come any time
    assert back.step == "review"
    done = cases.apply(m, s, "no_objection", earliest, CAL)
    assert done.step == "repaired" and done.closed_on == earliest


@pytest.mark.parametrize("pid", ["hunan", "hunan-mi", "guangdong", "jiangsu"])
def test_waived_notice_has_no_period(profiles, pid):
    """A notice that would disclose a non-public record is not held (湖南 第四条; 海南 第五条): no
    notice period, the decision on the day the step is entered, no objection "during the notice",
    and a changed calendar does not bring the notice back."""
    m = profiles[pid].repair
    s = cases.apply(m, cases.start_case(m, D(2026, 2, 12), CAL), "approve", D(2026, 2, 12), CAL)
    assert not cases.notice_waived(m, s) and "objection" in cases.allowed_actions(m, s, "department")
    w = cases.waive_notice(m, s)
    assert cases.notice_waived(m, w) and w.earliest_on is None and w.due_on == s.due_on
    assert cases.allowed_actions(m, w, "department") == ("no_objection",)
    with pytest.raises(CaseError, match="不予公示"):
        cases.apply(m, w, "objection", D(2026, 2, 12), CAL)
    with pytest.raises(CaseError):
        cases.waive_notice(m, w)  # once only
    assert cases.recompute(m, w, CAL).earliest_on is None
    assert cases.recompute(m, s, CAL).earliest_on == s.earliest_on
    done = cases.apply(m, w, "no_objection", D(2026, 2, 12), CAL)  # day zero itself
    assert done.step == "repaired" and done.closed_on == D(2026, 2, 12)
    review = cases.start_case(m, D(2026, 2, 12), CAL)
    with pytest.raises(CaseError):
        cases.waive_notice(m, review)  # only a notice step


def test_hainan_repair(profiles):
    m = profiles["hainan"].repair
    s = cases.start_case(m, D(2025, 9, 30), CAL)
    s = cases.apply(m, s, "accept", D(2025, 10, 9), CAL)
    assert (s.step, s.due_on) == ("verify", D(2025, 10, 22))
    s = cases.apply(m, s, "refuse", D(2025, 10, 10), CAL)
    assert s.step == "refused" and s.terminal


@pytest.mark.parametrize("due,today,overdue", [
    (D(2026, 2, 13), D(2026, 2, 13), False),
    (D(2026, 2, 13), D(2026, 2, 14), True),
    (None, D(2030, 1, 1), False),
])
def test_is_overdue(due, today, overdue):
    assert cases.is_overdue(due, today) is overdue


@pytest.mark.parametrize("due,today,soon", [
    (D(2026, 2, 24), D(2026, 2, 14), True),  # 1 WD left across the holiday
    (D(2026, 2, 25), D(2026, 2, 14), False),
    (D(2026, 2, 24), D(2026, 2, 24), True),
    (D(2026, 2, 24), D(2026, 2, 25), False),  # overdue, not "soon"
    (None, D(2026, 2, 24), False),
])
def test_due_soon(due, today, soon):
    assert cases.due_soon(due, today, CAL) is soon
