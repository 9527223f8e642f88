"""The request bodies of the sharing API's writes, declared once: the JSON validator below and
the OpenAPI document (``portal/web/api_openapi.py``) are both built from these tables, so the
document cannot drift from what the API accepts. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .vocab import CATEGORIES, INFO_CLASS_LABELS, RECORD_TYPES, SCOPE_LABELS, SEVERITY_LABELS, SUBJECT_KIND_LABELS


@dataclass(frozen=True)
class Field:
    kind: str  # string, date, boolean, enum
    label: str  # Chinese, for messages
    max_length: int = 0
    choices: tuple[str, ...] = ()
    nullable: bool = False


def _codes(labels) -> tuple[str, ...]:
    return tuple(str(k) for k in labels)


RECORD_FIELDS: dict[str, Field] = {
    "record_type": Field("enum", "信息类型", choices=tuple(RECORD_TYPES)),
    "info_class": Field("enum", "信息类别", choices=_codes(INFO_CLASS_LABELS), nullable=True),
    "severity": Field("enum", "严重程度", choices=_codes(SEVERITY_LABELS), nullable=True),
    "title": Field("string", "标题", 300),
    "content": Field("string", "内容", 5000),
    "public_summary": Field("string", "公示摘要", 2000),
    "doc_no": Field("string", "文书号", 120),
    "decided_on": Field("date", "决定日期"),
    "scope": Field("enum", "公开方式", choices=_codes(SCOPE_LABELS)),
    "publish_from": Field("date", "公示起始日期", nullable=True),
    "publish_until": Field("date", "公示截止日期", nullable=True),
    "ordinary_procedure": Field("boolean", "普通程序", nullable=True),
}
SUBJECT_FIELDS: dict[str, Field] = {
    "subject_code": Field("string", "主体代码", 18),
    "subject_name": Field("string", "主体名称", 200),
    "subject_kind": Field("enum", "主体类型", choices=_codes(SUBJECT_KIND_LABELS)),
    "category": Field("enum", "主体类别", choices=tuple(CATEGORIES)),
    "region_code": Field("string", "区划代码", 6),
}
NEW_RECORD = {**SUBJECT_FIELDS, **RECORD_FIELDS}
NEW_RECORD_REQUIRED = ("subject_code", "record_type", "title", "decided_on", "scope")
REASON = Field("string", "理由", 300)
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._-]{8,100}")


class FieldError(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def clean_value(name: str, spec: Field, value):
    """One JSON value checked against its declaration (dates become ``date``)."""
    if value is None:
        if spec.nullable:
            return None
        raise FieldError(name, f"{spec.label}不能为空")
    if spec.kind == "boolean":
        if not isinstance(value, bool):
            raise FieldError(name, f"{spec.label}须为 true 或 false")
        return value
    if not isinstance(value, str):
        raise FieldError(name, f"{spec.label}须为字符串")
    if spec.kind == "enum":
        if value not in spec.choices:
            raise FieldError(name, f"未知的{spec.label}代码“{value[:30]}”")
        return value
    if spec.kind == "date":
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise FieldError(name, f"{spec.label}须为 YYYY-MM-DD 格式的日期") from None
    if spec.max_length and len(value) > spec.max_length:
        raise FieldError(name, f"{spec.label}不超过 {spec.max_length} 字")
    return value


def clean_object(body, fields: dict[str, Field], required=()) -> dict:
    """A JSON object of declared fields: no unknown ones, required ones present, each typed."""
    if not isinstance(body, dict):
        raise FieldError("body", "请求体须为 JSON 对象")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise FieldError(unknown[0][:40], "不是可接受的字段")
    missing = [k for k in required if body.get(k) in (None, "")]
    if missing:
        raise FieldError(missing[0], f"{fields[missing[0]].label}为必填项")
    return {k: clean_value(k, fields[k], v) for k, v in body.items()}


def clean_reason(body, extra: dict[str, Field] | None = None) -> dict:
    """``{"reason": …}`` (and, for a correction, ``changes``) with a non-empty reason."""
    fields = {"reason": REASON, **(extra or {})}
    out = clean_object(body, fields, ("reason",))
    if not out["reason"].strip():
        raise FieldError("reason", "理由不能为空")
    return out
