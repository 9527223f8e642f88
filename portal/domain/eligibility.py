"""May this dishonesty record be repaired today? (信用修复条件) Pure.

Which checks run depends on the profile's conditions and refusals:
- minimum publication period reached (湖南 第二十九条（二）; 湖南医保 第二十四条（一）: 公开满6个月);
- ``no_new_same_type``: no new dishonesty of the same type since it was determined (湖南 第二十九条（三）);
- ``no_new_record``: no new bad record during publication (湖南医保 第二十四条（三）);
- ``new_dishonesty`` refusal: other dishonesty while determined dishonest (海南 第四十三条（二）);
- ``cooldown_months``: the last repair less than that long ago (海南 第四十三条（一）), only for the
  record types in ``cooldown_record_types`` and only inside the first ``cooldown_within_months``
  of publication: "在最短公示期三个月内的行政处罚信息，距离上一次信用修复时间不到1年的" bars penalty
  information still inside its 3-month minimum period, not every record;
- ``no_new_same_type`` reads "同类" (湖南 第二十九条（三）) as the same kind of 失信信息 in 第十四条's
  list (行政处罚 / 刑事处罚 / 拒不履行生效司法裁决; the serious lists of 第十五条 each their own
  kind), i.e. the same record type, and only records that are 失信 under the profile count;
- ``while_published``: 湖南医保 第二十四条 "在失信信息公示期限内" — no repair once the window ended;
- serious dishonesty not repairable where the profile says so (``serious_repairable``).
Conditions that need a person's judgement (behaviour corrected, commitment) are checked by staff
and by the applicant's commitment checkbox, not here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .record_rules import counts_as_dishonesty, not_dishonesty_reason
from .repair import repair_possible_from
from .vocab import InfoClass, RecordStatus
from .windows import add_months

DISHONEST = (InfoClass.DISHONEST, InfoClass.SERIOUS)
# Versions that count as "a record" of the subject (superseded versions are history only).
COUNTED = (RecordStatus.ACTIVE, RecordStatus.REPAIRED)


@dataclass(frozen=True)
class Reason:
    text_zh: str
    article: str


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[Reason] = field(default_factory=list)
    possible_from: date | None = None  # the earliest day the blocking reasons may lapse
    never: bool = False  # no later date will make it eligible


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _lineage(r: Any):
    return _get(r, "lineage_id") or _get(r, "id")


def _repair_day(r: Any) -> date | None:
    if isinstance(r, date):
        return r
    return _get(r, "closed_on") or _get(r, "decided_on")


def _codes(items) -> set[str]:
    return {i.code for i in items}


def _article(items, code: str, fallback: str) -> str:
    return next((i.article for i in items if i.code == code), fallback)


def repair_eligibility(record: Any, other_records, previous_repairs, profile, today: date) -> Eligibility:
    """``other_records``: the subject's other current records (dicts or models);
    ``previous_repairs``: approved repairs of the subject (dates, or objects with ``closed_on``)."""
    repair = profile.repair
    info_class, status = _get(record, "info_class"), _get(record, "status") or RecordStatus.ACTIVE
    if info_class not in DISHONEST:
        return Eligibility(False, [Reason("只有失信信息可以申请信用修复", repair.article)], never=True)
    if not counts_as_dishonesty(record, profile):  # 湖南 第十四条: not 失信 here, nothing to repair
        return Eligibility(False, [Reason(not_dishonesty_reason(record, profile) + "，无需信用修复",
                                          profile.dishonesty.article)], never=True)
    if status != RecordStatus.ACTIVE:
        text = "该信息已完成信用修复" if status == RecordStatus.REPAIRED else "该信息已停止公示，无需修复"
        return Eligibility(False, [Reason(text, repair.article)], never=True)

    first = repair_possible_from(record, profile)
    if first is not None and first.on is None:  # serious and not repairable under this profile
        return Eligibility(False, [Reason("严重失信信息依规定不可修复", first.article)], never=True)

    reasons: list[Reason] = []
    later: list[date] = []
    never = False
    if first is not None and today < first.on:
        reasons.append(Reason(f"尚未达到最短公示期限，{first.on.isoformat()} 起可以申请", first.article))
        later.append(first.on)

    own = _lineage(record)
    decided_on = _get(record, "decided_on")
    publish_from = _get(record, "publish_from") or decided_on
    others = [r for r in other_records
              if _lineage(r) != own and _get(r, "info_class") in DISHONEST
              and (_get(r, "status") or RecordStatus.ACTIVE) in COUNTED]
    conditions, refusals = _codes(repair.conditions), _codes(repair.refusals)
    if "while_published" in conditions:
        until = _get(record, "publish_until")
        if until is not None and today > until:
            return Eligibility(False, [Reason(f"该失信信息公示期已于 {until.isoformat()} 届满，"
                                              "不在公示期限内，不能申请信用修复",
                                              _article(repair.conditions, "while_published", repair.article))],
                               never=True)
    if "no_new_same_type" in conditions:
        same = [r for r in others if _get(r, "record_type") == _get(record, "record_type")
                and _get(r, "decided_on") > decided_on and counts_as_dishonesty(r, profile)]
        if same:
            never = True
            reasons.append(Reason("自该失信信息认定之日起又产生了新的同类失信信息",
                                  _article(repair.conditions, "no_new_same_type", repair.article)))
    if "no_new_record" in conditions:
        if any(publish_from <= _get(r, "decided_on") <= today for r in others):
            never = True
            reasons.append(Reason("公开期间新增了不良信用记录",
                                  _article(repair.conditions, "no_new_record", repair.article)))
    if "new_dishonesty" in refusals:
        until = _get(record, "publish_until") or today
        if any(decided_on < _get(r, "decided_on") <= until for r in others):
            never = True
            reasons.append(Reason("被认定为失信期间存在其他失信行为",
                                  _article(repair.refusals, "new_dishonesty", repair.article)))
    cooldown_applies = bool(repair.cooldown_months) and (
        not repair.cooldown_record_types or _get(record, "record_type") in repair.cooldown_record_types) and (
        repair.cooldown_within_months is None or today < add_months(publish_from, repair.cooldown_within_months))
    if cooldown_applies:
        days = [d for d in (_repair_day(p) for p in previous_repairs) if d is not None]
        if days:
            again = add_months(max(days), repair.cooldown_months)
            if today < again:
                reasons.append(Reason(f"距离上一次信用修复不到{repair.cooldown_months}个月，"
                                      f"{again.isoformat()} 起可以申请",
                                      _article(repair.refusals, "cooldown", repair.article_for("cooldown_months"))))
                later.append(again)
    if not reasons:
        return Eligibility(True, [])
    return Eligibility(False, reasons, possible_from=None if never else max(later), never=never)
