"""Cases whose window passed unused act by themselves (``on_timeout`` steps of the profile).

湖南 第二十八条第三款: an applicant whose objection was rejected may ask the next-higher department
for a review. When the review window (the profile's ``workdays`` on the ``rejected`` step, an
editable default: the 办法 gives no number) passes unused, the case closes with the step's
``on_timeout`` action and the public "异议处理中" marker goes. Run daily by ``credit-portal
expire`` and ``credit-portal cases sweep``, and for one case when it is read
(:func:`sweep_case`); the public marker ignores a lapsed case even before the sweep ran
(``cases.case_markers`` with ``today``).
"""
from __future__ import annotations

from sqlalchemy import select

from ..domain import cases as engine
from ..models import Case
from .calendar import load_calendar
from .cases import KIND_LABELS, _event, _store, machine_for, notify, state_of
from .context import ServiceContext
from .indexing import enqueue


def sweep_case(ctx: ServiceContext, case: Case, calendar=None) -> bool:
    """Close ``case`` by its step's ``on_timeout`` action if its window passed; True if it did."""
    if not case.open:
        return False
    machine = machine_for(ctx.profile, case.kind)
    old = state_of(case)
    new = engine.lapse(machine, old, ctx.today, calendar or load_calendar(ctx.session, ctx.profile))
    if new is None:
        return False
    step = machine.step(old.step)
    _store(case, new)
    why = (f"{step.label}：期限已于 {old.due_on.isoformat()} 届满，申请人未办理，"
           f"按“{step.transition(step.on_timeout).label}”自动办结（{step.article}）")
    if new.terminal:
        case.outcome, case.outcome_reason = new.step, why
        case.materials_requested_on, case.materials_request = None, ""
    ctx.session.flush()
    _event(ctx, case, role="system", action=step.on_timeout, from_state=old.step, reason=why, on=new.entered_on)
    notify(ctx, case, f"您的{KIND_LABELS[case.kind]}申请（{case.case_no}）{why}。")
    enqueue(ctx.session, case.subject_id, f"case.{case.kind}")
    ctx.session.flush()
    return True


def sweep_lapsed(ctx: ServiceContext) -> list[Case]:
    """Every open case in an ``on_timeout`` step whose window has passed, closed as above."""
    steps = {(kind, s.id) for kind in ("objection", "repair")
             for s in machine_for(ctx.profile, kind).steps if s.on_timeout}
    if not steps:
        return []
    calendar = load_calendar(ctx.session, ctx.profile)
    rows = ctx.session.execute(select(Case).where(Case.closed_on.is_(None), Case.due_on < ctx.today,
                                                  Case.state.in_({s for _, s in steps}))
                               .order_by(Case.id)).scalars().all()
    return [c for c in rows if (c.kind, c.state) in steps and sweep_case(ctx, c, calendar)]
