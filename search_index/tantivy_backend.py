"""tantivy backend (tantivy-py): matching, ranking, paging and facet counts run in Rust.

Same layout and writer lock as the Whoosh backend (see :mod:`.storage`): ``CURRENT`` names
the live index directory, ``rebuild()`` builds a new one and swaps it in, one writer at a
time across processes (``flock``), readers move over on their next search.

Tokens come from the shared analysis (:func:`analysis.runs` of normalised text), computed in
Python and joined by spaces into fields that tantivy splits on whitespace. ``name`` and
``all`` (name, titles and extra together) each have four gram fields, so that every query
term is one term lookup, with no regex or term expansion at query time:

- ``name1`` / ``all1``: every CJK character, and every prefix of every letter/digit word
  (words match by prefix; a query word is at most MAX_QUERY_CHARS long);
- ``name2`` / ``name3`` (and ``all2`` / ``all3``): CJK bigrams and trigrams;
- ``name4`` / ``all4``: CJK 4-grams with positions, each run followed by a separator token:
  a four-character run is one term, a longer one the phrase of its consecutive 4-grams,
  which matches exactly where the run is a substring.

Positional phrase checks cost ~10x a term lookup, so only runs of five or more characters
(rare in the index, hence few candidates) pay for them. Prefixes that ranking and the region
filter ask for (``name_key_prefix``, ``region_code_prefix``) are indexed the same way.

Ranking (:func:`query.sort_key`) without scoring matches in Python: each tier (exact name,
name prefix, all terms in the name, elsewhere) is its own query, and inside a tier tantivy
orders by a string fast field ``sort`` = ``9 - risk_rank`` + zero-padded ``len(name_key)`` +
``name_key`` + ``id``, whose byte order is the tuple order. ``sort="region"`` is one query
ordered by ``sort_region`` = region code + ``\x01`` + ``sort`` (the separator sorts before
every character of a code, so a shorter code that is a prefix comes first, as in Python). One aggregation gives the total and the facet
counts over all matches; then tiers are asked, best first, only until the page is full.
A multi-valued facet (``record_types``) is counted from a single-valued fast field holding
the document's whole set, ~10x faster to aggregate than a multi-valued column.

Readers: one ``tantivy.Index`` per process on the live directory, reloaded when its
``meta.json`` changed (checked on every search with one ``stat``), so a commit by another
process is visible on the next search there.
"""
from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy
from tantivy import Document, Occur, Order, Query

from .analysis import CJK, WORD, normalize, runs
from .base import (
    FACETS,
    MAX_FILTER_CHARS,
    MAX_RISK_RANK,
    MAX_WINDOW,
    SearchQuery,
    SearchResults,
    page_count,
    region_prefix,
    sorted_facets,
)
from .document import Prepared, prepare
from .query import MAX_QUERY_CHARS, ParsedQuery, make_hit, search_sort, start_search
from .storage import IndexDirectory, IndexLocked

__all__ = ["IndexLocked", "TantivyBackend"]

#: Splits the pre-computed tokens; registered on every Index opened (tantivy does not store it).
TOKENS = "portal_tokens"
#: Facets with several values per document, counted from a ``<facet>_set`` fast field.
MULTI_VALUED = frozenset({"record_types"})
_RUN_END = "|"  # separates runs in the 4-gram fields (never a query token)
_MAX_PREFIX = max(MAX_QUERY_CHARS, MAX_FILTER_CHARS)  # no query term or filter is longer
_SORT_LEN_DIGITS = 6
_WRITE_HEAP = 32_000_000  # per-change writers: one thread
_REBUILD_HEAP = 256_000_000
_MAX_BUCKETS = 65_000  # tantivy's default bucket limit per aggregation request
_SURROGATE = re.compile("[\ud800-\udfff]")


def make_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    raw = {"tokenizer_name": "raw", "index_option": "basic"}
    sb.add_text_field("id", **raw)
    sb.add_bytes_field("doc", stored=True)  # the document as JSON
    for scope in ("name", "all"):
        for n in (1, 2, 3):
            sb.add_text_field(f"{scope}{n}", tokenizer_name=TOKENS, index_option="basic")
        sb.add_text_field(f"{scope}4", tokenizer_name=TOKENS, index_option="position")
    sb.add_text_field("codes", **raw)
    sb.add_text_field("name_key", **raw)
    sb.add_text_field("name_key_prefix", tokenizer_name=TOKENS, index_option="basic")
    sb.add_text_field("sort", fast=True, **raw)
    sb.add_text_field("sort_region", fast=True, **raw)
    for f in FACETS:
        sb.add_text_field(f, fast=f not in MULTI_VALUED, **raw)
        if f in MULTI_VALUED:
            sb.add_text_field(f"{f}_set", fast=True, **raw)
    sb.add_text_field("region_code_prefix", **raw)
    return sb.build()


def _analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _valid(text: str) -> str:
    """tantivy takes UTF-8: a lone surrogate (possible in a Python str) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _prefixes(word: str) -> list[str]:
    return [word[:i] for i in range(1, min(len(word), _MAX_PREFIX) + 1)]


def grams(text: str) -> tuple[str, str, str, str]:
    """The space-separated tokens of ``text`` for the gram fields 1 to 4 (see above)."""
    one: list[str] = []
    two: list[str] = []
    three: list[str] = []
    four: list[str] = []
    for kind, _, run in runs(normalize(text)):
        if kind == WORD:
            one += _prefixes(run)
            continue
        one += run
        n = len(run)
        if n >= 2:
            two += [run[i : i + 2] for i in range(n - 1)]
        if n >= 3:
            three += [run[i : i + 3] for i in range(n - 2)]
        if n >= 4:
            four += [run[i : i + 4] for i in range(n - 3)]
            four.append(_RUN_END)
    return " ".join(one), " ".join(two), " ".join(three), " ".join(four)


def sort_value(risk: int, name_key: str, doc_id: str) -> str:
    """Byte order of this string = the order of ``query.sort_key`` within one tier
    (UTF-8 byte order is code point order; equal lengths make the concatenation safe)."""
    return f"{MAX_RISK_RANK - risk}{len(name_key):0{_SORT_LEN_DIGITS}d}{name_key}{_valid(doc_id)}"


def region_sort_value(region: str, risk: int, name_key: str, doc_id: str) -> str:
    """Byte order of this string = the order of ``query.region_sort_key``."""
    region = _valid(region).replace("\x00", "\ufffd").replace("\x01", "\ufffd")
    return f"{region}\x01{sort_value(risk, name_key, doc_id)}"


def _document(p: Prepared) -> Document:
    name = grams(p.name)
    others = grams(f"{p.titles}\n{p.extra}")  # the line break separates runs, as between fields
    doc = Document()
    doc.add_text("id", _valid(p.id))
    doc.add_bytes("doc", json.dumps(p.doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for n in range(4):
        doc.add_text(f"name{n + 1}", name[n])
        doc.add_text(f"all{n + 1}", f"{name[n]} {others[n]}")
    for code in p.codes:
        doc.add_text("codes", code)
    if p.name_key:
        doc.add_text("name_key", p.name_key)
        doc.add_text("name_key_prefix", " ".join(_prefixes(p.name_key)))
    doc.add_text("sort", sort_value(p.risk, p.name_key, p.id))
    doc.add_text("sort_region", region_sort_value(p.region, p.risk, p.name_key, p.id))
    for f in FACETS:
        values = [_valid(v) for v in p.facets[f]]
        for value in values:
            doc.add_text(f, value)
        if f in MULTI_VALUED and values:
            doc.add_text(f"{f}_set", ",".join(values))  # prepare() keeps commas out of values
    for value in p.facets["region_code"]:
        for prefix in _prefixes(_valid(value)):  # one raw term each: a value may hold spaces
            doc.add_text("region_code_prefix", prefix)
    return doc


def _load(stored: Document) -> dict:
    return json.loads(bytes(stored["doc"][0]).decode("utf-8", "surrogatepass"))


# -- queries -----------------------------------------------------------------------------------


def _must(queries: list[Query], must_not: Iterable[Query] = ()) -> Query:
    clauses = [(Occur.Must, q) for q in queries] + [(Occur.MustNot, q) for q in must_not]
    return queries[0] if len(clauses) == 1 else Query.boolean_query(clauses)


def _term(schema, field: str, value: str) -> Query:
    return Query.term_query(schema, field, value, index_option="basic")


def _text(schema, scope: str, kind: str, term: str) -> Query:
    """A CJK run as a substring, a word as a word prefix (see above)."""
    n = len(term)
    if kind == WORD or n <= 4:
        return _term(schema, f"{scope}{1 if kind == WORD else n}", term)
    return Query.phrase_query(schema, f"{scope}4", [term[i : i + 4] for i in range(n - 3)])


def _filter(schema, field: str, value: str) -> Query:
    if field == "region_code" and (prefix := region_prefix(value)) != value:
        return _term(schema, "region_code_prefix", prefix)
    return _term(schema, field, value)


def tier_queries(schema, pq: ParsedQuery, filters: dict[str, str]) -> tuple[Query, list[Query]]:
    """``(every match, [matches of each ranking tier, best first])``; the tiers partition
    the matches (see :func:`query.tier`)."""
    terms = [(CJK, t) for t in pq.cjk] + [(WORD, w) for w in pq.words]
    fixed = [_term(schema, "codes", c) for c in pq.codes] + [_filter(schema, f, v) for f, v in filters.items()]
    matched = fixed + [_text(schema, "all", kind, t) for kind, t in terms]
    if not terms:  # codes and filters only: no name to rank by, one tier
        return _must(matched), [_must(matched)]
    in_name = [_text(schema, "name", kind, t) for kind, t in terms]
    exact, prefix = _term(schema, "name_key", pq.key), _term(schema, "name_key_prefix", pq.key)
    return _must(matched), [
        _must(matched + [exact]),
        _must(matched + [prefix], [exact]),
        _must(fixed + in_name, [prefix]),  # every term in the name implies a match
        _must(matched, [prefix, _must(in_name)]),
    ]


def _count(searcher: tantivy.Searcher, matched: Query) -> tuple[int, dict[str, dict[str, int]]]:
    """The number of matches and the facet counts over all of them, in one pass."""
    size = {"size": _MAX_BUCKETS, "segment_size": _MAX_BUCKETS}
    aggs = {f: {"terms": {"field": f"{f}_set" if f in MULTI_VALUED else f, **size}} for f in FACETS}
    result = searcher.aggregate(matched, {"total": {"value_count": {"field": "sort"}}, **aggs})
    counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    for f in FACETS:
        for bucket in result[f]["buckets"]:
            values = bucket["key"].split(",") if f in MULTI_VALUED else [bucket["key"]]
            for v in values:
                counts[f][v] = counts[f].get(v, 0) + bucket["doc_count"]
    return int(result["total"]["value"] or 0), counts


# -- the backend -------------------------------------------------------------------------------


@dataclass
class _Reader:
    name: str
    index: tantivy.Index
    version: tuple
    searcher: tantivy.Searcher
    epoch: int


class TantivyBackend:
    def __init__(self, path: str | os.PathLike, *, lock_timeout: float = 30.0) -> None:
        self.root = Path(path)
        self.lock_timeout = lock_timeout
        self._dir = IndexDirectory(self.root, lock_timeout)
        self._schema = make_schema()
        self._lock = threading.Lock()  # guards _reader replacement and reloads
        self._reader_state: _Reader | None = None
        self._epoch = 0
        if self._dir.current() is None:
            with self._dir.writing():
                if self._dir.current() is None:
                    name = self._dir.new_name()
                    self._create(name)
                    self._dir.swap_in(name)

    # -- indexes ------------------------------------------------------------------------------

    def _create(self, name: str) -> tantivy.Index:
        index = tantivy.Index(self._schema, path=str(self.root / name), reuse=False)
        index.register_tokenizer(TOKENS, _analyzer())
        return index

    def _open(self, name: str) -> tantivy.Index:
        path = self.root / name
        try:
            index = tantivy.Index.open(str(path))
        except ValueError as exc:
            raise RuntimeError(f"{path} is not a tantivy index ({exc}); run a rebuild") from exc
        if index.schema != self._schema:
            raise RuntimeError(f"{path} was built with another schema; run a rebuild")
        index.register_tokenizer(TOKENS, _analyzer())
        index.config_reader("manual")
        return index

    def _meta(self, name: str) -> Path:
        path = self.root / name / "meta.json"  # tantivy replaces it atomically on every commit
        if not path.exists():
            raise RuntimeError(f"{path.parent} is not a tantivy index (another backend's?); run a rebuild")
        return path

    def _version(self, name: str) -> tuple:
        st = os.stat(self._meta(name))
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _reader(self) -> _Reader:
        """This process's reader on the live index, reloaded if the index changed since."""
        name = self._dir.current()
        if name is None:
            raise RuntimeError(f"no search index in {self.root}")
        version = self._version(name)
        r = self._reader_state
        if r is not None and r.name == name and r.epoch == self._epoch and r.version == version:
            return r
        with self._lock:
            r = self._reader_state
            if r is not None and r.name == name and r.epoch == self._epoch:
                if r.version != version:
                    r.index.reload()
                    r = _Reader(name, r.index, version, r.index.searcher(), r.epoch)
            else:
                index = self._open(name)
                index.reload()
                r = _Reader(name, index, version, index.searcher(), self._epoch)
            self._reader_state = r
            return r

    def count(self) -> int:
        return self._reader().searcher.num_docs

    def analysis_version(self) -> int | None:
        return self._dir.analysis_version()

    def generation(self) -> str:
        name = self._dir.current()
        meta = json.loads(self._meta(name).read_text(encoding="utf-8"))
        return f"{name}:{meta.get('opstamp', 0)}"

    # -- reading ------------------------------------------------------------------------------

    def search(self, q: SearchQuery) -> SearchResults:
        pq, filters, page, per_page, empty = start_search(q)
        if empty is not None:
            return empty
        try:
            return self._search(pq, filters, page, per_page, search_sort(q))
        except Exception:
            # A reader left on an index directory that a rebuild removed: reopen once.
            with self._lock:
                self._reader_state = None
            return self._search(pq, filters, page, per_page, search_sort(q))

    def _search(self, pq: ParsedQuery, filters: dict[str, str], page: int, per_page: int,
                sort: str = "") -> SearchResults:
        searcher = self._reader().searcher
        matched, tiers = tier_queries(self._schema, pq, filters)
        total, facets = _count(searcher, matched)
        field = "sort"
        if sort == "region":  # one order over every match, not per tier
            tiers, field = [matched], "sort_region"
        start = min((page - 1) * per_page, MAX_WINDOW)
        stop = min(start + per_page, total, MAX_WINDOW)
        addresses = []
        before = 0  # matches in the tiers already asked
        for i, query in enumerate(tiers):
            if max(start, before) >= stop:  # the page is full or past the end: later tiers are not asked
                break
            counted = i < len(tiers) - 1  # the last tier's size places nothing after it
            found = searcher.search(query, stop - max(start, before), count=counted, order_by_field=field,
                                    order=Order.Asc, offset=max(start - before, 0))
            addresses += [address for _, address in found.hits]
            before += found.count if counted else 0
        hits = [make_hit(_load(searcher.doc(a)), pq) for a in addresses]
        return SearchResults(total, page, per_page, page_count(total, per_page), hits, sorted_facets(facets))

    # -- writing ------------------------------------------------------------------------------

    def _write(self, index: tantivy.Index, change: Callable[[tantivy.IndexWriter], None], **writer_kw) -> None:
        """Run ``change`` on a fresh writer and commit; merges finish before the writer goes."""
        writer = index.writer(**writer_kw)
        try:
            change(writer)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    def upsert(self, docs: Iterable[dict]) -> int:
        prepared = {p.id: p for p in map(prepare, docs)}
        if not prepared:
            return 0
        documents = [(_valid(p.id), _document(p)) for p in prepared.values()]

        def change(writer):
            for doc_id, document in documents:
                writer.delete_documents_by_term("id", doc_id)
                writer.add_document(document)

        with self._dir.writing():
            self._write(self._reader().index, change, heap_size=_WRITE_HEAP, num_threads=1)
        return len(prepared)

    def delete(self, ids: Iterable[str]) -> int:
        ids = sorted({_valid(i) for i in ids if isinstance(i, str) and i})
        if not ids:
            return 0
        with self._dir.writing():
            reader = self._reader()
            query = Query.term_set_query(self._schema, "id", ids)
            n = reader.searcher.search(query, 1, count=True, order_by_field="sort").count
            if n:
                self._write(reader.index, lambda w: [w.delete_documents_by_term("id", i) for i in ids],
                            heap_size=_WRITE_HEAP, num_threads=1)
        return n

    def clear(self) -> None:
        self.rebuild([])

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Index ``docs`` into a new directory and swap it in. Ids must be unique (a repeated
        id keeps its first document). Writes from others wait until the swap."""
        seen: set[str] = set()

        def change(writer):
            for n, doc in enumerate(docs, 1):
                p = prepare(doc)
                if p.id not in seen:
                    seen.add(p.id)
                    writer.add_document(_document(p))
                if progress:
                    progress(n)

        with self._dir.writing():
            name = self._dir.new_name()
            try:
                self._write(self._create(name), change, heap_size=_REBUILD_HEAP,
                            num_threads=max(1, min(2, os.cpu_count() or 1)))
            except BaseException:
                self._dir.discard(name)
                raise
            self._dir.swap_in(name)
        return len(seen)

    def close(self) -> None:
        """Drop this process's reader; the next search opens the live index again."""
        with self._lock:
            self._epoch += 1
            self._reader_state = None
