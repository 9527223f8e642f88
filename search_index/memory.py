"""In-memory backend: the reference semantics, and the fake for the portal's unit tests."""
from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .analysis import ANALYSIS_VERSION, CJK, WORD, normalize, runs
from .base import (
    FACETS,
    SearchQuery,
    SearchResults,
    page_count,
    page_slice,
    region_prefix,
    sorted_facets,
)
from .document import Prepared, prepare
from .query import ParsedQuery, make_hit, order_key, search_sort, start_search, tier


@dataclass(frozen=True)
class _Text:
    norm: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        norm = normalize(text)
        return cls(norm, tuple(run for kind, _, run in runs(norm) if kind == WORD))

    def has(self, kind: str, term: str) -> bool:
        if kind == WORD:
            return any(w.startswith(term) for w in self.words)
        return term in self.norm  # a CJK run: substring


@dataclass(frozen=True)
class _Entry:
    p: Prepared
    name: _Text
    others: tuple[_Text, ...]  # titles, extra


def _entry(doc: dict) -> _Entry:
    p = prepare(doc)
    return _Entry(p, _Text.of(p.name), (_Text.of(p.titles), _Text.of(p.extra)))


def _passes(e: _Entry, filters: dict[str, str]) -> bool:
    for field, value in filters.items():
        values = e.p.facets[field]
        if field == "region_code" and (prefix := region_prefix(value)) != value:
            if not any(v.startswith(prefix) for v in values):
                return False
        elif value not in values:
            return False
    return True


def _tier(e: _Entry, pq: ParsedQuery) -> int | None:
    """The document's ranking tier, or None when it does not match."""
    if not all(c in e.p.codes for c in pq.codes):
        return None
    terms = [(CJK, t) for t in pq.cjk] + [(WORD, w) for w in pq.words]
    in_name = [e.name.has(kind, t) for kind, t in terms]
    for (kind, t), found in zip(terms, in_name, strict=False):
        if not found and not any(o.has(kind, t) for o in e.others):
            return None
    return tier(pq, e.p.name_key, bool(terms) and all(in_name))


class MemoryBackend:
    def __init__(self) -> None:
        self._docs: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._token = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)
        self._gen = 0

    def _changed(self) -> None:
        self._gen = next(self._counter)

    def upsert(self, docs: Iterable[dict]) -> int:
        entries = {e.p.id: e for e in map(_entry, docs)}
        with self._lock:
            self._docs.update(entries)
            if entries:
                self._changed()
        return len(entries)

    def delete(self, ids: Iterable[str]) -> int:
        with self._lock:
            n = sum(self._docs.pop(i, None) is not None for i in set(ids))
            if n:
                self._changed()
        return n

    def count(self) -> int:
        return len(self._docs)

    def analysis_version(self) -> int:
        return ANALYSIS_VERSION  # rebuilt from the documents in every process

    def clear(self) -> None:
        with self._lock:
            self._docs = {}
            self._changed()

    def rebuild(
        self, docs: Iterable[dict], progress: Callable[[int], None] | None = None
    ) -> int:
        fresh: dict[str, _Entry] = {}
        for n, doc in enumerate(docs, 1):
            e = _entry(doc)
            fresh.setdefault(e.p.id, e)  # ids are unique; a repeated id keeps the first
            if progress:
                progress(n)
        with self._lock:
            self._docs = fresh
            self._changed()
        return len(fresh)

    def generation(self) -> str:
        return f"memory-{self._token}-{self._gen}"

    def close(self) -> None:
        pass

    def search(self, q: SearchQuery) -> SearchResults:
        pq, filters, page, per_page, empty = start_search(q)
        matched: list[tuple[int, _Entry]] = []
        if empty is None:
            with self._lock:
                entries = list(self._docs.values())
            for e in entries:
                if _passes(e, filters) and (s := _tier(e, pq)) is not None:
                    matched.append((s, e))
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        for _, e in matched:
            for field in FACETS:
                for v in e.p.facets[field]:
                    counts[field][v] = counts[field].get(v, 0) + 1
        sort = search_sort(q)
        matched.sort(key=lambda se: order_key(sort, se[0], se[1].p.region, se[1].p.risk, se[1].p.name_key,
                                              se[1].p.id))
        start, stop = page_slice(len(matched), page, per_page)
        return SearchResults(
            total=len(matched),
            page=page,
            per_page=per_page,
            pages=page_count(len(matched), per_page),
            hits=[make_hit(copy.deepcopy(e.p.doc), pq) for _, e in matched[start:stop]],
            facets=sorted_facets(counts),
        )
