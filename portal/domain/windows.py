"""Publication windows (国办发〔2025〕22号: 轻微 ≤ 3 months, 一般 3 months–1 year, 严重 1–3 years;
the profile holds the numbers and their articles). A window ends automatically."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from .vocab import SEVERITY_LABELS


class WindowError(ValueError):
    pass


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (1-31 + 1 month = 2-28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def window_end(start: date, months: int) -> date:
    """The last day of a window of ``months`` starting on ``start`` (inclusive)."""
    return add_months(start, months) - timedelta(days=1)


def default_until(profile, info_class: str, severity: str | None, publish_from: date) -> date | None:
    """The profile's default end of publication; ``None`` = open-ended (basic information)."""
    months = profile.window_months(severity, info_class)
    return None if months is None else window_end(publish_from, months)


def check_window(profile, info_class: str, severity: str | None, publish_from: date,
                 publish_until: date | None) -> None:
    """Refuse a window that ends before it starts, is shorter than the tier's minimum or outlasts
    its maximum (国办发〔2025〕22号: 一般 at least 3 months, 严重 at least 1 year)."""
    if publish_until is not None and publish_until < publish_from:
        raise WindowError("公示截止日期早于公示起始日期")
    if not severity:
        return
    window = profile.window(severity)
    if publish_until is None:
        raise WindowError(f"{SEVERITY_LABELS[severity]}失信信息必须有公示截止日期（{window.article}）")
    if window.min_months:
        earliest = window_end(publish_from, window.min_months)
        if publish_until < earliest:
            raise WindowError(f"{SEVERITY_LABELS[severity]}失信信息公示期最短 {window.min_months} 个月，"
                              f"截止日期不得早于 {earliest.isoformat()}（{window.article}）")
    latest = window_end(publish_from, window.max_months)
    if publish_until > latest:
        raise WindowError(f"{SEVERITY_LABELS[severity]}失信信息公示期最长 {window.max_months} 个月，"
                          f"截止日期不得晚于 {latest.isoformat()}（{window.article}）")
