"""Whoosh backend (whoosh-reloaded): one directory, index generations swapped atomically.

Layout under ``path`` (see :mod:`.storage`): ``CURRENT`` names the live index directory;
``rebuild()`` builds a new one and swaps it in, so searchers in every thread and process
move over on their next search.

Matching: CJK bigram postings give candidates; a run of 3+ characters is then checked as an
exact substring of the normalised field text kept in a column (what a bigram phrase query
does, without Whoosh's slow span matching). Ranking and facet counts read one ``meta``
column per matching document and share their rules with the memory backend.

Searchers are not thread-safe and cost 60–100 ms to open: one per thread, reopened when the
index changed (not ``refresh()``ed: Whoosh's segment reuse shows deleted and merged-away copies). Writes take a thread lock and an
``flock`` on ``write.lock``: one writer at a time across processes, by design.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import Token, Tokenizer
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.reading import TermNotFound

from .analysis import CJK, WORD, bigrams, index_tokens, normalize
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
from .storage import IndexDirectory, IndexLocked

__all__ = ["IndexLocked", "WhooshBackend"]


class BigramTokenizer(Tokenizer):
    """Whoosh tokenizer over :func:`analysis.index_tokens`. Pickled into the index schema by
    import path: renaming it needs a rebuild."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos in index_tokens(value):
            t.text, t.boost, t.stopped = text, 1.0, False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos + pos
            if chars:  # offsets in the normalised text; highlighting does not use them
                t.startchar, t.endchar = start_char + pos, start_char + pos + len(text)
            yield t


TEXT_FIELDS = ("name", "titles", "extra")


def make_schema() -> Schema:
    """Bigram fields find candidates; ``*_norm`` columns hold the normalised text that
    candidates are checked against (exact substring, no positions needed); ``meta`` holds
    what ranking and facet counts read per matching document."""
    bigram = dict(analyzer=BigramTokenizer(), phrase=False)
    return Schema(
        id=ID(stored=True, unique=True),
        doc=STORED(),  # the document as JSON
        name=TEXT(**bigram),
        titles=TEXT(**bigram),
        extra=TEXT(**bigram),
        name_norm=COLUMN(VarBytesColumn()),
        titles_norm=COLUMN(VarBytesColumn()),
        extra_norm=COLUMN(VarBytesColumn()),
        meta=COLUMN(VarBytesColumn()),
        codes=KEYWORD(lowercase=False),
        kind=ID(),
        category=ID(),
        region_code=ID(),
        grade=ID(),
        record_types=KEYWORD(commas=True, lowercase=False),
    )


def _fields(p: Prepared) -> dict:
    texts = {"name": p.name, "titles": p.titles, "extra": p.extra}
    meta = [p.name_key, p.id] + [list(p.facets[f]) for f in FACETS] + [p.risk]
    fields = {
        "id": p.id,
        "doc": json.dumps(p.doc, ensure_ascii=False),
        "meta": json.dumps(meta, ensure_ascii=False).encode(),
        **texts,
        **{f"{f}_norm": normalize(text).encode() for f, text in texts.items()},
    }
    if p.codes:
        fields["codes"] = " ".join(p.codes)
    for f in FACETS:
        if p.facets[f]:
            fields[f] = ",".join(p.facets[f])
    return fields


class _Matcher:
    """Evaluates a parsed query over one reader as sets of document numbers."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self._norm: dict[str, object] = {}

    def ids(self, field: str, term: str) -> set[int]:
        try:
            return set(self.reader.postings(field, term).all_ids())  # deletions excluded
        except TermNotFound:
            return set()

    def prefix_ids(self, field: str, prefix: str) -> set[int]:
        out: set[int] = set()
        for term in self.reader.expand_prefix(field, prefix):
            out |= self.ids(field, term)
        return out

    def text_ids(self, field: str, kind: str, term: str) -> set[int]:
        """Documents whose ``field`` contains a CJK run as a substring, or a word prefix."""
        if kind == WORD or len(term) == 1:
            return self.prefix_ids(field, term)  # each CJK character starts exactly one token
        grams = bigrams(term)
        found = self.ids(field, grams[0])
        for gram in grams[1:]:
            found &= self.ids(field, gram)
        if len(grams) > 1 and found:  # bigrams all present: check they are one substring
            if field not in self._norm:
                self._norm[field] = self.reader.column_reader(f"{field}_norm")
            column, needle = self._norm[field], term.encode()
            found = {d for d in found if needle in column[d]}
        return found

    def filter_ids(self, field: str, value: str) -> set[int]:
        prefix = region_prefix(value) if field == "region_code" else value
        return self.prefix_ids(field, prefix) if prefix != value else self.ids(field, value)


def _match(reader, pq: ParsedQuery, filters: dict[str, str]) -> tuple[set[int], set[int]]:
    """``(matching documents, those with every text term in the name)``."""
    m = _Matcher(reader)
    sets = [m.ids("codes", c) for c in pq.codes]
    sets += [m.filter_ids(f, v) for f, v in filters.items()]
    in_name: set[int] | None = None
    for kind, term in [(CJK, t) for t in pq.cjk] + [(WORD, w) for w in pq.words]:
        name = m.text_ids("name", kind, term)
        in_name = name if in_name is None else in_name & name
        sets.append(name | m.text_ids("titles", kind, term) | m.text_ids("extra", kind, term))
    sets.sort(key=len)
    matched = set(sets[0]) if sets else set()
    for other in sets[1:]:
        matched &= other
    return matched, in_name or set()


class WhooshBackend:
    def __init__(self, path: str | os.PathLike, *, lock_timeout: float = 30.0) -> None:
        self.root = Path(path)
        self.lock_timeout = lock_timeout
        self._dir = IndexDirectory(self.root, lock_timeout)
        self._schema = make_schema()
        self._local = threading.local()
        self._epoch = 0  # close() bumps it: thread-local searchers from before are dropped
        self._indexes: dict[str, whoosh_index.Index] = {}
        if self._current() is None:
            with self._writing():
                if self._current() is None:
                    self._swap_in(self._create())

    # -- layout -------------------------------------------------------------------------------

    def _current(self) -> str | None:
        return self._dir.current()

    def _index(self, name: str | None = None) -> whoosh_index.Index:
        name = name or self._current()
        if name is None:
            raise RuntimeError(f"no search index in {self.root}")
        ix = self._indexes.get(name)
        if ix is None:
            ix = self._indexes[name] = whoosh_index.open_dir(str(self.root / name))
        return ix

    def _create(self) -> str:
        name = self._dir.new_name()
        whoosh_index.create_in(str(self.root / name), self._schema)
        return name

    def _swap_in(self, name: str) -> None:
        for old in self._dir.swap_in(name):
            self._indexes.pop(old, None)

    def _writing(self):
        return self._dir.writing()

    # -- reading ------------------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher on the live index, refreshed if the index changed."""
        name = self._current()
        state = getattr(self._local, "state", None)
        if state is not None and state[0] == name and state[1] == self._epoch and state[2].up_to_date():
            searcher = state[2]
        else:
            # Never ``searcher.refresh()``: Whoosh's reader reuse keys segments by id only, so a
            # reused segment reader misses deletions made since (an upserted document's old copy
            # stays visible), and it appends the old segments that a merge replaced (every
            # document twice). A fresh searcher reads the committed TOC as it is.
            if state is not None:
                with contextlib.suppress(Exception):
                    state[2].close()
            searcher = self._index(name).searcher()
        self._local.state = (name, self._epoch, searcher)
        return searcher

    def count(self) -> int:
        return self._searcher().doc_count()

    def analysis_version(self) -> int | None:
        return self._dir.analysis_version()

    def generation(self) -> str:
        name = self._current()
        return f"{name}:{self._index(name).latest_generation()}"

    def search(self, q: SearchQuery) -> SearchResults:
        pq, filters, page, per_page, empty = start_search(q)
        if empty is not None:
            return empty
        try:
            return self._search(pq, filters, page, per_page, search_sort(q))
        except Exception:
            # A searcher left on an index directory that a rebuild removed: reopen once.
            self._local.state = None
            return self._search(pq, filters, page, per_page, search_sort(q))

    def _search(self, pq: ParsedQuery, filters: dict[str, str], page: int, per_page: int,
                sort: str = "") -> SearchResults:
        searcher = self._searcher()
        reader = searcher.reader()
        matched, in_name = _match(reader, pq, filters)
        meta_column = reader.column_reader("meta") if matched else None
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        ranked = []
        for d in matched:
            name_key, doc_id, *rest = json.loads(meta_column[d])
            facet_values = rest[:len(FACETS)]
            risk = rest[len(FACETS)] if len(rest) > len(FACETS) else 0  # an index from before risk_rank
            for f, values in zip(FACETS, facet_values, strict=False):
                for v in values:
                    counts[f][v] = counts[f].get(v, 0) + 1
            region = facet_values[FACETS.index("region_code")]
            ranked.append((order_key(sort, tier(pq, name_key, d in in_name), region[0] if region else "", risk,
                                     name_key, doc_id), d))
        ranked.sort()
        total = len(ranked)
        start, stop = page_slice(total, page, per_page)
        hits = [make_hit(json.loads(searcher.stored_fields(d)["doc"]), pq) for _, d in ranked[start:stop]]
        return SearchResults(total, page, per_page, page_count(total, per_page), hits, sorted_facets(counts))

    # -- writing ------------------------------------------------------------------------------

    def upsert(self, docs: Iterable[dict]) -> int:
        prepared = {p.id: p for p in map(prepare, docs)}
        if not prepared:
            return 0
        with self._writing():
            writer = self._index().writer(timeout=self.lock_timeout)
            try:
                for p in prepared.values():
                    writer.update_document(**_fields(p))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        return len(prepared)

    def delete(self, ids: Iterable[str]) -> int:
        ids = {i for i in ids if isinstance(i, str) and i}
        if not ids:
            return 0
        with self._writing():
            writer = self._index().writer(timeout=self.lock_timeout)
            try:
                n = sum(writer.delete_by_term("id", i) for i in ids)
            except BaseException:
                writer.cancel()
                raise
            if n:
                writer.commit()
            else:
                writer.cancel()
        return n

    def clear(self) -> None:
        self.rebuild([])

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Index ``docs`` into a new directory and swap it in. Ids must be unique (a repeated
        id keeps its first document). Writes from others wait until the swap."""
        with self._writing():
            name = self._create()
            seen: set[str] = set()
            try:
                writer = self._index(name).writer(limitmb=128)
                try:
                    for n, doc in enumerate(docs, 1):
                        p = prepare(doc)
                        if p.id not in seen:
                            seen.add(p.id)
                            writer.add_document(**_fields(p))
                        if progress:
                            progress(n)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(optimize=True)
            except BaseException:
                self._indexes.pop(name, None)
                self._dir.discard(name)
                raise
            self._swap_in(name)
        return len(seen)

    def close(self) -> None:
        """Close this thread's searcher; other threads reopen theirs on their next search."""
        self._epoch += 1
        state = getattr(self._local, "state", None)
        self._local.state = None
        if state is not None:
            state[2].close()
