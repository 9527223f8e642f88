"""A generic case engine over a profile's step machine (objections 异议, credit repair 信用修复).

Pure: no Flask, no session. A case is a :class:`CaseState`; every change returns a new state.
Due dates follow :func:`portal.domain.workdays.add_workdays`: the day a step is entered is day
zero and is not counted (民法典 第二百零一条; a profile may set ``receipt_on_non_working_day =
"next_working_day"``, carried by the calendar) and the due date is the n-th working day after it.
Each step's limit comes from the profile, e.g.
湖南 第二十八条 "自收到异议申请之日起3个工作日内…情况复杂的…可以延长3个工作日…需要进行检验、
检测、鉴定或者专家评审的，所需时间不计入异议申请办理时间"; 海南 第三十八–四十条; 湖南医保 第十七条、第二十五条.

- An extension (延期) is granted at most once per step, with a reason, before the due date passes.
- Clock stops are explicit inclusive ``(first, last)`` intervals, allowed only for the reasons the
  step lists (``clock_stops``). While a stop is open the due date is unknown (``None``).
- A step with ``min_workdays`` (a public notice 公示 of at least 5 working days, 湖南 第三十条（三）,
  湖南医保 第二十五条, 海南 第四十二条（四）) cannot be closed with a forward action before
  ``earliest_on``: the day after the notice's last working day (a 5-working-day notice entered on
  Monday runs Tuesday to the next Monday; the decision is allowed from Tuesday, day 6).
- A notice that would disclose non-public information is not held (:func:`waive_notice`): the
  privacy invariant (湖南 第四条; 海南 第五条) outranks the notice, so the case stays in the step
  without a notice period (``earliest_on`` is ``None``), the decision may be made at once, and an
  objection "during the notice" is impossible.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from .workdays import WorkCalendar, add_calendar_days, add_workdays, add_workdays_with_stops, workdays_between

# Actions that go back to an earlier step (an objection during the public notice) may be taken
# before the notice's minimum period ends; every other action out of such a step may not.
EARLY_ACTIONS = frozenset({"objection"})
# Who acts on a step, in the words users read (the profile's step actors, portal.profiles.model.ROLES).
ROLE_LABELS = {"applicant": "申请人", "operator": "平台运行机构", "provider": "信息提供单位",
               "reviewer": "复核部门", "department": "认定部门"}


class CaseError(ValueError):
    """A transition the machine does not allow; the message is shown to users (Chinese)."""


@dataclass(frozen=True)
class CaseState:
    step: str
    entered_on: date
    due_on: date | None = None  # None: no statutory limit, terminal, or clock stopped
    earliest_on: date | None = None  # for min_workdays steps: first day the step may close
    extended: bool = False
    stops: tuple[tuple[date, date], ...] = ()  # closed clock stops of the current step
    stop_from: date | None = None  # an open clock stop began on this day
    stop_reason: str = ""
    closed_on: date | None = None

    @property
    def terminal(self) -> bool:
        return self.closed_on is not None

    @property
    def clock_stopped(self) -> bool:
        return self.stop_from is not None


def _limit(step, extended: bool) -> int | None:
    if step.workdays is None:
        return None
    return step.workdays + (step.extension_workdays if extended else 0)


def compute_due(step, entered_on: date, calendar: WorkCalendar, *, extended: bool = False,
                stops: tuple[tuple[date, date], ...] = ()) -> date | None:
    """The step's due date from its entry day (None without a statutory limit)."""
    if step.calendar_days is not None and not step.terminal and not stops:  # 海南 第十五条第三款
        return add_calendar_days(entered_on, step.calendar_days, calendar)
    n = _limit(step, extended)
    if n is None or step.terminal:
        return None
    if stops:
        due = add_workdays_with_stops(entered_on, n, calendar, stops)
    else:
        due = add_workdays(entered_on, n, calendar)
    if step.min_workdays:  # a notice of exactly N days (湖南医保 第二十五条 "公示期限为5个工作日"):
        # the decision "公示期满无异议的" is due on the first working day after it, never before it ends
        due = max(due, add_workdays(entered_on, step.min_workdays + 1, calendar))
    return due


def notice_earliest(step, on: date, calendar: WorkCalendar) -> date | None:
    """First day a decision may close a ``min_workdays`` notice entered on ``on``: the notice
    ("公示期不少于5个工作日", 湖南 第三十条（三）; 湖南医保 第二十五条) must have ended, so the day
    after its 5th working day, never the 5th day itself."""
    if not step.min_workdays:
        return None
    return add_workdays(on, step.min_workdays, calendar) + timedelta(days=1)


def notice_last_day(earliest_on: date | None) -> date | None:
    """The notice's last day (the day before a decision may be made), for "公示期至…" texts."""
    return earliest_on - timedelta(days=1) if earliest_on is not None else None


def _enter(machine, step_id: str, on: date, calendar: WorkCalendar) -> CaseState:
    step = machine.step(step_id)
    if step.terminal:
        return CaseState(step=step.id, entered_on=on, closed_on=on)
    earliest = notice_earliest(step, on, calendar)
    return CaseState(step=step.id, entered_on=on, due_on=compute_due(step, on, calendar), earliest_on=earliest)


def start_case(machine, received_on: date, calendar: WorkCalendar, start: str | None = None) -> CaseState:
    """A new case in the machine's first step (or ``start``), received on ``received_on`` (day zero)."""
    return _enter(machine, start or machine.start.id, received_on, calendar)


def notice_waived(machine, state: CaseState) -> bool:
    """The case is in a notice step (``min_workdays``) whose notice was not held (:func:`waive_notice`)."""
    return not state.terminal and bool(machine.step(state.step).min_workdays) and state.earliest_on is None


def waive_notice(machine, state: CaseState) -> CaseState:
    """The notice step just entered is held without a public notice (the record is no longer
    public, so a notice would disclose it: 湖南 第四条; 海南 第五条): no notice period, the decision
    may be made at once. Only on the day the step is entered, before anything else happened."""
    step = machine.step(state.step)
    if state.terminal or not step.min_workdays or state.earliest_on is None:
        raise CaseError("当前环节没有可以不予公示的公示期")
    return replace(state, earliest_on=None)


def allowed_actions(machine, state: CaseState, role: str | None = None) -> tuple[str, ...]:
    """Actions of the current step; with ``role``, only when that role is the step's actor.
    Without a notice (:func:`notice_waived`) there is no objection "during the notice"."""
    if state.terminal:
        return ()
    step = machine.step(state.step)
    if role is not None and step.actor != role:
        return ()
    if notice_waived(machine, state):
        return tuple(a for a in step.actions if a not in EARLY_ACTIONS)
    return step.actions


def action_due(machine, state: CaseState, action: str, calendar: WorkCalendar) -> date | None:
    """A stricter limit for one action, counted from entering the step (海南 第三十八条第二款:
    forwarded to the provider within 2 working days)."""
    step = machine.step(state.step)
    t = step.transition(action)
    if t.workdays is None or state.clock_stopped:
        return state.due_on
    own = add_workdays_with_stops(state.entered_on, t.workdays, calendar, state.stops)
    return own if state.due_on is None else min(own, state.due_on)


def apply(machine, state: CaseState, action: str, on: date, calendar: WorkCalendar,
          reason: str | None = None, role: str | None = None) -> CaseState:
    """Take ``action`` on day ``on``; returns the state of the step it leads to."""
    if state.terminal:
        raise CaseError("案件已办结，不能再办理")
    step = machine.step(state.step)
    if action not in step.actions:
        raise CaseError(f"当前环节“{step.label}”不能执行该操作：{action}")
    if role is not None and step.actor != role:
        raise CaseError(f"当前环节“{step.label}”应由{ROLE_LABELS.get(step.actor, step.actor)}办理")
    if on < state.entered_on:
        raise CaseError("办理日期早于本环节开始日期")
    if state.clock_stopped:
        raise CaseError("期限已中止，请先恢复计时")
    if lapsed(machine, state, on) and action != step.on_timeout:
        raise CaseError(f"“{step.label}”的期限已于 {state.due_on.isoformat()} 届满，案件已按规定办结（{step.article}）")
    if notice_waived(machine, state) and action in EARLY_ACTIONS:
        raise CaseError("本案依规不予公示，没有公示期，不能按“公示期间有异议”办理")
    if state.earliest_on is not None and on < state.earliest_on and action not in EARLY_ACTIONS:
        raise CaseError(f"公示期不少于{step.min_workdays}个工作日，{state.earliest_on.isoformat()}起方可作出决定"
                        f"（{step.article}）")
    return _enter(machine, step.transition(action).to, on, calendar)


def lapsed(machine, state: CaseState, today: date) -> bool:
    """The step's window passed unused and the step acts by itself (``on_timeout``)."""
    if state.terminal or state.clock_stopped or state.due_on is None:
        return False
    return bool(machine.step(state.step).on_timeout) and today > state.due_on


def lapse(machine, state: CaseState, today: date, calendar: WorkCalendar) -> CaseState | None:
    """The state after the step's ``on_timeout`` action, taken the day after the window's last day
    (湖南 第二十八条第三款: no review asked for in time, the case closes); ``None`` if not lapsed."""
    if not lapsed(machine, state, today):
        return None
    step = machine.step(state.step)
    return _enter(machine, step.transition(step.on_timeout).to, state.due_on + timedelta(days=1), calendar)


def extend(machine, state: CaseState, on: date, calendar: WorkCalendar, reason: str) -> CaseState:
    """The one-time extension the step allows (湖南 第二十八条第二款: 情况复杂的，经本部门负责人
    批准，可以延长3个工作日，并告知申请人延期理由)."""
    step = machine.step(state.step)
    if state.terminal or not step.extension_workdays:
        raise CaseError("本环节不能延期")
    if state.extended:
        raise CaseError("本环节已延期一次，不能再次延期")
    if not (reason or "").strip():
        raise CaseError("延期必须说明理由（将告知申请人）")
    if state.clock_stopped:
        raise CaseError("期限已中止，请先恢复计时")
    if state.due_on is not None and on > state.due_on:
        raise CaseError("办理期限已过，不能再延期")
    return replace(state, extended=True,
                   due_on=compute_due(step, state.entered_on, calendar, extended=True, stops=state.stops))


def stop_clock(machine, state: CaseState, first: date, reason: str) -> CaseState:
    """Stop the clock from ``first`` (inclusive) for one of the step's ``clock_stops`` reasons."""
    step = machine.step(state.step)
    if state.terminal or not step.clock_stops:
        raise CaseError("本环节的办理期限不能中止")
    if reason not in step.clock_stops:
        raise CaseError(f"期限中止事由须为：{'、'.join(step.clock_stops)}（{step.article}）")
    if state.clock_stopped:
        raise CaseError("期限已经中止")
    if first < state.entered_on:
        raise CaseError("中止日期早于本环节开始日期")
    if state.due_on is not None and first > state.due_on:
        raise CaseError("办理期限已过，不能中止计时")
    return replace(state, stop_from=first, stop_reason=reason, due_on=None)


def resume_clock(machine, state: CaseState, on: date, calendar: WorkCalendar) -> CaseState:
    """Counting resumes on ``on``: the stop covers ``stop_from .. on - 1`` and the due date moves."""
    if not state.clock_stopped:
        raise CaseError("期限未中止")
    if on <= state.stop_from:
        raise CaseError("恢复日期须晚于中止日期")
    stops = state.stops + ((state.stop_from, on - timedelta(days=1)),)
    step = machine.step(state.step)
    return replace(state, stops=stops, stop_from=None, stop_reason="",
                   due_on=compute_due(step, state.entered_on, calendar, extended=state.extended, stops=stops))


def with_stop(machine, state: CaseState, first: date, last: date, reason: str,
              calendar: WorkCalendar) -> CaseState:
    """A clock stop whose interval is already known (e.g. an appraisal from ``first`` to ``last``)."""
    if last < first:
        raise CaseError("中止结束日期早于开始日期")
    return resume_clock(machine, stop_clock(machine, state, first, reason), last + timedelta(days=1), calendar)


def recompute(machine, state: CaseState, calendar: WorkCalendar) -> CaseState:
    """The same step counted again over a changed calendar (staff entered a year's holidays
    after the due date was stored: DESIGN.md "Deadlines"). Entry day, extension and clock stops
    are kept; an open clock stop keeps the due date unknown."""
    if state.terminal:
        return state
    step = machine.step(state.step)
    # a waived notice stays waived: the new calendar does not create a notice that never ran
    earliest = None if notice_waived(machine, state) else notice_earliest(step, state.entered_on, calendar)
    due = None if state.clock_stopped else compute_due(step, state.entered_on, calendar, extended=state.extended,
                                                       stops=state.stops)
    return replace(state, due_on=due, earliest_on=earliest)


def counted_span(state: CaseState) -> tuple[date, date] | None:
    """The span of days the stored deadlines were counted over (entry day to the later of the
    due date and the notice's first decision day), or ``None`` when nothing was counted."""
    ends = [d for d in (state.due_on, state.earliest_on) if d is not None]
    if state.terminal or not ends:
        return None
    return state.entered_on, max(ends)


def is_overdue(due_on: date | None, today: date) -> bool:
    """Derived, never stored: past the stored due date (the due day itself is still in time)."""
    return due_on is not None and today > due_on


def due_soon(due_on: date | None, today: date, calendar: WorkCalendar, within: int = 1) -> bool:
    """Not overdue, and at most ``within`` working days left."""
    if due_on is None or is_overdue(due_on, today):
        return False
    return workdays_between(today, due_on, calendar) <= within


def state_of(case) -> CaseState:
    """The engine's state of a stored case (any object with the case columns, e.g. ``models.Case``)."""
    return CaseState(step=case.state, entered_on=case.step_entered_on, due_on=case.due_on,
                     earliest_on=case.earliest_on, extended=case.extended,
                     stops=tuple((date.fromisoformat(a), date.fromisoformat(b)) for a, b in case.stops or ()),
                     stop_from=case.stop_from, stop_reason=case.stop_reason, closed_on=case.closed_on)
