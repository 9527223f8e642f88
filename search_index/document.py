"""The indexed document: a plain dict per credit subject, already public (see DESIGN.md).

``prepare`` derives what every backend indexes from it, so that backends agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .analysis import code_variants, compact, name_codes, normalize, normalize_code
from .base import FACETS, clean_risk_rank


@dataclass(frozen=True)
class Prepared:
    id: str
    doc: dict  # JSON round-tripped copy, exactly what a hit returns
    name: str
    titles: str  # one title per line
    extra: str  # category label, region name and address: matched, ranked last
    codes: tuple[str, ...]  # normalize_code()d, with their code_variants() (USCC prefixes …)
    name_key: str  # compact(normalize(name)): exact / prefix ranking
    facets: dict[str, tuple[str, ...]]  # one value each, several for record_types
    risk: int = 0  # the document's ``risk_rank``: higher sorts first among equal matches

    @property
    def region(self) -> str:
        return self.facets["region_code"][0] if self.facets["region_code"] else ""


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [s for s in (str(v).strip() for v in value if v is not None) if s]


def prepare(doc: dict) -> Prepared:
    if not isinstance(doc, dict):
        raise TypeError(f"search documents are dicts, not {type(doc).__name__}")
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"search document without a string id: {doc_id!r}")
    copy = json.loads(json.dumps(doc, ensure_ascii=False, default=str))
    name = str(doc.get("name") or "")
    facets = {f: tuple(_strings(doc.get(f))[:1]) for f in FACETS}
    facets["record_types"] = tuple(sorted({v.replace(",", " ") for v in _strings(doc.get("record_types"))}))
    return Prepared(
        id=doc_id,
        doc=copy,
        name=name,
        titles="\n".join(_strings(doc.get("titles"))),
        extra=" ".join(_strings([doc.get("category_label"), doc.get("region_name"), doc.get("address")])),
        codes=tuple(sorted({v for c in map(normalize_code, _strings(doc.get("codes"))) if c for v in code_variants(c)}
                           | name_codes(name))),  # a name ending in digits is typed as a code
        name_key=compact(normalize(name)),
        facets=facets,
        risk=clean_risk_rank(doc.get("risk_rank")),
    )
