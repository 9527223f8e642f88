"""When a dishonesty record may first be repaired (湖南 第二十九条（二）: the minimum publication
period must have passed; 湖南医保 第二十四条; 海南 第四十三条). Pure; the full eligibility check
with cooldown and new same-type records belongs to the repair workflow."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .vocab import InfoClass
from .windows import add_months


@dataclass(frozen=True)
class RepairDate:
    on: date | None  # None: not repairable
    text: str
    article: str


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def repair_possible_from(record: Any, profile) -> RepairDate | None:
    """The first day a repair may be applied for, or ``None`` for non-dishonesty records."""
    info_class, severity = _get(record, "info_class"), _get(record, "severity")
    if info_class not in (InfoClass.DISHONEST, InfoClass.SERIOUS) or not severity:
        return None
    repair = profile.repair
    if info_class == InfoClass.SERIOUS and not repair.serious_repairable:
        return RepairDate(None, "依规定不可修复", repair.article_for("serious_repairable"))
    period = next(p for p in repair.min_periods if p.severity == severity)
    start = _get(record, "publish_from") or _get(record, "decided_on")
    on = add_months(start, period.months)
    return RepairDate(on, f"{on.isoformat()} 起（最短公示期 {period.months} 个月）", period.article)
