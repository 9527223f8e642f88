"""Early-warning rules (淮安 三（二）: "利用大数据对卫生健康社会信用状况进行监测、评价和预警，对失信情况
严重的，及时提出预警报告，督促其进行整改"), as pure functions over one subject's facts (四（二）
"信用预警分析实时开展" is the plan's implementation stage, a goal of its timetable, not a rule). Thresholds come from the profile's ``[warnings]`` section.

Each finding has a ``key`` naming the event it is about (the licence's end date, the record that
was the second one, the graded year, the complaint that crossed the threshold), so that
``credit-portal warnings run`` raises it once however often it runs.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .windows import add_months

LABELS = {"licence_expiring": "许可证即将到期", "second_general": "12个月内再次发生一般失信",
          "grade_drop": "信用等级下降", "complaints": "投诉较多"}


@dataclass(frozen=True)
class Finding:
    rule: str
    key: str
    message: str
    detail: dict = field(default_factory=dict)


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def licence_expiring(subject_id: int, valid_until: date | None, today: date, rules: Any) -> Finding | None:
    """The licence ends within ``licence_days`` (or ended already and nothing replaced it)."""
    if valid_until is None or valid_until > today + timedelta(days=rules.licence_days):
        return None
    when = "已于" if valid_until < today else "将于"
    return Finding("licence_expiring", f"licence:{subject_id}:{valid_until}",
                   f"执业（经营）许可证{when} {valid_until} 到期，请督促及时办理延续或注销。",
                   {"valid_until": valid_until.isoformat()})


def second_general(subject_id: int, records: Iterable[Any], today: date, rules: Any) -> Finding | None:
    """A 一般失信 record decided within ``second_general_months`` of an earlier one, the later of the
    two inside the same period before today."""
    general = sorted((r for r in records if _get(r, "info_class") == "dishonest" and _get(r, "severity") == "general"
                      and _get(r, "status") == "active" and _get(r, "decided_on") <= today),
                     key=lambda r: (_get(r, "decided_on"), _get(r, "id")))
    if len(general) < 2:
        return None
    last = general[-1]
    since = add_months(_get(last, "decided_on"), -rules.second_general_months)
    if _get(last, "decided_on") < add_months(today, -rules.second_general_months):
        return None
    earlier = [r for r in general[:-1] if _get(r, "decided_on") >= since]
    if not earlier:
        return None
    ref = _get(last, "lineage_id") or _get(last, "id")
    return Finding("second_general", f"second:{subject_id}:{ref}",
                   f"{rules.second_general_months} 个月内再次发生一般失信行为（{_get(earlier[-1], 'decided_on')}、"
                   f"{_get(last, 'decided_on')}），请加强监管、约谈提醒。",
                   {"records": [_get(r, "lineage_id") or _get(r, "id") for r in (earlier[-1], last)]})


def grade_drop(subject_id: int, grades: Sequence[tuple[int, str]], letters: list[str], rules: Any) -> Finding | None:
    """The latest grade is ``grade_drop_levels`` or more below the one before (by year)."""
    known = sorted((y, g) for y, g in grades if g in letters)
    if len(known) < 2:
        return None
    (y0, g0), (y1, g1) = known[-2], known[-1]
    if letters.index(g1) - letters.index(g0) < rules.grade_drop_levels:
        return None
    return Finding("grade_drop", f"grade:{subject_id}:{y1}",
                   f"信用等级由 {y0} 年度的 {g0} 级降至 {y1} 年度的 {g1} 级，请分析原因、加强监管。",
                   {"from": [y0, g0], "to": [y1, g1]})


def many_complaints(subject_id: int, complaints: Iterable[tuple[int, date]], today: date, rules: Any) -> Finding | None:
    """``complaints_count`` or more complaints received within ``complaints_months``."""
    since = add_months(today, -rules.complaints_months)
    recent = sorted((cid, on) for cid, on in complaints if since < on <= today)
    if len(recent) < rules.complaints_count:
        return None
    return Finding("complaints", f"complaints:{subject_id}:{recent[-1][0]}",
                   f"{rules.complaints_months} 个月内收到投诉 {len(recent)} 件，请核查处理。", {"count": len(recent)})
