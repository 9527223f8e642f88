"""Grades from records under each profile's scoring table (portal.domain.grading)."""
from __future__ import annotations

import json
from datetime import date
from itertools import count
from types import SimpleNamespace

import pytest

from portal.domain.grading import add_months, assessed_period, grade_subject
from portal.profiles import load_profile

AS_OF = date(2026, 1, 20)  # grades for 2025 (湖南 第十八条; 阳山 四（三）: generated on 20 January)
IN_YEAR = date(2025, 6, 1)
_ids = count(1)


def rec(info_class="dishonest", severity="general", record_type=None, decided_on=IN_YEAR, status="active",
        **kw):
    record_type = record_type or {"basic": "licence", "positive": "commendation", "dishonest": "penalty",
                                  "serious": "serious_list"}[info_class]
    if info_class in ("basic", "positive"):
        severity = None
    return {"id": next(_ids), "info_class": info_class, "record_type": record_type, "severity": severity,
            "title": f"{record_type} {severity or ''}".strip(), "decided_on": decided_on, "status": status, **kw}


def general():
    return rec()


def minor():
    return rec(severity="minor")


def serious_dishonesty():
    return rec(severity="serious")


def serious_list():
    return rec("serious", "serious")


def positive():
    return rec("positive")


# profile -> case -> (letter, score). The numbers are each profile's editable defaults.
CASES = {
    "clean": lambda: [],
    "basic only": lambda: [rec("basic"), rec("basic", record_type="commitment")],
    "one minor": lambda: [minor()],
    "one general": lambda: [general()],
    "one general + positives": lambda: [general(), positive(), positive(), positive()],
    "two general": lambda: [general(), general()],
    "serious dishonesty": lambda: [serious_dishonesty()],
    "serious list": lambda: [serious_list()],
    "many general": lambda: [general() for _ in range(12)],
}
EXPECTED = {
    "hunan": {"clean": ("A", 100), "basic only": ("A", 100), "one minor": ("A", 98), "one general": ("B", 90),
              "one general + positives": ("B", 94), "two general": ("B", 80), "serious dishonesty": ("C", 70),
              "serious list": ("D", 60), "many general": ("D", 0)},
    "hunan-mi": {"clean": ("A", 100), "basic only": ("A", 100), "one minor": ("A", 98),
                 "one general": ("B", 90), "one general + positives": ("B", 94), "two general": ("B", 80),
                 "serious dishonesty": ("C", 70), "serious list": ("D", 60), "many general": ("D", 0)},
    "hainan": {"clean": ("A", 100), "basic only": ("A", 100), "one minor": ("A", 97), "one general": ("C", 85),
               "one general + positives": ("C", 89), "two general": ("C", 70), "serious dishonesty": ("D", 60),
               "serious list": ("D", 60), "many general": ("D", 0)},
    "guangdong": {"clean": ("A", 100), "basic only": ("A", 100), "one minor": ("A", 98),
                  "one general": ("B", 90), "one general + positives": ("B", 94), "two general": ("C", 80),
                  "serious dishonesty": ("D", 65), "serious list": ("E", 55), "many general": ("E", 0)},
    "jiangsu": {"clean": ("A", 100), "basic only": ("A", 100), "one minor": ("A", 98), "one general": ("B", 90),
                "one general + positives": ("B", 94), "two general": ("B", 80), "serious dishonesty": ("C", 70),
                "serious list": ("D", 60), "many general": ("D", 0)},
}
TABLE = [(name, case, *expected) for name, cases in EXPECTED.items() for case, expected in cases.items()]


@pytest.fixture(scope="module")
def profiles():
    return {name: load_profile(name) for name in EXPECTED}


def _check_explained(result, profile):
    assert sum(e.delta for e in result.explanation) == result.score
    assert result.explanation[0].kind == "base" and result.explanation[0].delta == profile.scoring.base
    for e in result.explanation:
        assert e.article and e.rule_text, e
    for e in result.not_counted:
        assert e.delta == 0 and e.rule_text.startswith("未计入：")


@pytest.mark.parametrize("name, case, letter, score", TABLE, ids=[f"{t[0]}-{t[1]}" for t in TABLE])
def test_grade_table(profiles, name, case, letter, score):
    profile = profiles[name]
    records = CASES[case]()
    result = grade_subject(records, profile, AS_OF)
    assert (result.letter, result.score) == (letter, score)
    assert result.label == profile.grade(letter).label and result.meaning
    _check_explained(result, profile)
    moved = {e.record_id for e in result.explanation if e.kind == "record"}
    scored = {r["id"] for r in records if profile.scoring.rule_for(r)}
    assert moved == scored  # every record that can move the score is listed


@pytest.mark.parametrize("name", EXPECTED)
def test_clean_subject_gets_top_grade_and_penalties_lower_it(profiles, name):
    profile = profiles[name]
    top = grade_subject([], profile, AS_OF)
    assert top.letter == profile.grades[0].letter and top.score == profile.scoring.base
    ranks = [profile.grade_rank(grade_subject(CASES[c](), profile, AS_OF).letter)
             for c in ("clean", "one general", "two general", "serious list")]
    assert ranks == sorted(ranks) and ranks[-1] > ranks[0]


@pytest.mark.parametrize("name", EXPECTED)
def test_serious_list_gives_lowest_grade_whatever_the_score(profiles, name):
    profile = profiles[name]
    records = [serious_list()] + [positive() for _ in range(5)]
    result = grade_subject(records, profile, AS_OF)
    assert result.letter == profile.lowest_grade.letter
    overrides = [e for e in result.explanation if e.kind == "override"]
    assert [e.record_id for e in overrides] == [records[0]["id"]] and overrides[0].delta == 0
    _check_explained(result, profile)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("status", ["repaired", "withdrawn", "deleted", "superseded"])
def test_records_no_longer_in_force_are_ignored(profiles, name, status):
    profile = profiles[name]
    records = [rec("serious", "serious", status=status), rec(status=status)]
    result = grade_subject(records, profile, AS_OF)
    assert result.letter == profile.grades[0].letter and result.score == profile.scoring.base
    assert [e.record_id for e in result.not_counted] == [r["id"] for r in records]
    if status == "repaired":
        assert "信用修复" in result.not_counted[0].rule_text


def test_old_versions_are_ignored(profiles):
    result = grade_subject([rec(is_current=False)], profiles["hunan"], AS_OF)
    assert result.score == 100 and "取代" in result.not_counted[0].rule_text


def test_only_the_assessed_year_counts(profiles):
    profile = profiles["hunan"]
    records = [rec(decided_on=date(2024, 12, 31)), rec(decided_on=date(2025, 1, 1)),
               rec(decided_on=date(2025, 12, 31)), rec(decided_on=date(2026, 1, 5))]
    by_date = grade_subject(records, profile, AS_OF)
    by_year = grade_subject(records, profile, 2025)
    assert by_date == by_year
    assert (by_date.period_start, by_date.period_end, by_date.year) == (date(2025, 1, 1), date(2025, 12, 31), 2025)
    assert [e.record_id for e in by_date.explanation if e.kind == "record"] == [records[1]["id"], records[2]["id"]]
    assert by_date.score == 80
    reasons = {e.record_id: e.rule_text for e in by_date.not_counted}
    assert "之前" in reasons[records[0]["id"]] and "之后" in reasons[records[3]["id"]]


def test_serious_list_entries_count_while_still_published(profiles):
    profile = profiles["hainan"]
    listed_2023 = rec("serious", "serious", decided_on=date(2023, 3, 1))  # default window 36 months
    expired = rec("serious", "serious", decided_on=date(2022, 1, 1), publish_until=date(2024, 12, 31))
    result = grade_subject([listed_2023, expired], profile, AS_OF)
    assert result.letter == "D"
    assert [e.record_id for e in result.explanation if e.kind == "record"] == [listed_2023["id"]]
    assert "仍在公示期内" in result.explanation[1].rule_text
    assert "届满" in result.not_counted[0].rule_text
    assert grade_subject([listed_2023], profile, 2027).letter == "A"  # window's last day was 2026-02-28


def test_caps_limit_what_one_rule_can_move(profiles):
    profile = profiles["hunan"]
    result = grade_subject([minor() for _ in range(5)], profile, AS_OF)
    deltas = [e.delta for e in result.explanation if e.kind == "record"]
    assert deltas == [-2, -2, -2, 0, 0] and result.score == 94
    assert "已达上限" in result.explanation[-1].rule_text
    _check_explained(result, profile)


def test_ceiling_clamp_is_explained(profiles):
    profile = profiles["hunan"]
    result = grade_subject([positive(), positive()], profile, AS_OF)
    assert result.score == 100
    clamp = result.explanation[-1]
    assert clamp.kind == "clamp" and clamp.delta == -4
    _check_explained(result, profile)


def test_floor_clamp_is_explained(profiles):
    result = grade_subject(CASES["many general"](), profiles["hunan"], AS_OF)
    assert result.explanation[-1].kind == "clamp" and result.explanation[-1].delta == 20
    assert "不低于 0 分" in result.explanation[-1].rule_text


def test_redlist_rule_comes_before_generic_positive(profiles):
    profile = profiles["jiangsu"]
    result = grade_subject([general(), rec("positive", record_type="redlist")], profile, AS_OF)
    assert [e.rule_id for e in result.explanation if e.kind == "record"] == ["dishonest-general", "redlist"]
    assert result.score == 95 and result.letter == "A"


def test_rolling_period_for_dynamic_evaluation(profiles):
    profile = profiles["hunan-mi"]
    as_of = date(2026, 6, 30)
    assert assessed_period(profile, as_of) == (date(2025, 7, 1), as_of)
    records = [rec(decided_on=date(2025, 6, 30)), rec(decided_on=date(2025, 7, 1)), rec(decided_on=as_of)]
    result = grade_subject(records, profile, as_of)
    assert result.score == 80 and result.year == 2026
    assert [e.record_id for e in result.explanation if e.kind == "record"] == [r["id"] for r in records[1:]]


def test_objects_work_like_dicts(profiles):
    records = [general(), serious_list()]
    as_objects = [SimpleNamespace(**r) for r in records]
    assert grade_subject(as_objects, profiles["hainan"], AS_OF) == grade_subject(records, profiles["hainan"], AS_OF)


def test_result_serialises_to_json(profiles):
    result = grade_subject([general(), rec("basic"), serious_list()], profiles["guangdong"], AS_OF)
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["letter"] == "E" and data["profile_id"] == "guangdong"
    assert sum(e["delta"] for e in data["explanation"]) == data["score"]
    assert data["not_counted"][0]["rule_text"] == "未计入：基础信息不计分"


def test_bad_period_argument(profiles):
    with pytest.raises(TypeError):
        grade_subject([], profiles["hunan"], "2025")


@pytest.mark.parametrize("start, months, expected", [
    (date(2025, 1, 31), 1, date(2025, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 3, 15), 12, date(2026, 3, 15)), (date(2026, 6, 30), -12, date(2025, 6, 30)),
    (date(2025, 12, 1), 1, date(2026, 1, 1)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected
