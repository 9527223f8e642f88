"""The grading cycle (pure: no Flask, no DB session): when preliminary results (初评) are
generated, how long a subject may object to one, when it becomes formal, who may act.

- 湖南 第十八条: "评价周期为一年，于每年定期确定上一年度信用评定结果，根据有关规定不参加本期评价
  的除外" — yearly profiles grade the previous year on the profile's ``generate_on``.
- 阳山 四（三）: "每年1月20日…自动生成上一年…信用分级评价结果…1月25日前…公布分级评价结果汇总表"
  — ``generate_on`` / ``publish_by`` of the profile; the summary table is public once formal.
- 湖南医保 第十六条: "信用评价实行动态考评" and real-time query — under ``period = "rolling"`` the
  result is recomputed on every run over the last ``rolling_months``; whenever it differs from the
  result in force, a new preliminary result is issued (one per subject, the newest replaces an
  older one not yet formal).
- 湖南医保 第十九条: "对…初评结果无异议或完成异议申诉处理的，评价机构应形成正式的…评价结果" — a
  preliminary result becomes formal when its objection window passed unused, or when the objection
  against it is decided. Only formal results are public (the privacy boundary: a preliminary
  grade is shown to the subject and staff only).

The objection window is ``grading.objection_workdays`` working days counted from the day the
result is generated (民法典 第二百零一条: that day is day zero), over the working-day calendar, so
a window through 春节 skips the holiday; a window through a year whose make-up days are not yet
confirmed is provisional (``WorkCalendar.provisional``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .workdays import WorkCalendar, add_workdays

YEARLY, ROLLING = "yearly", "rolling"
PRELIMINARY, OBJECTED, FORMAL, SUPERSEDED = "preliminary", "objected", "formal", "superseded"
OPEN_STATUSES = (PRELIMINARY, OBJECTED)  # not yet formal
UPHELD, REJECTED = "upheld", "rejected"
OUTCOMES = {UPHELD: "异议成立，依据更正后的信用信息重新评价", REJECTED: "异议不成立，维持初评结果"}
STATUS_LABELS = {PRELIMINARY: "初评（异议期内）", OBJECTED: "异议处理中", FORMAL: "正式结果",
                 SUPERSEDED: "已被新的初评结果取代"}
RUN_ROLES = frozenset({"admin", "department", "operator"})  # who may start a run from the staff page
DECIDE_ROLE = "department"  # 湖南医保 第十七条: 作出评价的医疗保障行政部门 handles the objection
UNGRADED = "未评级"


def mmdd_on(text: str, year: int) -> date:
    """The profile's "MM-DD" in ``year`` (02-29 becomes 02-28 in a common year)."""
    month, day = (int(p) for p in text.split("-"))
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def objection_until(generated_on: date, profile, calendar: WorkCalendar) -> date:
    """Last day (inclusive) to object to a result generated on ``generated_on``."""
    return add_workdays(generated_on, profile.grading.objection_workdays, calendar)


@dataclass(frozen=True)
class Schedule:
    """A yearly cycle's dates: the assessed ``year`` is graded on ``generate_on`` of the next."""

    year: int
    generate_on: date
    objection_until: date
    publish_by: date | None
    provisional: bool

    @property
    def late(self) -> bool:
        """The window ends on or after the publication date: the formal result will be late."""
        return self.publish_by is not None and self.objection_until >= self.publish_by


def yearly_schedule(profile, year: int, calendar: WorkCalendar, generated_on: date | None = None) -> Schedule:
    """The dates of the cycle for assessed ``year`` (湖南 第十八条; 阳山 四（三）). ``generated_on``:
    the day it was actually generated (a late run still gives the subject the whole window)."""
    g = profile.grading
    planned = mmdd_on(g.generate_on or "01-20", year + 1)
    start = generated_on or planned
    until = objection_until(start, profile, calendar)
    publish = mmdd_on(g.publish_by, year + 1) if g.publish_by else None
    return Schedule(year, start, until, publish, calendar.provisional(start, until))


def yearly_year_due(profile, today: date) -> int | None:
    """The assessed year whose cycle should exist by ``today`` (the previous year, once this
    year's ``generate_on`` has come), or ``None`` before it."""
    if profile.grading.period != YEARLY:
        return None
    return today.year - 1 if today >= mmdd_on(profile.grading.generate_on or "01-20", today.year) else None


def becomes_formal(status: str, until: date, today: date) -> bool:
    """湖南医保 第十九条 "对初评结果无异议": the window passed without an objection."""
    return status == PRELIMINARY and today > until


def may_object(status: str, until: date, today: date) -> str | None:
    """``None`` when the subject may object to the result today, else the reason (Chinese)."""
    if status == OBJECTED:
        return "已对该初评结果提出异议，正在处理中。"
    if status != PRELIMINARY:
        return "该评价结果已是正式结果或已被新的初评结果取代，不能再对初评提出异议。"
    if today > until:
        return f"异议期已于 {until.isoformat()} 届满。"
    return None


def changed(new: tuple[str, int], old: tuple[str, int] | None) -> bool:
    """A dynamic result differs from the one in force (letter or score)."""
    return old is None or tuple(old) != tuple(new)


def may_run(user) -> bool:
    return user is not None and user.active and bool(RUN_ROLES & set(user.roles))


def may_decide(user, region_code: str) -> bool:
    """The evaluating department of the subject's region decides an objection to a grade."""
    from .permissions import in_region

    return (user is not None and user.active and DECIDE_ROLE in user.roles
            and in_region(user.region_code, region_code))


def summary_rows(rows: Iterable[tuple[str, str, str]], letters: Iterable[str]) -> list[dict]:
    """The summary table (阳山 四（三）分级评价结果汇总表): ``rows`` of (region code, category,
    letter) of formal grades → one row per region and category with a count per letter."""
    letters = list(letters)
    table: dict[tuple[str, str], dict[str, int]] = {}
    for region, category, letter in rows:
        counts = table.setdefault((region, category), dict.fromkeys(letters, 0))
        if letter in counts:
            counts[letter] += 1
    return [{"region_code": r, "category": c, "counts": counts, "total": sum(counts.values())}
            for (r, c), counts in sorted(table.items())]


def state_label(formal_on: date | None, open_count: int, objected: int, until: date, today: date,
                publish_by: date | None) -> str:
    """One line for the staff cycle page."""
    if open_count == 0:
        return f"已形成正式结果（{formal_on.isoformat()}）" if formal_on else "已形成正式结果"
    if today <= until:
        text = f"初评结果已生成，异议期至 {until.isoformat()}"
    elif objected:
        text = f"异议期已届满，{objected} 个异议待处理"
    else:
        text = "异议期已届满，待形成正式结果（下次运行时完成）"
    if publish_by is not None and today > publish_by:
        text += f"；已超过公布日期 {publish_by.isoformat()}"
    return text


def may_load_historical(year: int, today: date, has_cycle: bool) -> bool:
    """Direct formal grades (``credit-portal grade --load-historical``) only for years no grading
    cycle manages: before last year (湖南 第十八条: last year's result is the cycle's to determine;
    阳山 四（三） 1-20 / 1-25) and without a cycle or a cycle's formal grade of their own."""
    return year < today.year - 1 and not has_cycle


DIRECT, CYCLE, NONE = "direct", "cycle", "none"


def repair_grade_mode(profile) -> str:
    """How a decided credit repair changes the grade (``repair.grade_adjustment`` of the profile).
    A rolling profile always goes through a new preliminary result: 湖南医保 第十九条 makes every
    formal result pass the 初评 and its objection window, and 第二十五条第三款 gives the repair no
    grade effect of its own. Yearly: "direct" (湖南 第三十一条（三）"按规定调整信用等级", the
    repair decision having passed its own public notice, 第三十条（三）（四）) or "none"
    (海南 第四十二条（五） lists no grade effect)."""
    if profile.grading.period == ROLLING:
        return CYCLE
    mode = profile.repair.grade_adjustment
    return DIRECT if mode == CYCLE else mode  # a yearly cycle has no 初评 between its periods


def exclusion_effective_on(period: str, year: int, decided_on: date) -> date | None:
    """The day an exclusion from ``year``'s evaluation ends an older grade in force
    (``services.indexing.grade_in_force``). Yearly (湖南 第十八条 "于每年定期确定上一年度信用评定
    结果"): ``None`` — when the year has ended, the day its result would have been determined. Rolling
    (湖南医保 第十六条 "信用评价实行动态考评"): the result is the one of today, so not taking part
    in the running period takes effect on the day it is decided; that document has no exclusion
    rule of its own that would say otherwise."""
    return decided_on if period == ROLLING and year >= decided_on.year else None


CHINA_OFFSET = timedelta(hours=8)  # the business day of a stored UTC time (Beijing time)


def backfilled_effective_on(period: str, year: int, created_at: datetime) -> date | None:
    """:func:`exclusion_effective_on` for an exclusion stored before ``effective_on`` existed
    (migration 0028): it was decided on the Beijing-time day of its ``created_at`` (stored in UTC)."""
    decided_on = (created_at.replace(tzinfo=None) + CHINA_OFFSET).date()
    return exclusion_effective_on(period, year, decided_on)
