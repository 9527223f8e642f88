"""Credit grades from credit records, with an explanation (pure: no Flask, no DB session).

湖南 第十七–十八条: grades A–D, yearly, fixed for the previous year. 海南 第二十九–三十条: points
(计分制) and explainability (可解释性): every record that moved the score is listed with its delta
and the rule and article behind it, so ``sum(e.delta for e in result.explanation) == result.score``.
湖南医保 第十六条: dynamic evaluation, a rolling window ending on the as-of date.

Which records count (documented choice):
- status ``active`` and the current version only: repaired, withdrawn, deleted and superseded
  records are ignored (湖南 第三十一条（三）: after a repair the grade is adjusted);
- dishonesty-class records that are not 失信信息 under the profile (湖南 第十四条: 责令整改,
  不良执业行为记分, penalties under the simple procedure) cost no points and are listed as not counted;
- decided within the assessed period: for ``period = "yearly"`` the calendar year (an int), or the
  year before an as-of date; for ``period = "rolling"`` the ``rolling_months`` ending on the as-of
  date (or the calendar year when given a year);
- plus serious-class records (严重失信主体名单, 联合惩戒对象) decided earlier whose publication
  window still overlaps the period: a subject stays on the list, and so at the lowest grade, for
  as long as the list entry is published (国办发〔2025〕22号 严重 1–3 years), unless repaired.

Rules are tried in profile order; the first matching rule applies. A rule's ``cap`` limits the
points it may move in one period (records beyond the cap are listed with the points left, often
0). The total is clamped to ``[floor, ceiling]`` by an explicit clamp entry. Overrides (e.g.
serious list ⇒ lowest grade) then cap the letter and are listed with delta 0.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .record_rules import counts_as_dishonesty, not_dishonesty_reason
from .vocab import InfoClass, RecordStatus
from .windows import add_months

BASE = "base"
RECORD = "record"
CLAMP = "clamp"
OVERRIDE = "override"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Effect:
    """One line of a grade's explanation."""

    record_id: Any
    title: str
    delta: int
    rule_text: str
    article: str
    kind: str = RECORD  # base | record | clamp | override | skipped
    rule_id: str = ""

    @property
    def counted(self) -> bool:
        return self.kind != SKIPPED


@dataclass(frozen=True)
class GradeResult:
    letter: str
    label: str
    score: int
    explanation: list[Effect]
    period_start: date
    period_end: date
    year: int  # the assessed year (for rolling periods, the year the period ends in)
    profile_id: str
    meaning: str = ""
    not_counted: list[Effect] = field(default_factory=list)  # "未计入：..." with reasons

    def to_dict(self) -> dict:
        """JSON-ready (models.Grade.explanation)."""
        return {
            "letter": self.letter, "label": self.label, "score": self.score, "year": self.year,
            "profile_id": self.profile_id,
            "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
            "explanation": [asdict(e) for e in self.explanation],
            "not_counted": [asdict(e) for e in self.not_counted],
        }


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None




def assessed_period(profile, when: int | date) -> tuple[date, date]:
    """First and last day (inclusive) of the period a grade is computed for.

    An int is a calendar year. A date means "as of that day": the previous calendar year for
    yearly grading (湖南 第十八条), the ``rolling_months`` ending that day for rolling grading
    (湖南医保 第十六条).
    """
    if isinstance(when, datetime):
        when = when.date()
    if isinstance(when, int) and not isinstance(when, bool):
        return date(when, 1, 1), date(when, 12, 31)
    if not isinstance(when, date):
        raise TypeError(f"expected a year (int) or a date, got {when!r}")
    if profile.grading.period == "rolling":
        start = add_months(when, -profile.grading.rolling_months)
        return date.fromordinal(start.toordinal() + 1), when
    return date(when.year - 1, 1, 1), date(when.year - 1, 12, 31)


def _window_end(record: Any, profile) -> date | None:
    until = _as_date(_get(record, "publish_until"))
    if until is not None:
        return until
    decided = _as_date(_get(record, "publish_from")) or _as_date(_get(record, "decided_on"))
    months = profile.window_months(_get(record, "severity"), _get(record, "info_class"))
    if decided is None or months is None:
        return None
    return add_months(decided, months) - timedelta(days=1)  # last day, as domain.windows.window_end


def _skip_reason(record: Any, profile, start: date, end: date) -> str | None:
    status = _get(record, "status") or RecordStatus.ACTIVE
    if status != RecordStatus.ACTIVE:
        return {
            # the profile's own article on repair effects (湖南 第三十一条, 海南 第四十二条（五）…), not 湖南's for all
            RecordStatus.REPAIRED: f"已完成信用修复（{profile.repair.article_for('effects')}：按规定调整信用等级）",
            RecordStatus.WITHDRAWN: "已撤销公示",
            RecordStatus.DELETED: "已删除",
            RecordStatus.SUPERSEDED: "已被更正后的版本取代",
        }.get(status, f"状态为 {status}")
    if _get(record, "is_current", True) is False:
        return "已被更正后的版本取代"
    decided = _as_date(_get(record, "decided_on"))
    if decided is None:
        return "缺少决定日期"
    if decided > end:
        return f"决定日期 {decided.isoformat()} 在评价期之后"
    if decided < start:
        if _get(record, "info_class") == InfoClass.SERIOUS:
            window_end = _window_end(record, profile)
            if window_end is None or window_end >= start:
                return None  # still on the serious list during the period
            return f"严重失信信息公示期已于 {window_end.isoformat()} 届满"
        return f"决定日期 {decided.isoformat()} 在评价期（{start.isoformat()} 至 {end.isoformat()}）之前"
    return None


def _sort_key(record: Any) -> tuple:
    return (_as_date(_get(record, "decided_on")) or date.min, str(_get(record, "id")))


def grade_subject(records, profile, when: int | date) -> GradeResult:
    """Grade one subject from its credit ``records`` under ``profile``.

    ``records`` are objects or dicts with ``id, info_class, record_type, severity, title,
    decided_on, status`` (optionally ``is_current, publish_from, publish_until``). ``when`` is the
    assessed year or an as-of date (see :func:`assessed_period`).
    """
    start, end = assessed_period(profile, when)
    scoring = profile.scoring
    explanation = [Effect(None, "基础分", scoring.base, f"基础分 {scoring.base} 分", scoring.article, BASE)]
    not_counted: list[Effect] = []
    used: dict[str, int] = {}
    overrides: list[tuple[Any, Any]] = []

    for record in sorted(records, key=_sort_key):
        rid, title = _get(record, "id"), _get(record, "title") or ""
        reason = _skip_reason(record, profile, start, end)
        if (reason is None and _get(record, "info_class") == InfoClass.DISHONEST
                and not counts_as_dishonesty(record, profile)):
            reason = not_dishonesty_reason(record, profile)  # 湖南 第十四条
        if reason is None:
            rule = scoring.rule_for(record)
            if rule is None:
                reason = ("基础信息不计分" if _get(record, "info_class") == InfoClass.BASIC
                          else "没有适用的计分规则")
        if reason is not None:
            not_counted.append(Effect(rid, title, 0, f"未计入：{reason}", "", SKIPPED))
            continue
        delta, text = rule.delta, rule.text
        if rule.cap is not None:
            room = rule.cap - used.get(rule.id, 0)
            if abs(delta) > room:
                delta = room if delta > 0 else -room
                text = f"{rule.text}（已达上限 {rule.cap} 分，本条计 {delta} 分）"
        used[rule.id] = used.get(rule.id, 0) + abs(delta)
        decided = _as_date(_get(record, "decided_on"))
        if decided is not None and decided < start:
            text += "（仍在公示期内）"
        explanation.append(Effect(rid, title, delta, text, rule.article, RECORD, rule.id))
        overrides += [(o, record) for o in scoring.overrides if o.match.matches(record)]

    raw = sum(e.delta for e in explanation)
    score = min(max(raw, scoring.floor), scoring.ceiling)
    if score != raw:
        bound = f"不低于 {scoring.floor} 分" if raw < scoring.floor else f"不高于 {scoring.ceiling} 分"
        explanation.append(Effect(None, "分数界限", score - raw, f"得分{bound}", scoring.article, CLAMP))

    grade = profile.grade_for_score(score)
    for override, record in overrides:
        explanation.append(Effect(_get(record, "id"), _get(record, "title") or "", 0, override.text,
                                  override.article, OVERRIDE, override.id))
        if profile.grade_rank(override.grade_at_most) > profile.grade_rank(grade.letter):
            grade = profile.grade(override.grade_at_most)

    return GradeResult(letter=grade.letter, label=grade.label, score=score, explanation=explanation,
                       period_start=start, period_end=end, year=end.year, profile_id=profile.id,
                       meaning=grade.meaning, not_counted=not_counted)
