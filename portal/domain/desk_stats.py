"""Whether a closed case was decided within its time limits (issue 14: the staff desk counts cases
decided in time per month). Pure: no Flask, no SQLAlchemy.

A case counts as *decided* when staff took at least one step on it and the applicant did not
withdraw it. It was decided *in time* when every step staff took happened on or before the due
date in force just before that step (湖南 第二十八条: 5 working days to decide, 3 more with the
负责人's approval; 海南 第三十八条/第四十条; the due date already includes an approved extension
and any period the clock stood still). A step taken while the clock stood still had no running
limit. ``events`` are anything with ``on``, ``role``, ``action``, ``from_state``, ``to_state``,
``due_on`` (the case's due date *after* the event), oldest first.
"""
from __future__ import annotations

from datetime import date

NOT_STAFF = frozenset({"applicant", "system"})
WITHDRAW = "withdraw"


def staff_steps_in_time(events) -> bool | None:
    """``True``/``False`` for a case staff decided (in time or not), ``None`` when staff took no
    step (withdrawn, or closed by the applicant's own act or a lapse before any decision)."""
    if any(e.action == WITHDRAW for e in events):
        return None
    due: date | None = None
    decided, late = False, False
    for ev in events:
        if ev.role not in NOT_STAFF and ev.from_state != ev.to_state:
            decided = True
            if due is not None and ev.on > due:
                late = True
        due = ev.due_on
    return (not late) if decided else None


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def last_months(today: date, n: int) -> list[str]:
    """The ``n`` months up to ``today``'s, newest first, as ``YYYY-MM``."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out
