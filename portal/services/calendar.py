"""The working-day calendar with the staff-editable holiday override table."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.workdays import WorkCalendar
from ..models import HolidayOverride
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError


def load_calendar(session: Session) -> WorkCalendar:
    overrides = {row.day: row.is_workday for row in session.execute(select(HolidayOverride)).scalars()}
    return WorkCalendar(overrides=overrides)


def set_holiday_override(ctx: ServiceContext, day: date, is_workday: bool, note: str) -> HolidayOverride:
    """Staff enter the State Council's holiday notice for years chinesecalendar does not cover."""
    if not note.strip():
        raise ServiceError("请注明依据（如国务院办公厅放假安排通知）", "note")
    row = ctx.session.get(HolidayOverride, day)
    if row is None:
        row = HolidayOverride(day=day, is_workday=is_workday, note=note.strip(), updated_by=ctx.actor)
        ctx.session.add(row)
    else:
        row.is_workday, row.note, row.updated_by = is_workday, note.strip(), ctx.actor
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "calendar.override", object_ref=f"day:{day.isoformat()}",
                 detail={"is_workday": is_workday, "note": note.strip()})
    return row
