"""The public 信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款):
which repair cases the public notice page lists, and what a case's notice actually was.

One rule for both: the page (``portal.web.cases.repair_notices``) lists a repair case in its
``notice`` step only when the record passes the privacy boundary that day (``public_view``: public
scope, active, inside its publication window, not about a minor) and the subject does
(``public_subject``). The repair confirmation notice (``services.case_documents``) says a notice
was published only for the days this same rule let the page show it, so a letter never claims a
notice nobody could see.

A record that is not public on the day the notice step would start (its publication window has
ended, it is not public, it is about a minor) gets no notice at all (:func:`waive_if_not_public`):
listing it would disclose non-public information, and the privacy rule outranks the notice (cited
from the profile's own ``[privacy] article``: 湖南 第四条, 海南 第五条, 湖南医保 第五条, 阳山 四（七）;
淮安's plan has none, so jiangsu cites only the repair step). The case records a ``notice_waived``
event saying so, has no notice period and goes to the decision at once; the pages and letters
say exactly that.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..domain.disclosure import public_subject, public_view, unpublished_severities
from ..domain.vocab import RecordStatus, Scope

NOTICE_STEP = "notice"
WAIVED = "notice_waived"  # the event: the notice step was entered without a public notice
WAIVED_LABEL = "不予公示（该信息已不再公示），待作出信用修复决定"
APPROVED_WAIVED = "符合修复条件（依规不予公示）"  # the approval that entered a notice not held
WAIVED_DECISION = "未经公示（依规不予公示），作出信用修复决定"  # the forward action's wording then


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
    waived: str = ""  # the ``notice_waived`` event's reason: no notice was held

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
    waived = ""
    view = _as_during_notice(record) if record is not None else None
    for ev in events:
        if ev.id > until_event_id:
            break
        if ev.to_state == NOTICE_STEP and ev.from_state != NOTICE_STEP:
            entered, objections, waived = ev.on, [], ""
        elif entered is not None and ev.action == WAIVED:
            waived = ev.reason
        elif entered is not None and ev.from_state == NOTICE_STEP and ev.to_state and ev.to_state != NOTICE_STEP:
            if ev.action == "objection":
                objections.append(ev.on)
            days = [entered + timedelta(days=i) for i in range((ev.on - entered).days + 1)]
            shown = [] if waived else [d for d in days
                                        if view is not None and shown_on_notice_page(view, subject, d, profile)]
            periods.append(NoticePeriod(entered, ev.on, ev.action, shown, objections, waived))
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


def waiver_reason(record: Any, subject: Any, day: date, profile, step) -> str:
    """The ``notice_waived`` event's text: why, and under which articles (the profile's own)."""
    privacy = profile.privacy_article  # [privacy] of the profile; None: its document has none
    basis = f"{privacy}（不得泄露个人隐私等非公开信息）及{step.article}" if privacy else step.article
    return (f"{why_not_shown(record, subject, day, profile)}，修复公示将披露非公开信息，"
            f"依{basis}，不予公示，"
            f"不设公示期，径行作出信用修复决定")


def waive_if_not_public(machine, state, record: Any, subject: Any, day: date, profile):
    """``(state, reason)``: the notice step entered on ``day`` without a notice when the public page
    may not list the record that day (reason for the ``notice_waived`` event), else unchanged
    (reason ``""``)."""
    from ..domain import cases as engine

    step = machine.step(state.step)
    if state.step != NOTICE_STEP or state.terminal or not step.min_workdays or state.earliest_on is None:
        return state, ""
    if record is not None and shown_on_notice_page(record, subject, day, profile):
        return state, ""
    return engine.waive_notice(machine, state), waiver_reason(record, subject, day, profile, step)


def case_step_label(machine, case: Any) -> str:
    """The current step's label, saying so when its notice was not held."""
    from ..domain import cases as engine

    if case.closed_on is None and engine.notice_waived(machine, engine.state_of(case)):
        return WAIVED_LABEL
    return machine.step(case.state).label


def waived_actions(machine, case: Any, transitions: list) -> list:
    """The step's transitions as a waived notice offers them: the forward decision without the
    words "公示期满无异议" (no notice ran), no objection "during the notice" (already left out by
    ``domain.cases.allowed_actions``)."""
    from dataclasses import replace

    from ..domain import cases as engine

    if case.closed_on is not None or not engine.notice_waived(machine, engine.state_of(case)):
        return transitions
    return [replace(t, label=WAIVED_DECISION) for t in transitions]


def timeline_labels(events, label_of, state_label_of) -> list[tuple[Any, str, str]]:
    """``(event, label, label of the state it led to)`` for a case's timeline: ``label_of(event)``
    and ``state_label_of(state)``, except around a notice that was not held: the step entered says
    so, and the decision that ended it never says "公示期满无异议"."""
    events = list(events)
    waived_at = {i - 1 for i, ev in enumerate(events) if ev.action == WAIVED and i > 0}
    out, waived = [], False
    for i, ev in enumerate(events):
        label, to_label = label_of(ev), state_label_of(ev.to_state) if ev.to_state else ""
        if ev.action == WAIVED:
            to_label, waived = WAIVED_LABEL, True
        elif i in waived_at:  # the event that entered the notice step; the next one waived it
            label, to_label, waived = APPROVED_WAIVED, WAIVED_LABEL, False
        elif waived and ev.from_state == NOTICE_STEP and ev.to_state and ev.to_state != NOTICE_STEP:
            label, waived = WAIVED_DECISION, False
        out.append((ev, label, to_label))
    return out
