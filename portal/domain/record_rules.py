"""What a credit record must satisfy before it is stored, on every path (import file, staff form,
API, demo and bulk load, a correction): one pure function, :func:`check_record`.

- Information class against record type (湖南 第十一–十五条; 海南 第十四条: a dishonesty type may be
  escalated to serious, other types keep their class).
- Dishonesty information has a severity (海南 第十四条: 轻微 / 一般 / 严重); severity is only for
  dishonesty. 严重失信信息 (joint-punishment and serious lists, 湖南 第十五条) is always of severity
  严重: 国办发〔2025〕22号 publishes it 1 to 3 years, so a serious-list entry marked 轻微 would be
  published three months and repairable at once.
- The publication window lies inside the severity's tier (国办发〔2025〕22号: 轻微 at most 3 months,
  一般 3 months to 1 year, 严重 1 to 3 years; numbers from the profile's publication.windows).
- 湖南 第十四条: whether a penalty used the ordinary procedure (普通程序) is recorded; see
  :func:`counts_as_dishonesty`.

Raises :class:`RecordRuleError` with a Chinese message and the offending field; the importer
turns it into a row-by-row report, the web form into a 400.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..documents.citations import own_note
from .vocab import RECORD_TYPES, SEVERITY_LABELS, InfoClass, Severity
from .windows import WindowError, check_window

DISHONEST_CLASSES = frozenset({InfoClass.DISHONEST, InfoClass.SERIOUS})
# Citation table: what 严重失信信息 is in each regulation (湖南 第十五条; 海南 第十四条第四款 defines
# 严重失信 by the same joint-punishment lists). A message keeps only the active profile's part.
SERIOUS_ARTICLE = "湖南 第十五条；海南 第十四条"


class RecordRuleError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class CheckedRecord:
    info_class: str
    severity: str | None
    ordinary_procedure: bool | None


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def check_record(profile, *, record_type: str, info_class: str | None, severity: str | None,
                 publish_from: date, publish_until: date | None,
                 ordinary_procedure: bool | None = None) -> CheckedRecord:
    """Check the rule-bound fields of one record; return the normalised class and severity.

    ``publish_until`` must already carry the profile's default when the input left it empty
    (:func:`portal.domain.windows.default_until`)."""
    if record_type not in RECORD_TYPES:
        raise RecordRuleError(f"未知的信息类型：{record_type}", "record_type")
    natural = RECORD_TYPES[record_type][1]
    info_class = info_class or natural
    if info_class not in set(InfoClass):
        raise RecordRuleError(f"未知的信息类别：{info_class}", "info_class")
    if info_class != natural and not (natural in DISHONEST_CLASSES and info_class in DISHONEST_CLASSES):
        raise RecordRuleError("信息类别与信息类型不符", "info_class")
    if info_class in DISHONEST_CLASSES:
        if severity not in set(Severity):
            raise RecordRuleError("失信信息必须注明严重程度（轻微、一般、严重）", "severity")
    elif severity:
        raise RecordRuleError("只有失信信息才有严重程度", "severity")
    if info_class == InfoClass.SERIOUS and severity != Severity.SERIOUS:
        raise RecordRuleError(
            f"严重失信信息的严重程度必须为“严重”，不能为“{SEVERITY_LABELS[Severity(severity)]}”"
            + own_note(f"{SERIOUS_ARTICLE}；{profile.window(Severity.SERIOUS).article}", profile.document), "severity")
    if ordinary_procedure is not None and record_type != "penalty":
        # 湖南 第十四条 under hunan (its [dishonesty] article); no article where the profile has none
        raise RecordRuleError("只有行政处罚才注明是否适用普通程序"
                              + own_note(profile.dishonesty.article if profile.dishonesty else "", profile.document),
                              "ordinary_procedure")
    try:
        check_window(profile, info_class, severity, publish_from, publish_until)
    except WindowError as exc:
        raise RecordRuleError(str(exc), "publish_until") from exc
    return CheckedRecord(info_class=str(info_class), severity=severity or None,
                         ordinary_procedure=ordinary_procedure)


def counts_as_dishonesty(record: Any, profile) -> bool:
    """Whether a dishonesty-class record is 失信信息 under ``profile`` (costs dishonesty points,
    may be repaired). Serious-class records always are (湖南 第十五条).

    A profile's ``dishonesty`` table narrows plain dishonesty: 湖南 第十四条 counts only
    penalties under the ordinary procedure, criminal penalties and refusing court rulings, so
    under the hunan profile 责令整改 and 不良执业行为记分 records and penalties under the simple
    procedure (``ordinary_procedure`` false) are not 失信. A penalty whose procedure was never
    recorded (``None``, records stored before the column existed) keeps counting: its grade
    does not change behind the subject's back.
    """
    info_class = _get(record, "info_class")
    if info_class == InfoClass.SERIOUS:
        return True
    if info_class != InfoClass.DISHONEST:
        return False
    scope = getattr(profile, "dishonesty", None)
    if scope is None:
        return True
    record_type = _get(record, "record_type")
    if scope.record_types and record_type not in scope.record_types:
        return False
    if record_type == "penalty" and scope.penalty_ordinary_procedure_only:
        return _get(record, "ordinary_procedure") is not False
    return True


def not_dishonesty_reason(record: Any, profile) -> str:
    """Why :func:`counts_as_dishonesty` is false for a dishonesty-class record, in Chinese."""
    scope = profile.dishonesty
    if _get(record, "record_type") == "penalty":
        return f"适用简易程序的行政处罚不属于失信信息（{scope.article}）"
    label = RECORD_TYPES.get(_get(record, "record_type"), (_get(record, "record_type"),))[0]
    return f"{label}不属于失信信息（{scope.article}）"
