"""Deadline questions ("我3月2日交的异议什么时候出结果？"), computed exactly as the workflows
compute them: ``add_workdays`` over the app's working-day calendar, with the step limits of the
active profile's objection and repair procedures.

The receipt day follows the profile's ``receipt_on_non_working_day`` through the calendar
(民法典 第二百零一条 by default: the receipt day is not counted). A serious-list objection counted
in calendar days ends on the next working day when its last day is a holiday (民法典 第二百零三条,
``add_calendar_days``). A plan counted through a year whose make-up days are unknown is
``provisional`` (暂定), exactly as the case pages say.

Each step's limit counts from the end of the step before, taken at its latest (the statutory
worst case); a step's own extension is shown beside it. Steps that wait for the applicant
(e.g. asking for a review) end the chain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..domain.workdays import WorkCalendar, add_calendar_days, add_workdays, day_zero
from ..profiles import Profile, Step, StepMachine

WEEKDAYS = "一二三四五六日"


def fmt(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日（星期{WEEKDAYS[d.weekday()]}）"


@dataclass
class StageDue:
    step: Step
    workdays: int | None
    due: date | None  # latest date this step must be done (None: no limit)
    due_extended: date | None = None  # with the one-time extension (and earlier ones)
    earliest_end: date | None = None  # a public notice ends no earlier than this
    alternatives: list[tuple[str, int, date]] = field(default_factory=list)  # (label, workdays, due)


@dataclass
class DeadlinePlan:
    case: str
    received: date
    counted_from: date  # the first working day counted from (day zero)
    stages: list[StageDue]
    final: date | None
    final_extended: date | None
    calendar_days: int | None = None  # serious-list objections: N calendar days
    provisional: bool = False  # counted through a year whose make-up days are unknown (暂定)

    @property
    def articles(self) -> list[str]:
        return [s.step.article for s in self.stages]


def _main_path(machine: StepMachine) -> list[tuple[Step, int | None, list[tuple[str, int]]]]:
    """The steps a case goes through when each step passes it on, with the limit that applies
    on the way (a transition's own limit wins) and the other timed outcomes."""
    path = []
    step: Step | None = machine.start
    seen: set[str] = set()
    while step is not None and not step.terminal and step.actor != "applicant" and step.id not in seen:
        seen.add(step.id)
        onward = [t for t in step.transitions
                  if t.to not in seen and not machine.step(t.to).terminal and machine.step(t.to).actor != "applicant"]
        main = onward[0] if onward else None
        limit = main.workdays if main is not None and main.workdays is not None else step.workdays
        others = [(t.label, t.workdays) for t in step.transitions if t is not main and t.workdays is not None]
        path.append((step, limit, others))
        step = machine.step(main.to) if main is not None else None
    return path


def plan(profile: Profile, case: str, received: date, calendar: WorkCalendar) -> DeadlinePlan:
    """Due dates for an objection (``objection``), a serious-list objection (``serious_list``)
    or a repair application (``repair``) received on ``received``."""
    zero = day_zero(received, calendar)
    if case == "serious_list" and profile.objection.serious_list is not None:
        sl = profile.objection.serious_list
        if sl.calendar_days:
            due = add_calendar_days(received, sl.days, calendar)
        else:
            due = add_workdays(received, sl.days, calendar)
        return DeadlinePlan(case, received, zero, [], due, None, calendar_days=sl.days if sl.calendar_days else None,
                            provisional=calendar.provisional(received, due))
    machine = profile.repair if case == "repair" else profile.objection
    stages: list[StageDue] = []
    cursor = cursor_ext = received
    for step, limit, others in _main_path(machine):
        alternatives = [(label, n, add_workdays(cursor, n, calendar)) for label, n in others]
        if limit is not None:
            due = add_workdays(cursor, limit, calendar)
            due_ext = add_workdays(cursor_ext, limit + step.extension_workdays, calendar)
            stages.append(StageDue(step, limit, due, due_ext if due_ext != due else None, alternatives=alternatives))
            cursor, cursor_ext = due, due_ext
        elif step.min_workdays is not None:
            end = add_workdays(cursor, step.min_workdays, calendar)
            stages.append(StageDue(step, None, None, earliest_end=end, alternatives=alternatives))
            cursor = cursor_ext = end
        else:
            stages.append(StageDue(step, None, None, alternatives=alternatives))
    timed = [s for s in stages if s.due is not None]
    final = timed[-1].due if timed else None
    final_ext = timed[-1].due_extended if timed else None
    ends = [d for s in stages for d in (s.due, s.due_extended, s.earliest_end) if d is not None]
    return DeadlinePlan(case, received, zero, stages, final, final_ext,
                        provisional=calendar.provisional(received, max(ends)) if ends else False)
