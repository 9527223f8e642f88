"""The public 信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款):
which repair cases the public notice page lists, and what a case's notice actually was.

One rule for both: the page (``portal.web.cases.repair_notices``) lists a repair case in its
``notice`` step only when the record passes the privacy boundary that day (``public_view``: public
scope, active, inside its publication window, not about a minor) and the subject does
(``public_subject``). The repair confirmation notice (``services.case_documents``) says a notice
was published only for the days this same rule let the page show it, so a letter never claims a
notice nobody could see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..domain.disclosure import public_subject, public_view, unpublished_severities
from ..domain.vocab import RecordStatus, Scope

NOTICE_STEP = "notice"


def shown_on_notice_page(record: Any, subject: Any, day: date, profile) -> bool:
    """Whether the public notice page lists a notice about ``record`` (current version) on ``day``."""
    return public_view(record, day, getattr(subject, "birth_on", None), profile=profile) is not None \
        and public_subject(subject, day) is not None


def _as_during_notice(record: Any) -> dict:
    """The version the application was about as it stood during the notice: current and active
    (a repair may only be filed for an active record; the decision changes it afterwards)."""
    return {name: getattr(record, name) for name in ("lineage_id", "id", "record_type", "info_class", "severity",
                                                     "title", "content", "public_summary", "doc_no", "authority",
                                                     "decided_on", "scope", "publish_from", "publish_until")} \
        | {"is_current": True, "status": RecordStatus.ACTIVE}


@dataclass(frozen=True)
class NoticePeriod:
    """One stay of a repair case in its notice step."""

    entered_on: date
    left_on: date  # the day the case left the step (the decision or an objection)
    left_by: str  # the action that ended it
    shown: list[date] = field(default_factory=list)  # days the public page listed it
    objections: list[date] = field(default_factory=list)  # objections raised during the notice

    @property
    def first_shown(self) -> date | None:
        return self.shown[0] if self.shown else None

    @property
    def last_shown(self) -> date | None:
        return self.shown[-1] if self.shown else None

    @property
    def fully_shown(self) -> bool:
        return len(self.shown) == (self.left_on - self.entered_on).days + 1


def notice_periods(events, record: Any, subject: Any, until_event_id: int, profile) -> list[NoticePeriod]:
    """The case's notice periods up to (and including) the event ``until_event_id``, each with the
    days the public page showed it. ``events``: the case's events in order."""
    periods = []
    entered = None
    objections: list[date] = []
    view = _as_during_notice(record) if record is not None else None
    for ev in events:
        if ev.id > until_event_id:
            break
        if ev.to_state == NOTICE_STEP and ev.from_state != NOTICE_STEP:
            entered, objections = ev.on, []
        elif entered is not None and ev.from_state == NOTICE_STEP and ev.to_state and ev.to_state != NOTICE_STEP:
            if ev.action == "objection":
                objections.append(ev.on)
            days = [entered + timedelta(days=i) for i in range((ev.on - entered).days + 1)]
            shown = [d for d in days if view is not None and shown_on_notice_page(view, subject, d, profile)]
            periods.append(NoticePeriod(entered, ev.on, ev.action, shown, objections))
            entered = None
    return periods


def why_not_shown(record: Any, subject: Any, day: date, profile) -> str:
    """Why the page did not list the notice on ``day`` (plain Chinese, no personal data)."""
    if record is None:
        return "未找到该失信信息"
    if record.scope != Scope.PUBLIC:
        return "该失信信息依规不予公开"
    if record.severity in unpublished_severities(profile):
        return "该失信信息所属等级依规不予公示"
    if record.publish_until is not None and day > record.publish_until:
        return f"该失信信息的公示期已于 {record.publish_until} 届满"
    if record.publish_from is not None and day < record.publish_from:
        return f"该失信信息自 {record.publish_from} 起才公示"
    return "该信用主体或失信信息依规不在公开范围内（如涉及未成年人）"
