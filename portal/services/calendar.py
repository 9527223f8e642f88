"""The working-day calendar with the staff-editable holiday override table.

Sources of a day's status are listed in ``portal.domain.workdays``: the override table, then
chinesecalendar, then the statutory holidays computed for any year, then Monday-Friday. A year
outside chinesecalendar is provisional (暂定) until an administrator confirms that its State
Council notice is entered (``mark_year_reviewed``, which refuses a year whose statutory holidays
are not all entered); the notice can be pasted whole (``import_notice``). Those staff verbs live in
``services.holiday_table``: they count the open cases again, and ``services.cases`` reads this."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.statutory import statutory_holidays
from ..domain.workdays import DAY_ZERO, WorkCalendar
from ..models import HolidayOverride, State

REVIEWED_KEY = "calendar.reviewed_years"


def reviewed_years(session: Session) -> list[int]:
    row = session.get(State, REVIEWED_KEY)
    return sorted(json.loads(row.value)) if row else []


def load_calendar(session: Session, profile=None) -> WorkCalendar:
    """The calendar with the holiday table, the reviewed years and the profile's receipt rule."""
    overrides = {row.day: row.is_workday for row in session.execute(select(HolidayOverride)).scalars()}
    receipt = getattr(profile, "receipt_on_non_working_day", DAY_ZERO)
    return WorkCalendar(overrides=overrides, reviewed_years=reviewed_years(session), receipt=receipt)


def overrides_for(session: Session, year: int) -> list[HolidayOverride]:
    return list(session.execute(select(HolidayOverride).where(HolidayOverride.day >= date(year, 1, 1),
                                                              HolidayOverride.day <= date(year, 12, 31))
                                .order_by(HolidayOverride.day)).scalars())


def missing_statutory_days(session: Session, year: int) -> dict[date, str]:
    """Statutory holidays of ``year`` (《全国年节及纪念日放假办法》第二条) not entered as holidays."""
    entered = {row.day: row.is_workday for row in overrides_for(session, year)}
    return {d: name for d, name in statutory_holidays(year).items() if entered.get(d) is not False}


