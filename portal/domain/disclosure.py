"""The privacy boundary: the one place that decides what the public may see.

DESIGN.md "The privacy boundary"; 海南 第二十三条 (three ways of disclosure), 第二十七条
(non-public information only to the subject or an authorised third party); 国办发〔2025〕22号
(publication windows end automatically; 轻微失信信息可以不予公示: a tier the profile marks
``published = false`` is never public); 湖南 第三十一条 / 湖南医保 第二十五条 (a repaired record
stops being published but stays on file). Public pages, the index, the QR page, the public API
and the chatbot read nothing but the dicts returned here.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .identifiers import scrub_personal_data
from .provision import CHANNEL_LABELS
from .vocab import (
    CATEGORIES,
    INFO_CLASS_LABELS,
    SEVERITY_LABELS,
    SUBJECT_STATUS_LABELS,
    RecordStatus,
    Scope,
    SubjectKind,
    record_type_label,
)

ADULT_AGE = 18


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def in_window(publish_from: date | None, publish_until: date | None, today: date) -> bool:
    """A record is published from ``publish_from`` through ``publish_until`` inclusive."""
    if publish_from is None or publish_from > today:
        return False
    return publish_until is None or today <= publish_until


def unpublished_severities(profile) -> frozenset[str]:
    """Severities whose tier the profile does not publish (``publication.windows.<tier>.published =
    false``; 国办发〔2025〕22号: 轻微失信信息可以不予公示).

    Decided here, when the record is read, not when it is stored: the profile is the jurisdiction's
    current rule, so turning a tier off hides records stored before the change too (after
    ``credit-portal index rebuild`` for the search index), and turning it back on needs no data
    migration. The record itself keeps the scope the providing unit gave it (海南 第二十六条)."""
    return frozenset(w.severity for w in profile.publication.windows if not w.published)


def is_public(record: Any, today: date, *, profile) -> bool:
    """``profile`` is required: whether a severity tier is published at all is the profile's rule."""
    return (
        _get(record, "scope") == Scope.PUBLIC
        and _get(record, "is_current", True)
        and _get(record, "status") == RecordStatus.ACTIVE
        and in_window(_get(record, "publish_from"), _get(record, "publish_until"), today)
        and _get(record, "severity") not in unpublished_severities(profile)
    )


def publishable(record: Any, today: date, birth_on: date | None = None, *, profile) -> bool:
    """Whether ``public_view`` shows the record, without building the view (lists count with it)."""
    if not is_public(record, today, profile=profile):
        return False
    return birth_on is None or not was_minor_on(birth_on, _get(record, "decided_on"))


def subject_publishable(subject: Any, today: date) -> bool:
    """Whether ``public_subject`` shows the subject: never a minor, nor a person of unknown age."""
    birth = _get(subject, "birth_on")
    return _get(subject, "kind") != SubjectKind.PERSON or (birth is not None and _age_on(birth, today) >= ADULT_AGE)


def public_view(record: Any, today: date, birth_on: date | None = None, *, profile) -> dict | None:
    """The public form of a credit record, or ``None`` when the public may not see it.

    ``None`` unless the scope is *public*, the record is the current version, its status is
    active (not repaired / withdrawn / deleted / superseded), ``today`` is inside its
    publication window and the profile publishes its severity tier. ``birth_on`` (a natural person's) also hides a record about what the
    person did as a minor, for good: information about minors is not published (DOMAIN.md
    "Disclosure"), and turning 18 does not change what they did before. Free text goes through
    ``scrub_personal_data`` (a person's 住所 is a home address: masked too); a ``public_summary``
    given at import (公示摘要) replaces the content, and is scrubbed as well.
    """
    if not publishable(record, today, birth_on, profile=profile):
        return None
    info_class = _get(record, "info_class")
    severity = _get(record, "severity")
    return {
        "id": _get(record, "lineage_id") or _get(record, "id"),
        "record_type": _get(record, "record_type"),
        "type_label": record_type_label(_get(record, "record_type")),
        "info_class": info_class,
        "class_label": INFO_CLASS_LABELS.get(info_class, info_class),
        "severity": severity,
        "severity_label": SEVERITY_LABELS.get(severity, "") if severity else "",
        "title": scrub_personal_data(_get(record, "title") or "", birth_on is not None),
        "content": scrub_personal_data(_get(record, "public_summary") or _get(record, "content") or "",
                                       birth_on is not None),
        "doc_no": _get(record, "doc_no") or "",
        "authority": _get(record, "authority") or "",
        "decided_on": _get(record, "decided_on"),
        "publish_from": _get(record, "publish_from"),
        "publish_until": _get(record, "publish_until"),
        # 海南 第二十二条: information from another channel (行业协会, 第三方信用服务机构) says so.
        "source_label": _channel_label(_get(record, "source_channel")),
    }


def _channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel, "") if channel else ""


def _age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def was_minor_on(birth: date, day: date | None) -> bool:
    """Under 18 on ``day`` (an unknown day counts as a minor's: nothing is published on a guess)."""
    return day is None or _age_on(birth, day) < ADULT_AGE


def public_subject(subject: Any, today: date, employer_name: str = "") -> dict | None:
    """The public form of a credit subject, or ``None`` (minors are never published, DOMAIN.md).

    Organisations show their registration data (name, USCC, address, licence, legal
    representative). Natural persons show name, profession and employer only: no ID number
    beyond its masked form, no home address, no phone.
    """
    if not subject_publishable(subject, today):
        return None
    kind = _get(subject, "kind")
    category = _get(subject, "category")
    status = _get(subject, "status") or "active"
    view = {
        "public_id": _get(subject, "public_id"),
        "kind": kind,
        "name": _get(subject, "name"),
        "category": category,
        "category_label": CATEGORIES.get(category, (category, None))[0],
        "region_code": _get(subject, "region_code"),
        "status": status,
        "status_label": SUBJECT_STATUS_LABELS.get(status, status),
    }
    if kind == SubjectKind.ORG:
        view.update(
            credit_code=_get(subject, "credit_code") or "",
            address=scrub_personal_data(_get(subject, "address") or ""),
            licence_no=_get(subject, "licence_no") or "",
            licence_valid_until=_get(subject, "licence_valid_until"),
            legal_rep=_get(subject, "legal_rep") or "",
        )
    else:
        view.update(
            credit_code="",
            code_masked=_get(subject, "code_masked") or "",  # masked when stored
            address="",
            licence_no="",
            licence_valid_until=None,
            legal_rep="",
            employer_name=employer_name,
        )
    return view
