"""The search contract: query, results and the backend protocol every backend implements."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Facet fields, in display order. ``record_types`` is multi-valued.
FACETS: tuple[str, ...] = ("kind", "category", "region_code", "grade", "record_types")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
#: Results past this position are not served (total stays exact); deep paging is for crawlers.
MAX_WINDOW = 10_000
MAX_FILTER_CHARS = 64  # a longer filter value is cut (and then matches nothing real)
#: Result orders: "" = best match first (then the riskier document among equals, see
#: ``query.sort_key``); "region" = by region code, riskier first within a region.
SORTS: tuple[str, ...] = ("", "region")
#: A document's ``risk_rank`` (0 = none) is clamped to this; higher ranks sort first among equals.
MAX_RISK_RANK = 9

#: A highlighted text as segments ``(text, is_match)``; ``"".join(t for t, _ in segs)`` is the text.
Segments = list[tuple[str, bool]]


class IndexLocked(TimeoutError):
    """Another writer held the index for longer than the backend's lock timeout (e.g. a rebuild)."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1  # 1-based; < 1 counts as 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""  # one of SORTS; anything else is the default order


@dataclass(frozen=True)
class Hit:
    id: str
    doc: dict  # the document as indexed
    highlights: dict[str, Segments]  # "name" always; "address" / "titles" when they matched


@dataclass(frozen=True)
class SearchResults:
    total: int
    page: int
    per_page: int
    pages: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]  # every FACETS field; most frequent first


@runtime_checkable
class SearchBackend(Protocol):
    def upsert(self, docs: Iterable[dict]) -> int:
        """Add or replace documents by ``id``; returns how many were written."""

    def delete(self, ids: Iterable[str]) -> int:
        """Remove documents; returns how many existed."""

    def search(self, q: SearchQuery) -> SearchResults:
        """Never raises on user input."""

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def rebuild(
        self, docs: Iterable[dict], progress: Callable[[int], None] | None = None
    ) -> int:
        """Build a fresh index from ``docs`` and swap it in; searches keep working meanwhile.
        ``progress`` is called with the running count. Returns the number indexed."""

    def generation(self) -> str:
        """An opaque string that changes whenever the index changes (for caches)."""

    def close(self) -> None: ...


def clamp_paging(page, per_page) -> tuple[int, int]:
    """``(page, per_page)`` made sane: page >= 1, 1 <= per_page <= MAX_PER_PAGE."""
    try:
        page = int(page)
    except (TypeError, ValueError, OverflowError):
        page = 1
    try:
        per_page = int(per_page)
    except (TypeError, ValueError, OverflowError):
        per_page = DEFAULT_PER_PAGE
    return max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)


def clean_sort(sort) -> str:
    return sort if isinstance(sort, str) and sort in SORTS else ""


def clean_risk_rank(value) -> int:
    """A document's ``risk_rank`` as an int in ``0..MAX_RISK_RANK``; anything else is 0."""
    try:
        rank = int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0
    return min(max(rank, 0), MAX_RISK_RANK)


def page_slice(total: int, page: int, per_page: int) -> tuple[int, int]:
    """``(start, stop)`` positions of ``page`` within ``total`` results, bounded by MAX_WINDOW."""
    start = min((page - 1) * per_page, MAX_WINDOW)
    return start, min(start + per_page, total, MAX_WINDOW)


def page_count(total: int, per_page: int) -> int:
    return math.ceil(total / per_page)


def clean_filters(filters) -> dict[str, str]:
    """Known facet fields with non-empty string values; anything else is dropped."""
    out: dict[str, str] = {}
    if not isinstance(filters, dict):
        return out
    for key in FACETS:
        value = filters.get(key)
        if value is None or isinstance(value, (list, tuple, dict, set)):
            continue
        value = str(value).strip()[:MAX_FILTER_CHARS]
        value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates match nothing
        if value:
            out[key] = value
    return out


def region_prefix(code: str) -> str:
    """A six-digit region code without trailing ``00`` pairs, so that a city (430100) or a
    province (430000) filter also matches its districts (430102)."""
    if len(code) == 6 and code.isdigit():
        while len(code) > 2 and code.endswith("00"):
            code = code[:-2]
    return code


def sorted_facets(counts: dict[str, dict[str, int]]) -> dict[str, list[tuple[str, int]]]:
    return {
        f: sorted(counts.get(f, {}).items(), key=lambda kv: (-kv[1], kv[0])) for f in FACETS
    }
