"""Public search, as the portal asks it: through the backend, with the window re-checked."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_index import SearchQuery, SearchResults

from .. import metrics
from ..models import Subject
from . import indexing

FILTER_KEYS = ("category", "region_code", "grade", "record_types", "kind")
MAX_PAGE = 500


def clean_filters(args, profile) -> dict[str, str]:
    """Only known facet values pass; anything else is dropped, never an error."""
    from ..domain.vocab import CATEGORIES, RECORD_TYPES

    allowed = {
        "category": set(CATEGORIES),
        "region_code": {r.code for r in profile.regions},
        "grade": {g.letter for g in profile.grades},
        "record_types": set(RECORD_TYPES),
        "kind": {"org", "person"},
    }
    out = {}
    for key in FILTER_KEYS:
        value = (args.get(key) or "").strip()
        if value in allowed[key]:
            out[key] = value
    return out


#: ``?sort=`` values a citizen may pick (issue #13); anything else is the default order.
SORT_LABELS = {"": "最相关", "region": "按地区"}


def parse_sort(raw: str | None) -> str:
    """``"region"`` or ``""`` (best match, then the riskier unit first among equals)."""
    return raw if raw in SORT_LABELS else ""


def parse_page(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


def search_public(session: Session, backend, profile, today: date, text: str, filters: dict[str, str],
                  page: int = 1, per_page: int = 20, sort: str = "") -> SearchResults:
    started = metrics.monotonic()
    results = backend.search(SearchQuery(text=text, filters=filters, page=page, per_page=per_page,
                                         sort=parse_sort(sort)))
    metrics.observe_search(backend, metrics.monotonic() - started)  # /metrics, per backend (#17)
    # Defence in depth: a document whose publication window ended since it was indexed is
    # rebuilt from the database before anyone sees it, and re-queued for the index.
    stale = [h for h in results.hits if h.doc.get("stale_after") and h.doc["stale_after"] < today.isoformat()]
    if not stale:
        return results
    ids = dict(session.execute(select(Subject.public_id, Subject.id)
                               .where(Subject.public_id.in_([h.id for h in stale]))).all())
    fresh = indexing.build_documents(session, list(ids.values()), today, profile)
    hits = []
    for h in results.hits:
        if h in stale:
            doc = fresh.get(ids.get(h.id))
            if doc is None:
                continue
            h = replace(h, doc=doc)
        hits.append(h)
    for sid in ids.values():
        indexing.enqueue(session, sid, "stale")
    session.commit()
    return replace(results, hits=hits)
