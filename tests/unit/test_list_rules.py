"""The pure list rules (portal.domain.lists): transitions, working-day deadlines across 春节 2027,
the red-list criteria and 海南 第十四条 escalation."""
from __future__ import annotations

from datetime import date

import pytest

from portal.domain import lists as rules
from portal.domain.workdays import WorkCalendar
from portal.profiles import load_profile

HAINAN = load_profile("hainan")
CAL = WorkCalendar()


@pytest.mark.parametrize(("kind", "state", "action", "to"), [
    (rules.SERIOUS, rules.PROPOSED, "notify", rules.NOTIFIED),
    (rules.SERIOUS, rules.NOTIFIED, "decide", rules.DECIDED),
    (rules.SERIOUS, rules.DECIDED, "publish", rules.LISTED),
    (rules.SERIOUS, rules.LISTED, "exit", rules.EXITED),
    (rules.RED, rules.PROPOSED, "notice", rules.NOTICE),
    (rules.RED, rules.LISTED, "remove", rules.REMOVED),
])
def test_transitions(kind, state, action, to):
    assert rules.next_state(kind, state, action) == to


@pytest.mark.parametrize(("kind", "state", "action"), [
    (rules.SERIOUS, rules.PROPOSED, "decide"),  # no decision without the prior notice
    (rules.SERIOUS, rules.PROPOSED, "publish"),
    (rules.SERIOUS, rules.NOTIFIED, "publish"),  # nothing public before the decision
    (rules.SERIOUS, rules.LISTED, "remove"),  # only the red list is left on new dishonesty
    (rules.RED, rules.PROPOSED, "notify"),
    (rules.SERIOUS, rules.EXITED, "exit"),
])
def test_refused_transitions_say_what_may_be_done(kind, state, action):
    with pytest.raises(rules.ListRuleError) as err:
        rules.next_state(kind, state, action)
    assert "可以办理" in err.value.message


def test_deadlines_across_spring_festival_2027():
    r = HAINAN.lists
    # Friday 2027-01-29 + 5 WD: 02-01..02-04, then 02-05..02-08 off (春节 + weekend), 02-09.
    assert rules.step_dates(rules.SERIOUS, rules.PROPOSED, date(2027, 1, 29), r, CAL).due_on == date(2027, 2, 9)
    notified = rules.step_dates(rules.SERIOUS, rules.NOTIFIED, date(2027, 2, 4), r, CAL)
    assert notified.earliest_on == date(2027, 2, 15) and notified.due_on == date(2027, 3, 1)
    assert rules.report_due(date(2027, 2, 3), r, CAL) == date(2027, 2, 12)  # 02-04, then 02-09 … 02-12
    assert rules.step_dates(rules.RED, rules.NOTICE, date(2027, 1, 29), r, CAL).earliest_on == date(2027, 2, 9)
    # Without the holiday the same start would be due on 02-05.
    plain = WorkCalendar(overrides={date(2027, 2, 5): True, date(2027, 2, 8): True})
    assert rules.step_dates(rules.SERIOUS, rules.PROPOSED, date(2027, 1, 29), r, plain).due_on == date(2027, 2, 5)


def test_may_decide():
    assert rules.may_decide(rules.NOTIFIED, date(2027, 2, 15), date(2027, 2, 15), False)
    assert rules.may_decide(rules.NOTIFIED, date(2027, 2, 16), date(2027, 2, 15), False) is None
    assert rules.may_decide(rules.NOTIFIED, date(2027, 2, 10), date(2027, 2, 15), True) is None
    assert "公示期" in rules.may_decide(rules.NOTICE, date(2027, 2, 8), date(2027, 2, 9), False)


def _rec(decided_on, info_class="dishonest", severity="general", record_type="penalty", status="active", id=0):
    return {"decided_on": decided_on, "info_class": info_class, "severity": severity, "record_type": record_type,
            "status": status, "id": id}


def test_red_list_criteria():
    letters, r, today = ["A", "B", "C", "D"], HAINAN.lists, date(2027, 1, 29)
    assert rules.red_list_refusal("A", letters, [], today, r) is None
    assert "A" in rules.red_list_refusal("B", letters, [], today, r)
    assert rules.red_list_refusal(None, letters, [], today, r)
    recent = _rec(date(2025, 3, 1))
    assert "失信" in rules.red_list_refusal("A", letters, [recent], today, r)
    assert rules.red_list_refusal("A", letters, [_rec(date(2023, 12, 1))], today, r) is None  # 36 months ago
    assert rules.red_list_refusal("A", letters, [_rec(date(2026, 1, 1), info_class="positive")], today, r) is None


def test_escalation_needs_the_count_of_one_type_within_the_period():
    r, today = HAINAN.lists, date(2027, 1, 29)
    assert r.escalate_count == 3 and r.escalate_months == 12
    three = [_rec(date(2026, m, 1), id=m) for m in (3, 6, 9)]
    assert [x["id"] for x in rules.escalation_records(three, today, r)] == [3, 6, 9]
    assert rules.escalation_records(three[:2], today, r) == []
    mixed = three[:2] + [_rec(date(2026, 9, 1), record_type="inspection", id=9)]
    assert rules.escalation_records(mixed, today, r) == []  # 同类: one type
    old = [_rec(date(2025, 12, 1), id=1)] + three[1:]
    assert rules.escalation_records(old, today, r) == []  # outside 12 months
    repaired = three[:2] + [_rec(date(2026, 9, 1), status="repaired", id=9)]
    assert rules.escalation_records(repaired, today, r) == []
    assert rules.escalation_records(three, today, load_profile("hunan").lists) == []  # hunan: no escalation


def test_profiles_cite_the_report_deadline():
    mi = load_profile("hunan-mi").lists
    assert mi.report_workdays == 5 and "第十八条" in mi.article_for("report_workdays") and mi.hearing
    assert not mi.is_default("report_workdays") and HAINAN.lists.is_default("report_workdays")
