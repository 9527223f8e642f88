"""Staff edits of the holiday table, and what they set off: every open case whose deadlines run
over a changed day is counted again (``cases.recalculate_due_dates``), and a year whose State
Council notice is confirmed complete stops being provisional (``cases.confirm_year``).

Above both ``services.calendar`` (the working-day calendar, a read) and ``services.cases`` (which
counts its deadlines with that calendar), so neither imports the other back (issue #10 item 5)."""
from __future__ import annotations

import json
from datetime import date

from ..domain.holiday_notice import ParsedNotice
from ..domain.workdays import PACKAGE_YEARS, REVIEW_YEARS
from ..models import HolidayOverride, State
from ..permissions import require_admin
from .audit import record_event
from .calendar import REVIEWED_KEY, missing_statutory_days, reviewed_years
from .cases import confirm_year, recalculate_due_dates
from .context import ServiceContext
from .errors import ServiceError

NOTE_LIMIT = 100


def _note(note: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ServiceError(message, "note")
    if len(note) > NOTE_LIMIT:
        raise ServiceError(f"依据不能超过 {NOTE_LIMIT} 字", "note")
    return note


def _write_override(ctx: ServiceContext, day: date, is_workday: bool, note: str) -> HolidayOverride:
    row = ctx.session.get(HolidayOverride, day)
    if row is None:
        row = HolidayOverride(day=day, is_workday=is_workday, note=note, updated_by=ctx.actor[:80])
        ctx.session.add(row)
    else:
        row.is_workday, row.note, row.updated_by = is_workday, note, ctx.actor[:80]
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "calendar.override", object_ref=f"day:{day.isoformat()}",
                 detail={"is_workday": is_workday, "note": note})
    return row


def set_holiday_override(ctx: ServiceContext, day: date, is_workday: bool, note: str) -> HolidayOverride:
    """Staff enter one day of the State Council's holiday notice for years chinesecalendar does
    not cover. Open cases whose stored deadlines run over ``day`` are counted again, each moved
    date an explicit case event (``cases.recalculate_due_dates``)."""
    require_admin(ctx)  # the holiday table moves every open deadline: administrators only
    note = _note(note, "请注明依据（如国务院办公厅放假安排通知）")
    row = _write_override(ctx, day, is_workday, note)
    recalculate_due_dates(ctx, day)
    return row


def import_notice(ctx: ServiceContext, notice: ParsedNotice, note: str = "") -> list[int]:
    """Enter a whole parsed State Council notice (``domain.holiday_notice.parse_notice``): every
    holiday and make-up workday goes into the table, open cases are counted again, and the year
    is confirmed (``mark_year_reviewed``, which checks that every statutory holiday is a holiday).
    Any refusal leaves nothing written (the caller rolls back)."""
    require_admin(ctx)
    note = _note(note or notice.title or f"国务院办公厅关于{notice.year}年部分节假日安排的通知",
                 "请注明依据（放假通知的文号或标题）")
    if notice.year in PACKAGE_YEARS:
        raise ServiceError(f"{notice.year}年的节假日安排已由系统日历收录，无需导入", "year", 409)
    _check_year(notice.year)
    for day, is_workday in notice.days().items():
        _write_override(ctx, day, is_workday, note)
    for day in notice.days():  # e.g. 12月31日 of the year before (元旦): not covered by confirm_year
        if day.year != notice.year:
            recalculate_due_dates(ctx, day)
    record_event(ctx.session, ctx.actor, "calendar.import_notice", object_ref=f"year:{notice.year}",
                 detail={"year": notice.year, "holidays": len(notice.holidays), "workdays": len(notice.workdays),
                         "note": note})
    return mark_year_reviewed(ctx, notice.year, note)


def _check_year(year: int) -> None:
    if year not in REVIEW_YEARS:
        raise ServiceError(f"年份应在 {REVIEW_YEARS.start}–{REVIEW_YEARS.stop - 1} 之间", "year")


def mark_year_reviewed(ctx: ServiceContext, year: int, note: str) -> list[int]:
    """Staff confirm that a year's State Council holiday notice is entered completely: deadlines
    through that year are no longer provisional, and open cases counted through it are counted
    again with an explicit event. Refused for an absurd year (issue #12) and for a year whose
    statutory holidays (《全国年节及纪念日放假办法》第二条) are not all entered as holidays."""
    require_admin(ctx)
    note = _note(note, "请注明依据（如国务院办公厅放假安排通知的文号）")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ServiceError("请填写年份", "year")
    _check_year(year)
    if year in PACKAGE_YEARS:
        raise ServiceError(f"{year}年的节假日安排已由系统日历收录，无需确认", "year", 409)
    missing = missing_statutory_days(ctx.session, year)
    if missing:
        listed = "、".join(f"{d.month}月{d.day}日（{name}）" for d, name in missing.items())
        raise ServiceError(f"{year}年的法定节假日尚未全部录入为放假：{listed}。"
                           f"请先录入国务院办公厅放假通知（可粘贴通知全文导入）", "year", 409)
    years = sorted(set(reviewed_years(ctx.session)) | {year})
    row = ctx.session.get(State, REVIEWED_KEY)
    if row is None:
        ctx.session.add(State(key=REVIEWED_KEY, value=json.dumps(years)))
    else:
        row.value = json.dumps(years)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "calendar.reviewed", object_ref=f"year:{year}",
                 detail={"year": year, "note": note})
    confirm_year(ctx, year)
    return years
