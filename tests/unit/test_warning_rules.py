"""The pure early-warning rules (portal.domain.warnings, 淮安 三（二）) on jiangsu's thresholds."""
from __future__ import annotations

from datetime import date, timedelta

from portal.domain import warnings as rules
from portal.profiles import load_profile

R = load_profile("jiangsu").warnings
TODAY = date(2027, 2, 26)


def _rec(on, id, severity="general", status="active", info_class="dishonest"):
    return {"decided_on": on, "id": id, "lineage_id": id, "severity": severity, "status": status,
            "info_class": info_class}


def test_licence_expiring_window_and_key():
    assert rules.licence_expiring(1, TODAY + timedelta(days=R.licence_days), TODAY, R).key == \
        f"licence:1:{TODAY + timedelta(days=R.licence_days)}"
    assert rules.licence_expiring(1, TODAY + timedelta(days=R.licence_days + 1), TODAY, R) is None
    assert "已于" in rules.licence_expiring(1, TODAY - timedelta(days=1), TODAY, R).message
    assert rules.licence_expiring(1, None, TODAY, R) is None


def test_second_general_record_within_twelve_months():
    pair = [_rec(date(2026, 5, 10), 1), _rec(date(2027, 1, 20), 2)]
    found = rules.second_general(7, pair, TODAY, R)
    assert found.key == "second:7:2" and found.detail["records"] == [1, 2]
    assert rules.second_general(7, [_rec(date(2025, 12, 1), 1), _rec(date(2027, 1, 20), 2)], TODAY, R) is None
    assert rules.second_general(7, [pair[0], _rec(date(2027, 1, 20), 2, severity="minor")], TODAY, R) is None
    assert rules.second_general(7, [pair[0], _rec(date(2027, 1, 20), 2, status="repaired")], TODAY, R) is None
    old = [_rec(date(2025, 1, 1), 1), _rec(date(2025, 6, 1), 2)]  # a pair, but long ago
    assert rules.second_general(7, old, TODAY, R) is None


def test_grade_drop_by_two_levels():
    letters = ["A", "B", "C", "D"]
    assert rules.grade_drop(3, [(2025, "A"), (2026, "C")], letters, R).key == "grade:3:2026"
    assert rules.grade_drop(3, [(2025, "A"), (2026, "B")], letters, R) is None
    assert rules.grade_drop(3, [(2025, "D"), (2026, "A")], letters, R) is None
    assert rules.grade_drop(3, [(2026, "D")], letters, R) is None


def test_many_complaints_within_the_period():
    recent = [(i, TODAY - timedelta(days=30 * i)) for i in range(1, R.complaints_count + 1)]
    assert rules.many_complaints(5, recent, TODAY, R).key == f"complaints:5:{R.complaints_count}"
    assert rules.many_complaints(5, recent[:-1], TODAY, R) is None
    stale = recent[:-1] + [(99, TODAY - timedelta(days=400))]
    assert rules.many_complaints(5, stale, TODAY, R) is None
