"""The working-day calendar with the staff-editable holiday override table (DESIGN.md
"Deadlines": years chinesecalendar does not cover fall back to Monday-Friday plus this table,
with a visible warning to staff until they mark the year as entered completely)."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.workdays import PACKAGE_YEARS, WorkCalendar
from ..models import HolidayOverride, State
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError

REVIEWED_KEY = "calendar.reviewed_years"
NOTE_LIMIT = 100


def reviewed_years(session: Session) -> list[int]:
    row = session.get(State, REVIEWED_KEY)
    return sorted(json.loads(row.value)) if row else []


def load_calendar(session: Session) -> WorkCalendar:
    overrides = {row.day: row.is_workday for row in session.execute(select(HolidayOverride)).scalars()}
    return WorkCalendar(overrides=overrides, reviewed_years=reviewed_years(session))


def overrides_for(session: Session, year: int) -> list[HolidayOverride]:
    return list(session.execute(select(HolidayOverride).where(HolidayOverride.day >= date(year, 1, 1),
                                                              HolidayOverride.day <= date(year, 12, 31))
                                .order_by(HolidayOverride.day)).scalars())


def set_holiday_override(ctx: ServiceContext, day: date, is_workday: bool, note: str) -> HolidayOverride:
    """Staff enter the State Council's holiday notice for years chinesecalendar does not cover.
    Open cases whose stored deadlines run over ``day`` are counted again, each moved date an
    explicit case event (``cases.recalculate_due_dates``)."""
    note = (note or "").strip()
    if not note:
        raise ServiceError("请注明依据（如国务院办公厅放假安排通知）", "note")
    if len(note) > NOTE_LIMIT:
        raise ServiceError(f"依据不能超过 {NOTE_LIMIT} 字", "note")
    row = ctx.session.get(HolidayOverride, day)
    if row is None:
        row = HolidayOverride(day=day, is_workday=is_workday, note=note, updated_by=ctx.actor[:80])
        ctx.session.add(row)
    else:
        row.is_workday, row.note, row.updated_by = is_workday, note, ctx.actor[:80]
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "calendar.override", object_ref=f"day:{day.isoformat()}",
                 detail={"is_workday": is_workday, "note": note})
    from .cases import recalculate_due_dates

    recalculate_due_dates(ctx, day)
    return row


def mark_year_reviewed(ctx: ServiceContext, year: int, note: str) -> list[int]:
    """Staff confirm that a year's State Council holiday notice is entered completely: deadlines
    through that year no longer carry the fallback warning."""
    note = (note or "").strip()
    if not note:
        raise ServiceError("请注明依据（如国务院办公厅放假安排通知的文号）", "note")
    if year in PACKAGE_YEARS:
        raise ServiceError(f"{year}年的节假日安排已由系统日历收录，无需确认", "year", 409)
    years = sorted(set(reviewed_years(ctx.session)) | {year})
    row = ctx.session.get(State, REVIEWED_KEY)
    if row is None:
        ctx.session.add(State(key=REVIEWED_KEY, value=json.dumps(years)))
    else:
        row.value = json.dumps(years)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "calendar.reviewed", object_ref=f"year:{year}",
                 detail={"year": year, "note": note[:NOTE_LIMIT]})
    return years
