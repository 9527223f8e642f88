"""List procedures as pure rules (issue 16): the serious-dishonesty list and the red list, their
states, their deadlines, the red-list criteria and the escalation of repeated 一般失信.

Serious list (湖南 第十五条; 海南 第十五条、第十八条; 湖南医保 第十八条):
  proposed --notify--> notified --decide--> decided --publish--> listed --exit--> exited
  (告知 "作出决定的事由、依据和当事人依法享有的权利", then 陈述申辩 / 听证 within the defence window,
  then the decision "载明事由、依据、失信惩戒措施提示、移出条件和程序以及救济措施", then public
  listing; the report to the province is due from the decision, 湖南医保 第十八条第三款 "认定后5个工作日内").
  ``drop`` ends a proposal before the decision (the defence was accepted, or the facts fail).
Red list (淮安 三（一）守信红名单; 海南 第三十三条、第四十七条):
  proposed --notice--> notice --decide--> decided --publish--> listed --remove|exit--> removed|exited
  (the public notice lasts at least ``red_notice_workdays``; a new dishonesty record removes the entry).

No Flask, no database: the service (``portal.services.lists``) stores the dates these functions
compute (the due date is stored, overdue is derived: DESIGN.md "Deadlines").
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .windows import add_months
from .workdays import WorkCalendar, add_workdays

SERIOUS, RED = "serious", "red"
KINDS = {SERIOUS: "严重失信主体名单", RED: "守信红名单"}
RECORD_TYPE = {SERIOUS: "serious_list", RED: "redlist"}

PROPOSED, NOTIFIED, NOTICE, DECIDED, LISTED = "proposed", "notified", "notice", "decided", "listed"
DROPPED, EXITED, REMOVED = "dropped", "exited", "removed"
TERMINAL = frozenset({DROPPED, EXITED, REMOVED})
STATE_LABELS = {
    PROPOSED: "已提出，待告知", NOTIFIED: "已告知，陈述申辩期", NOTICE: "公示中（拟列入）", DECIDED: "已作出认定决定，待公开",
    LISTED: "已列入并公开", DROPPED: "不予列入", EXITED: "已移出", REMOVED: "因新增失信信息已移出",
}
#: (kind, state) -> {action: next state}
TRANSITIONS: dict[tuple[str, str], dict[str, str]] = {
    (SERIOUS, PROPOSED): {"notify": NOTIFIED, "drop": DROPPED},
    (SERIOUS, NOTIFIED): {"decide": DECIDED, "drop": DROPPED},
    (SERIOUS, DECIDED): {"publish": LISTED},
    (SERIOUS, LISTED): {"exit": EXITED},
    (RED, PROPOSED): {"notice": NOTICE, "drop": DROPPED},
    (RED, NOTICE): {"decide": DECIDED, "drop": DROPPED},
    (RED, DECIDED): {"publish": LISTED},
    (RED, LISTED): {"remove": REMOVED, "exit": EXITED},
}
ACTION_LABELS = {"notify": "送达事先告知书", "notice": "发布拟列入公示", "decide": "作出认定决定", "publish": "公开列入名单",
                 "exit": "移出名单", "remove": "因新增失信信息移出", "drop": "不予列入", "defence": "登记陈述申辩",
                 "report": "报送省级部门", "propose": "提出列入建议"}
#: Why an entry leaves a list.
EXIT_REASONS = {"expiry": "列入期限届满", "repair": "信用修复", "objection": "异议成立，撤销列入", "other": "其他法定情形"}


class ListRuleError(ValueError):
    def __init__(self, message: str, field: str = "action", status: int = 409):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def next_state(kind: str, state: str, action: str) -> str:
    """The state ``action`` leads to, or :class:`ListRuleError` naming what may be done instead."""
    allowed = TRANSITIONS.get((kind, state), {})
    if action not in allowed:
        can = "、".join(ACTION_LABELS[a] for a in allowed) or "无（已办结）"
        raise ListRuleError(f"当前状态为“{STATE_LABELS.get(state, state)}”，不能{ACTION_LABELS.get(action, action)}；"
                            f"可以办理：{can}")
    return allowed[action]


@dataclass(frozen=True)
class StepDates:
    """What entering a state fixes: the day the next act is due, and the first day it may be done."""

    due_on: date | None
    earliest_on: date | None = None


def step_dates(kind: str, state: str, entered_on: date, rules: Any, calendar: WorkCalendar) -> StepDates:
    """Due dates per step, in working days from the day the step was entered (day zero,
    民法典 第二百零一条; ``domain.workdays``)."""
    wd = lambda n: add_workdays(entered_on, n, calendar)  # noqa: E731
    if state == PROPOSED:
        return StepDates(wd(rules.notice_workdays))
    if state == NOTIFIED:  # decide after the defence window, within decide_workdays of its end
        window_end = wd(rules.defence_workdays)
        return StepDates(add_workdays(window_end, rules.decide_workdays, calendar), window_end)
    if state == NOTICE:  # red list: the notice lasts at least red_notice_workdays
        first = wd(rules.red_notice_workdays)
        return StepDates(add_workdays(first, rules.decide_workdays, calendar), first)
    if state == DECIDED:
        return StepDates(wd(rules.publish_workdays))
    return StepDates(None)


def report_due(decided_on: date, rules: Any, calendar: WorkCalendar) -> date:
    """湖南医保 第十八条第三款: reported to the province within ``report_workdays`` of the decision."""
    return add_workdays(decided_on, rules.report_workdays, calendar)


def listed_until(kind: str, published_on: date, rules: Any) -> date:
    months = rules.listing_months if kind == SERIOUS else rules.red_listing_months
    return add_months(published_on, months)


def may_decide(state: str, today: date, earliest_on: date | None, defence_received: bool) -> str | None:
    """Why a decision may not be made today (``None``: it may). The defence window protects the
    subject's right to be heard (海南 第十八条; 湖南医保 第十八条): no decision before it ends unless
    the subject already stated its defence (or waived it)."""
    if earliest_on is None or today > earliest_on or defence_received:
        return None
    if state == NOTICE:
        return f"拟列入公示期至 {earliest_on} 届满，届满后方可作出决定"
    return f"陈述申辩期至 {earliest_on} 届满（或当事人已陈述申辩）后方可作出决定"


def overdue(due_on: date | None, today: date, done: bool = False) -> bool:
    return due_on is not None and not done and today > due_on


# --- criteria -------------------------------------------------------------------------------

DISHONEST = frozenset({"dishonest", "serious"})


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def red_list_refusal(grade_letter: str | None, letters: list[str], records: Iterable[Any], today: date,
                     rules: Any) -> str | None:
    """Why a subject does not meet the profile's red-list criteria (``None``: it does): a formal
    grade at least ``red_min_grade`` and no dishonesty record decided in the last
    ``red_clean_months`` (淮安 三（一）; 海南 第三十三条 "信用状况良好")."""
    if grade_letter not in letters or letters.index(grade_letter) > letters.index(rules.red_min_grade):
        return f"最近一期正式信用等级须为 {rules.red_min_grade} 级或以上"
    since = add_months(today, -rules.red_clean_months)
    for r in records:
        if _get(r, "info_class") in DISHONEST and _get(r, "decided_on") >= since and _get(r, "status") != "deleted":
            return f"近 {rules.red_clean_months} 个月内有失信记录"
    return None


def escalation_records(records: Iterable[Any], today: date, rules: Any) -> list[Any]:
    """海南 第十四条第三款: "1年内累计发生多次同类一般失信行为…可以升级失信程度". The 一般失信 records
    decided within ``escalate_months`` before today when they reach ``escalate_count`` records of
    one type (same-type acts), else []. Escalation is a proposal for the serious list, never a
    silent change of the records."""
    if not rules.escalate_count:
        return []
    since = add_months(today, -rules.escalate_months)
    by_type: dict[str, list[Any]] = {}
    for r in records:
        if (_get(r, "info_class") == "dishonest" and _get(r, "severity") == "general"
                and since < _get(r, "decided_on") <= today and _get(r, "status") == "active"):
            by_type.setdefault(_get(r, "record_type"), []).append(r)
    found = [group for group in by_type.values() if len(group) >= rules.escalate_count]
    return sorted((r for group in found for r in group), key=lambda r: (_get(r, "decided_on"), _get(r, "id") or 0))
