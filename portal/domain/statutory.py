"""The statutory holidays of 《全国年节及纪念日放假办法》 (as amended 2024, 国务院令第795号) for
years that no published holiday schedule covers.

第二条: 元旦 1 day (1月1日); 春节 4 days (农历除夕、正月初一至初三); 清明节 1 day (农历清明当日);
劳动节 2 days (5月1日、2日); 端午节 1 day (农历端午当日); 中秋节 1 day (农历中秋当日); 国庆节 3 days
(10月1日至3日). These days are fixed by law; only the State Council's yearly make-up swaps (调休)
are unknown until its notice is published.

The lunar dates and the solar term 清明 come from ``holidays`` (pinned in pyproject.toml), read with
``observed=False`` and only under the names of the statutory days: its estimated "补假" days and the
substituted days of its static tables are never taken. holidays 0.108 (2026-11) carries no 2027
notice: it has no 2027 make-up workdays (``weekend_workdays``) and marks its 2027 extra days
"补假，推定" (estimated), so it is a source of lunar dates here, not of a year's schedule.
Years outside the library's range (it stops at 2100) give an empty set.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

# The names holidays 0.108 gives the statutory days in zh_CN, with the 放假办法's own name.
STATUTORY_NAMES = {"元旦": "元旦", "农历除夕": "春节（除夕）", "春节": "春节", "清明节": "清明节",
                   "劳动节": "劳动节", "端午节": "端午节", "中秋节": "中秋节", "国庆节": "国庆节"}
# Days per festival under the 2024 amendment (第二条); 中秋 may fall on 10月1–3日 and share a date.
DAYS_PER_FESTIVAL = {"元旦": 1, "春节": 4, "清明节": 1, "劳动节": 2, "端午节": 1, "中秋节": 1, "国庆节": 3}
FIRST_YEAR_OF_2024_RULES = 2025  # 国务院令第795号 in force from 2025-01-01


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[date, str]:
    """date → festival name (Chinese) of the statutory holidays of ``year``; {} when unknown."""
    if not 1901 <= year <= 2100:
        return {}
    import holidays  # ~130 ms; only when a year outside chinesecalendar is first counted

    found: dict[date, str] = {}
    for day, names in holidays.China(years=year, observed=False, language="zh_CN").items():
        ours = [STATUTORY_NAMES[n.strip()] for n in names.split(";") if n.strip() in STATUTORY_NAMES]
        if ours:
            found[day] = "、".join(dict.fromkeys(ours))
    return dict(sorted(found.items()))


def festival_of(name: str) -> str:
    """"春节（除夕）" → "春节": the festival a statutory day belongs to."""
    return name.split("（")[0]
