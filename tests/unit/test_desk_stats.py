"""``domain.desk_stats``: which closed cases count as decided, and decided within every limit."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace as E

from portal.domain.desk_stats import last_months, staff_steps_in_time

D = date


def ev(on, role, action, frm, to, due=None):
    return E(on=on, role=role, action=action, from_state=frm, to_state=to, due_on=due)


FILED = ev(D(2026, 10, 5), "applicant", "file", "", "verify", D(2026, 10, 12))


def test_decided_on_the_last_day_is_in_time_the_day_after_is_not():
    assert staff_steps_in_time([FILED, ev(D(2026, 10, 12), "department", "reject", "verify", "rejected")]) is True
    assert staff_steps_in_time([FILED, ev(D(2026, 10, 13), "department", "reject", "verify", "rejected")]) is False


def test_an_extension_moves_the_limit_and_a_stopped_clock_has_none():
    extended = ev(D(2026, 10, 9), "department", "extend", "verify", "verify", D(2026, 10, 15))
    assert staff_steps_in_time([FILED, extended, ev(D(2026, 10, 15), "department", "reject", "verify",
                                                    "rejected")]) is True
    stopped = ev(D(2026, 10, 9), "department", "stop_clock", "verify", "verify", None)
    assert staff_steps_in_time([FILED, stopped, ev(D(2026, 11, 30), "department", "reject", "verify",
                                                   "rejected")]) is True


def test_one_late_step_makes_the_case_late_even_if_the_review_was_quick():
    late_first = ev(D(2026, 10, 20), "department", "reject", "verify", "rejected", D(2026, 10, 27))
    review_asked = ev(D(2026, 10, 21), "applicant", "request_review", "rejected", "review", D(2026, 10, 28))
    reviewed = ev(D(2026, 10, 22), "reviewer", "reject", "review", "closed")
    assert staff_steps_in_time([FILED, late_first, review_asked, reviewed]) is False


def test_withdrawn_or_never_decided_cases_do_not_count():
    assert staff_steps_in_time([FILED, ev(D(2026, 10, 6), "applicant", "withdraw", "verify", "withdrawn")]) is None
    lapsed = ev(D(2026, 10, 13), "system", "close", "verify", "closed")
    assert staff_steps_in_time([FILED, lapsed]) is None
    materials = ev(D(2026, 10, 6), "department", "request_materials", "verify", "verify", D(2026, 10, 12))
    assert staff_steps_in_time([FILED, materials, lapsed]) is None  # asked for material, decided nothing


def test_last_months_cross_the_year():
    assert last_months(D(2026, 2, 10), 4) == ["2026-02", "2026-01", "2025-12", "2025-11"]
