"""The subject's own view of its records: every version, with scope, window, status and why a
record is or is not published today (海南 第二十七条: the subject sees all of its information;
海南 第五十二条: corrections keep their history; 海南 第二十九条: the grade is explained).

Pure functions over records (ORM objects or dicts); shared by the web page and the PDF report.

The subject is entitled to its records, not to the identity of the people in them: record text
shown or printed for the subject (or for a third party it authorised) goes through
``subject_text``, which masks complainants, patients, on-site contacts and their health data
as the public view does, and keeps the subject's own name, address and phone (湖南 第四条;
海南 第五条). Staff pages show the full text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .disclosure import in_window, is_public, unpublished_severities
from .identifiers import scrub_personal_data
from .vocab import (
    INFO_CLASS_LABELS,
    RECORD_STATUS_LABELS,
    SCOPE_LABELS,
    SEVERITY_LABELS,
    RecordStatus,
    Scope,
    record_type_label,
)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


_OWN_FIELDS = ("name", "address", "phone", "legal_rep", "credit_code", "licence_no")
_SLOT = "\ue000"


def own_values(subject: Any) -> tuple[str, ...]:
    """The subject's own data that may appear in its records and stays in its own view."""
    values = {str(_get(subject, f) or "").strip() for f in _OWN_FIELDS}
    return tuple(sorted((v for v in values if len(v) >= 2), key=len, reverse=True))


def subject_text(text: str, own: tuple[str, ...] = ()) -> str:
    """Record text for the subject: other people's personal data masked, its own kept.

    The subject's own values are set aside (as private-use characters no rule touches) while
    ``scrub_personal_data`` runs, then put back.
    """
    if not text:
        return ""
    kept: list[str] = []
    for value in own:
        if value in text:
            text = text.replace(value, f"{_SLOT}{chr(0xE100 + len(kept))}{_SLOT}")
            kept.append(value)
    text = scrub_personal_data(text)
    for i, value in enumerate(kept):
        text = text.replace(f"{_SLOT}{chr(0xE100 + i)}{_SLOT}", value)
    return text


def publication_state(record: Any, today: date, profile) -> str:
    """Why the public does or does not see this record today, in words."""
    if is_public(record, today, profile=profile):
        return "正在公示"
    status = _get(record, "status")
    if status != RecordStatus.ACTIVE:
        return f"不公示（{RECORD_STATUS_LABELS.get(status, status)}）"
    scope = _get(record, "scope")
    if scope != Scope.PUBLIC:
        return f"不公开（{SCOPE_LABELS.get(scope, scope)}）"
    start, end = _get(record, "publish_from"), _get(record, "publish_until")
    if start is not None and start > today:
        return "尚未开始公示"
    if not in_window(start, end, today):
        return "公示期已满"
    severity = _get(record, "severity")
    if severity in unpublished_severities(profile):
        return f"不公示（{SEVERITY_LABELS.get(severity, severity)}失信信息依规定不予公示，{profile.window(severity).article}）"
    return "不公示"


@dataclass
class RecordRow:
    """One lineage: its current (or latest) version and the older versions, newest first."""

    current: Any
    history: list = field(default_factory=list)
    public_now: bool = False
    state: str = ""
    title: str = ""  # the current version's text as the subject may see it (``subject_text``)
    content: str = ""
    change_reason: str = ""
    history_titles: list = field(default_factory=list)

    @property
    def labels(self) -> dict:
        r = self.current
        severity = _get(r, "severity")
        return {
            "type": record_type_label(_get(r, "record_type")),
            "class": INFO_CLASS_LABELS.get(_get(r, "info_class"), _get(r, "info_class")),
            "severity": SEVERITY_LABELS.get(severity, "") if severity else "",
            "scope": SCOPE_LABELS.get(_get(r, "scope"), _get(r, "scope")),
            "status": RECORD_STATUS_LABELS.get(_get(r, "status"), _get(r, "status")),
        }


def record_rows(records: list, today: date, profile, own: tuple[str, ...] = ()) -> list[RecordRow]:
    """Group record versions by lineage, newest decision first; texts through ``subject_text``
    (``own``: the subject's ``own_values``)."""
    lineages: dict[Any, list] = {}
    for r in records:
        lineages.setdefault(_get(r, "lineage_id") or _get(r, "id"), []).append(r)
    rows = []
    for versions in lineages.values():
        versions.sort(key=lambda v: _get(v, "version") or 1, reverse=True)
        current = next((v for v in versions if _get(v, "is_current", True)), versions[0])
        history = [v for v in versions if v is not current]
        rows.append(RecordRow(current=current, history=history, public_now=is_public(current, today, profile=profile),
                              state=publication_state(current, today, profile),
                              title=subject_text(_get(current, "title") or "", own),
                              content=subject_text(_get(current, "content") or "", own),
                              change_reason=subject_text(_get(current, "change_reason") or "", own),
                              history_titles=[subject_text(_get(v, "title") or "", own) for v in history]))
    rows.sort(key=lambda row: (_get(row.current, "decided_on") or date.min, _get(row.current, "id") or 0),
              reverse=True)
    return rows


@dataclass(frozen=True)
class ExplanationRow:
    label: str  # which record (or rule) moved the score
    delta: int | None  # by how much
    rule: str  # the profile rule, with its article when known
    record_id: Any = None


def explanation_rows(explanation: Any, own: tuple[str, ...] = ()) -> list[ExplanationRow]:
    """A grade's stored explanation as rows (tolerant of the shapes the grading may store); the
    labels are record titles, so they go through ``subject_text`` too."""
    rows: list[ExplanationRow] = []
    for item in explanation or []:
        if not isinstance(item, dict):
            rows.append(ExplanationRow(subject_text(str(item), own), None, ""))
            continue
        label = next((str(item[k]) for k in ("title", "record_title", "label", "text", "reason") if item.get(k)), "")
        delta = next((item[k] for k in ("delta", "points", "score_delta") if isinstance(item.get(k), int)), None)
        rule_parts = [str(item[k]) for k in ("rule_text", "rule", "rule_id") if item.get(k)][:1]
        if item.get("article"):
            rule_parts.append(str(item["article"]))
        rows.append(ExplanationRow(subject_text(label, own) or "—", delta, "，".join(rule_parts),
                                   item.get("record_id") or item.get("lineage_id")))
    return rows
