"""Credit commitments and self-declared information as pure rules (issue 16).

- 海南 第九条: commitments and the subject's fulfilment (践诺履约情况) are recorded and made public;
  第十条: the commitment types (the profile's ``commitments.types``); 第十一条: a subject with serious
  dishonesty or an earlier false (broken) commitment may not use the commitments that replace an
  approval or a certificate (审批替代型、证明事项告知型).
- 阳山 四（一）: the legal representative signs electronically; 践诺 is part of daily supervision.
- 淮安 三（六）: subjects may declare licences, operations, contract performance and public-interest
  work themselves, committing to its truth; staff check it before it is shown, marked 自主申报.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .windows import add_months

#: 海南 第十一条: 审批替代型 (许可告知承诺、容缺受理) and 证明事项告知型 commitments.
RESTRICTED_TYPES = frozenset({"licensing", "tolerance", "certification"})
#: 淮安 三（六）: what a declared item becomes on the public page (a record type of domain.vocab).
DECLARATION_RECORD_TYPES = {"licence": "licence", "operation": "registration", "contract": "registration",
                            "public_interest": "volunteer"}
SELF_DECLARED = "自主申报"


def _get(obj: Any, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def valid_until(signed_on: date, months: int, asked: date | None = None) -> date:
    """The commitment's term: the date the subject gave, else the profile's term."""
    return asked if asked is not None else add_months(signed_on, months)


def restriction(ctype: str, records: list[Any], commitments: list[Any], basis: str) -> str | None:
    """Why a subject may not make this commitment (海南 第十一条), or ``None``. ``basis``: the citation
    the active profile may show, i.e. the own parts of the citation table (``own_parts``); no default,
    so no caller can show 海南's draft under another profile. With "" the message says it is this
    platform's practice instead of citing another province."""
    if ctype not in RESTRICTED_TYPES:
        return None
    why = f"（{basis}）" if basis else "（本平台执行的做法）"
    if any(_get(r, "info_class") == "serious" and _get(r, "status") == "active" for r in records):
        return "有严重失信行为的信用主体，不适用审批替代型和证明事项告知型信用承诺" + why
    if any(_get(c, "status") == "broken" for c in commitments):
        return "曾作出虚假承诺或违反承诺的信用主体，不适用审批替代型和证明事项告知型信用承诺" + why
    return None


def broken_by(commitment: Any, record: Any) -> bool:
    """A dishonesty record decided during the commitment's term breaks it (践诺 tracked, 海南 第九条)."""
    return (_get(commitment, "status") == "active" and _get(record, "info_class") in ("dishonest", "serious")
            and _get(commitment, "signed_on") <= _get(record, "decided_on") <= _get(commitment, "valid_until"))
