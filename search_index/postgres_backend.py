"""PostgreSQL backend: the index lives in the shared database server, so any number of web
nodes behind a load balancer search (and one writer updates) the same store.

``SEARCH_URL=postgresql+psycopg://user@host:port/db`` (``postgresql://`` too; psycopg 3 is the
driver either way). Query options, removed before connecting: ``table_prefix`` (default
``search_``), ``schema`` (objects qualified with it; otherwise ``search_path`` decides, e.g.
``options=-csearch_path=...``), ``pool_size`` (default 5), ``lock_timeout`` (seconds a writer
waits for another one, e.g. a rebuild, before ``IndexLocked``; default 30) and ``pgbouncer=1``
(behind pgbouncer in transaction mode, also ``PORTAL_DB_PGBOUNCER=1``: psycopg prepares nothing
and no startup ``options`` are sent; every lock and setting is transaction-scoped). The rest of the URL
goes to libpq. No extension and no superuser: CREATE on the schema is enough.

Objects (``p`` = the prefix): ``p_state`` (one row: token, generation, schema version),
``p_entries`` (what matching, ranking and facets read, one narrow row per document),
``p_docs`` (the document as JSON text, read for the page only), ``p_terms`` (counts per
frequent term or phrase, see "Frequent terms" below), ``p_phrases`` (the frequent phrases) and
the SQL function ``p_tokens_v<version>``, which a GIN expression index calls:

- Python (:mod:`.analysis`, :func:`.document.prepare`) writes ``name_norm`` / ``rest_norm``
  (normalised name; titles + address), ``name_words`` / ``rest_words`` (their letter/digit
  runs, each after a space), ``codes``, ``name_key`` / ``name_len`` and the facet columns.
  ``rest`` joins titles and address with a separator that is neither CJK nor a word character,
  so no term matches across it.
- ``p_tokens_v4(name_norm, rest_norm, name_words, rest_words, kind, category, region_code,
  grade, record_types)`` returns every CJK character and CJK bigram (runs split by a regular
  expression generated from ``analysis._CJK_CLASS``, explicit code points: no locale
  involved), each word's prefixes up to WORD_PREFIX_MAX and one facet token per facet value
  (FACET_MARK, a letter for the facet, the value cut to FACET_TOKEN_MAX; a region code also
  its two- and four-character prefixes, which province and city filters ask for).
  ``tests/unit/test_search_conformance.py`` checks it against :func:`python_tokens`.
- A query asks ``p_tokens_v4(...) @> ARRAY[...]`` with each CJK run's bigrams (or its one
  character), each word cut to WORD_PREFIX_MAX and each filter's facet token, so GIN
  intersects text and filters and only rows matching both are read (the filter's own
  condition stays in the WHERE and decides exactly). Exact for runs of one or two
  characters and for short words; longer runs are confirmed with ``strpos`` on the normalised
  text (what a bigram phrase query does), longer words with ``strpos(words, ' ' || word)``.
  Codes match ``codes @> ARRAY[...]`` (its own GIN index), exactly.
- One statement per search: the matches are materialised once, without the document; facets
  are counted over all of them in one pass (GROUPING SETS; ``record_types`` by its array of
  values, split up in Python); the ranking tiers are a CASE over the same rows (query.tier
  in SQL); only the page is sorted (top-N) and joined to ``p_docs``.
  Text columns are ``COLLATE "C"``: order is by code point, as in Python.
- Stored strings: NUL is illegal in ``text`` and lone surrogates cannot be encoded, so ids and
  facet values go through :func:`_safe` (and filter values alike); ``doc`` is JSON text, which
  escapes NUL, and falls back to ``\\u`` escapes for lone surrogates: any dict round-trips.

Why this layout: EXPLAIN (ANALYZE, TIMING OFF) on 100,000 subjects from bench/search_micro.py
(25% hospitals, so 医院 and its substrings match 25,000), reproduced by
``python -m bench.pg_explain``.
PostgreSQL 15, C.UTF-8, default settings (shared_buffers 128 MB, work_mem 4 MB), warm cache,
2 cores shared with other jobs (load 4-7): best of 5, milliseconds, rough. The first three
columns time only the match step (``count(*)``): this backend's index, a pg_trgm GIN index over
the same normalised text (``LIKE '%run%'``), and no index (the exact ``strpos`` conditions, a
sequential scan). "search" is this backend's whole statement: matches, all facets, page 1.

====================  =======  ==========  =======  =====  ======  ==================
query                 matches  bigram GIN  pg_trgm  scan   search  plan (bigram GIN)
====================  =======  ==========  =======  =====  ======  ==================
1 char (院)            25,000        15.9     44.9   52.1    95.0  Bitmap Index Scan
2 chars (民医)         25,000        19.6     32.6   34.0    80.7  Bitmap Index Scan
2 chars, rare             175         0.1     31.5   41.5     0.6  Bitmap Index Scan
4 chars (人民医院)     25,000        26.2     10.8   32.5    62.8  Bitmap Index Scan
6 chars, rare             501         1.0      0.7   38.0     2.0  Bitmap Index Scan
full name                   1         0.3      0.4   41.6     0.4  Bitmap Index Scan
licence number              1         0.0        –   25.9     0.1  Bitmap Index Scan (codes)
word prefix (宾馆 12)     527         0.4     42.6   30.0     1.8  Bitmap Index Scan
2 chars + 2 filters     1,883        13.8     56.5   29.5    17.3  Bitmap Index Scan
filter only            25,000        14.6     16.3   14.5    64.0  Seq Scan
====================  =======  ==========  =======  =====  ======  ==================

Sizes at 100,000: entries heap 4,569 pages (36 MB, ~0.35 kB a row), token index 17 MB, codes
index 17 MB, documents 54 MB; rebuild ~2,000 documents/s (most of it Python's ``prepare``).

- The match step reads the heap page of every matching row, so row width decides the common
  short queries (医院, 药房, 诊所 match a quarter of a province). A first version with a
  ``text[]`` token column and the JSON in the same row had ~1.5 kB rows (19,000 pages): the
  whole search for 民医 took ~250 ms where this layout takes ~90 ms (same machine, same hour);
  ``int4`` token hashes in the row (8,200 pages, every term confirmed) were ~1.7x slower than
  this layout.
- pg_trgm cannot use its index below three characters (two-character names are the most common
  query: 31 ms vs 0.1 ms for a rare pair), needs an extension, and what it counts as a word
  character depends on the locale. A tsvector of pre-segmented bigrams would add positions for
  phrase queries, which the ``strpos`` confirm does more cheaply; not measured.
- The planner must never call the token function per row (a sequential scan over 300,000 rows
  would take seconds): the function is declared expensive and the index column keeps no
  statistics, so the default 0.5% estimate always picks the bitmap index scan (tested with a
  character that every document contains); GIN's ``@>`` needs no recheck. JIT is off on these
  connections: its start-up (~85 ms) exceeded the queries'. Facets over many matches are the
  rest of the cost; 25,000 materialised matches spill to a temporary file at the default 4 MB
  ``work_mem`` (``options=-cwork_mem=16MB`` in the URL keeps them in memory).

Frequent terms (issue #17). The statement above reads the heap row of every match and
aggregates the facets over all of them, so its cost grows with the match count: at M (100,000
subjects) 卫生 matches 38,861 documents and took 75 ms, at L (300,000) 2-character queries had
p95 122 ms. A one-term query (one CJK run of one or two characters, or one word up to
WORD_PREFIX_MAX; no filter, the ranking order: ``_one_term``) whose term matched at least
``term_stats_min`` documents (URL option, default 1,000) when the store was last rebuilt is
answered without reading its matches:

- ``p_terms`` holds, per such term, its document count (field ``''``), its counts per facet
  value (``record_types`` per value, which is what the grouped-array rows add up to) and per
  ranking tier (field ``~tier``: how many matches are the exact name, a name prefix, in the
  name, elsewhere; query.tier for the query that is this term). Exact, not estimates: every
  write reads what the batch's documents count for before and after it (one statement each,
  through the token function) and applies the net change in one statement, in the write's
  transaction under the writer lock (an unchanged document updates no row: each update of a
  hot row leaves a dead version that later lookups step over; a document whose counted
  columns, text, name key and facets, did not change is not even counted: _recounted); a
  rebuild computes them for
  its fresh tables (terms chosen by one
  pass of the token function, then each term's matches aggregated through the token index)
  and swaps them in with the rest. The set of frequent terms is fixed until the next
  rebuild: a term that becomes common later takes the statement's path, still exact.
- The page is read tier by tier: from the tier counts the page's slice of each tier is
  known, and each slice is either a walk down ``p_entries_rank`` (``risk_rank DESC,
  name_len, name_key, id``: the order within a tier) filtered by the tier's condition (exact
  ``strpos`` / ``starts_with`` tests, no token function) that stops when the slice is full,
  or, when the tier is too sparse for that (expected rows read ``(offset + n) × documents /
  tier count`` above ``walk_budget``, default 4,000), the tier's matches gathered through
  the token index and sorted. Exact and prefix tiers use ``p_entries_name`` (a name_key
  range). One REPEATABLE READ snapshot for the two statements (counts, page), so they agree.
- Cost: two index lookups and about ``page / tier share`` rows, whatever the match count;
  see README "PostgreSQL search: frequent terms" for the figures. Price: ``p_terms`` (tens of
  MB at M), two btree indexes on ``p_entries``, each write's two extra statements, and the
  rebuild's statistics pass.
- Frequent phrases: a query of one CJK run of three or more characters (``人民医院``) is an
  AND of bigrams whose matches can be as many as a term's. A rebuild also chooses the
  substrings of three to PHRASE_MAX characters of the names' CJK runs that at least
  ``term_stats_min`` names contain (one pass of ``regexp_matches`` over the names) and keeps
  them in ``p_phrases``; their ``p_terms`` rows count the documents that contain the phrase
  anywhere (as the statement's ``strpos`` confirm does), gathered once through the token index
  (the phrase's bigrams) at rebuild and kept by every write (``strpos`` of each frequent
  phrase over the written rows). The page is walked as for a term, with ``strpos`` conditions.
  Which phrases were chosen affects only the cost: any other phrase takes the statement.
- Not covered: several terms (an AND of rarer sets), filtered queries (since schema 4 their
  GIN lookup already intersects the filter: only filtered matches are read) and
  ``sort=region`` pages run the statement.

Writes: every write transaction first locks the state row (``lock_timeout``, then
``IndexLocked``), so writers are serialised and a rebuild holds them off until its swap;
searches never wait for writers. ``upsert`` is ``INSERT ... ON CONFLICT DO UPDATE`` on both
tables; ``rebuild`` COPYs into fresh tables, builds their indexes and, in the same
transaction, renames them over the live ones (ACCESS EXCLUSIVE for milliseconds: searches that
started before finish on the old tables, later ones see the new), then ANALYZEs them. A failed
rebuild rolls back and leaves nothing behind. ``generation()`` reads the one state row, bumped
by every write in the same transaction. The GIN indexes have ``fastupdate`` off: a drained
batch pays for its index updates instead of every search scanning a pending list.

Connections come from a small SQLAlchemy pool (thread-safe; rebuilt after ``fork``, so a
``gunicorn --preload`` master never shares sockets with its workers); reads run in autocommit.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from .analysis import _CJK_CLASS, CJK, bigrams, normalize, runs
from .base import (
    FACETS,
    MAX_WINDOW,
    IndexLocked,
    SearchQuery,
    SearchResults,
    page_count,
    region_prefix,
    sorted_facets,
)
from .document import Prepared, prepare
from .query import (
    ALL_IN_NAME,
    ELSEWHERE,
    EXACT_NAME,
    NAME_PREFIX,
    ParsedQuery,
    make_hit,
    search_sort,
    start_search,
)

#: Bump when the tables, the token function or the token rules change: the store then needs a rebuild.
SCHEMA_VERSION = 4  # 2: risk_rank (#13); 3: term statistics, rank and name indexes (#17); 4: facet tokens (#17)
#: Word prefixes indexed as tokens; a longer query word is confirmed with ``strpos``.
WORD_PREFIX_MAX = 10
#: Facet tokens (a filter narrows the token index lookup): U+001F (never in a text token, which
#: is CJK or letters/digits), a letter naming the facet, the value cut to FACET_TOKEN_MAX characters
#: (GIN keys are limited to ~2.7 kB; the filter's own condition stays and decides exactly).
FACET_MARK = "\x1f"
FACET_TOKEN_MAX = 200
_FACET_CODES = {"kind": "k", "category": "c", "grade": "g", "record_types": "t", "region_code": "r"}
#: Region filters of a province or city match a two- or four-digit prefix (base.region_prefix).
_REGION_PREFIX_LENGTHS = (2, 4)
DEFAULT_PREFIX = "search_"
URL_OPTIONS = ("table_prefix", "schema", "pool_size", "lock_timeout", "pgbouncer", "cache_size", "term_stats_min",
               "walk_budget")
#: A term matching at least this many documents when the store is rebuilt gets exact totals,
#: facet and tier counts in ``p_terms`` (``term_stats_min``): see "Frequent terms" above.
DEFAULT_TERM_STATS_MIN = 1000
#: The longest frequent phrase (CJK characters) a rebuild looks for in the names.
PHRASE_MAX = 6
#: Index rows a walk down the rank index may be expected to read for one tier of a page;
#: beyond it the tier's matches are gathered through the token index instead.
WALK_BUDGET = 4000
#: Result sets kept per process (``cache_size``); each is a page of documents plus facet rows,
#: tens of kB at most.
DEFAULT_CACHE_SIZE = 512
PGBOUNCER_ENV = "PORTAL_DB_PGBOUNCER"  # the same switch as the portal's database (portal.db.pooler)
COPY_BATCH = 2000
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,31}")
_SCALAR_FACETS = tuple(f for f in FACETS if f != "record_types")
#: GROUPING(kind, category, region_code, grade, record_types) of each grouping set -> its field
#: (the bit of a grouped column is 0; the empty set, all ones, is the total).
_GROUPINGS = {(1 << len(FACETS)) - 1 - (1 << (len(FACETS) - 1 - i)): f for i, f in enumerate(FACETS)}
_INDEXES = {"entries": ("pkey", "tokens", "codes", "rank", "name"), "docs": ("pkey",), "terms": ("pkey",),
            "phrases": ("pkey",)}
#: ``p_terms.field`` of a term's document count and of its counts per ranking tier.
_TOTAL, _TIER = "", "~tier"
_FIELD_GROUPING = {f: g for g, f in _GROUPINGS.items()} | {_TOTAL: (1 << len(FACETS)) - 1}

ENTRY_COLUMNS = ("id", "name_key", "name_len", "name_norm", "rest_norm", "name_words", "rest_words",
                 "codes", "kind", "category", "region_code", "grade", "record_types", "risk_rank")
#: What a document's frequent-term counts depend on (_term_stats_sql): id first.
_COUNTED_COLUMNS = ("id", "name_key", "name_norm", "rest_norm", "name_words", "rest_words", *FACETS)
_COUNTED_INDEXES = tuple(ENTRY_COLUMNS.index(c) for c in _COUNTED_COLUMNS)
_ENTRY_TYPES = ["text", "text", "int4", "text", "text", "text", "text",
                "text[]", "text", "text", "text", "text", "text[]", "int4"]


def _pg_regex_class(chars: str) -> str:
    """A Python character class body (``analysis._CJK_CLASS``) as PostgreSQL regex escapes."""
    return "".join(c if c == "-" else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
                   for c in chars)


CJK_RUN_REGEX = f"[{_pg_regex_class(_CJK_CLASS)}]+"
#: The same inside an E'' literal (backslashes doubled): right whatever standard_conforming_strings says.
_CJK_RUN_LITERAL = CJK_RUN_REGEX.replace("\\", "\\\\")


class SchemaMismatch(RuntimeError):
    """The store was built by another version of this backend: rebuild it."""


def _safe(text: str) -> str:
    """A string PostgreSQL can store: NUL is illegal in ``text`` and lone surrogates cannot be
    encoded. Applied alike to stored ids / facet values and to ids / filter values asked for."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _json(doc: dict) -> str:
    text = json.dumps(doc, ensure_ascii=False)  # escapes control characters, NUL included
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: "\\udXXX" escapes load back to the same string
        text = json.dumps(doc)
    return text


def _words(norm: str) -> str:
    return "".join(" " + run for kind, _, run in runs(norm) if kind != CJK)


def python_tokens(name_norm: str, rest_norm: str, facets: dict | None = None) -> set[str]:
    """What the SQL token function returns for a row, computed in Python (the reference);
    ``facets``: the row's facet columns (``None`` values and absent ones give no token)."""
    out: set[str] = set()
    for field, value in (facets or {}).items():
        for v in (value or []) if field == "record_types" else [] if value is None else [value]:
            out.add(FACET_MARK + _FACET_CODES[field] + v[:FACET_TOKEN_MAX])
        if field == "region_code" and value is not None:
            out.update(FACET_MARK + "p" + value[:n] for n in _REGION_PREFIX_LENGTHS if len(value) >= n)
    for norm in (name_norm, rest_norm):
        for kind, _, run in runs(norm):
            if kind == CJK:
                out.update(run)
                out.update(bigrams(run))
            else:
                out.update(run[:k] for k in range(1, min(len(run), WORD_PREFIX_MAX) + 1))
    return out


def _entry(p: Prepared) -> tuple:
    name_norm = normalize(p.name)
    rest_norm = normalize(p.titles) + "\n" + normalize(p.extra)
    facet = {f: (_safe(p.facets[f][0]) if p.facets[f] else None) for f in _SCALAR_FACETS}
    return (
        _safe(p.id), p.name_key, len(p.name_key), name_norm, rest_norm, _words(name_norm), _words(rest_norm),
        list(p.codes), facet["kind"], facet["category"], facet["region_code"], facet["grade"],
        [_safe(v) for v in p.facets["record_types"]], p.risk,
    )


def _query_tokens(pq: ParsedQuery) -> list[str]:
    tokens: set[str] = set()
    for run in pq.cjk:
        tokens.update(bigrams(run) if len(run) > 1 else [run])
    tokens.update(w[:WORD_PREFIX_MAX] for w in pq.words)
    return sorted(tokens)


def _ident(value: str, what: str) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ValueError(f"search {what} must match {_IDENT.pattern}: {value!r}")
    return value


def _one_term(pq: ParsedQuery, filters: dict[str, str], sort: str) -> str | None:
    """The term of a query that is one term and nothing else (no filter, the ranking order):
    one CJK run (one or two characters: a token; longer: a phrase) or one word up to
    WORD_PREFIX_MAX. Only such a query can be answered from ``p_terms``."""
    if filters or sort or pq.codes or len(pq.cjk) + len(pq.words) != 1:
        return None
    term = pq.cjk[0] if pq.cjk else pq.words[0]
    if (not pq.cjk and len(term) > WORD_PREFIX_MAX) or _safe(term) != term or term != pq.key:
        return None
    return term


def _successor(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (code point order), or
    ``None`` when there is no such storable string."""
    nxt = ord(prefix[-1]) + 1
    if nxt > 0x10FFFF or 0xD800 <= nxt <= 0xDFFF:
        return None
    return prefix[:-1] + chr(nxt)


class PostgresBackend:
    def __init__(self, url, *, table_prefix: str = DEFAULT_PREFIX, schema: str | None = None,
                 pool_size: int = 5, lock_timeout: float = 30.0, pgbouncer: bool = False,
                 cache_size: int = DEFAULT_CACHE_SIZE, term_stats_min: int = DEFAULT_TERM_STATS_MIN,
                 walk_budget: int = WALK_BUDGET) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(url)
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"not a PostgreSQL URL: {url.render_as_string()}")
        options = url.query.get("options", "")
        if not isinstance(options, str):
            raise ValueError("search URL: options given twice")
        self.pgbouncer = bool(pgbouncer)
        self.url = url.set(drivername="postgresql+psycopg")
        if not self.pgbouncer:  # pgbouncer refuses startup options: set jit=off on the role there
            self.url = self.url.update_query_dict({"options": f"{options} -cjit=off".strip()})
        self.prefix = _ident(table_prefix, "table prefix")
        self.schema = _ident(schema, "schema") if schema else None
        self.pool_size = max(int(pool_size), 1)
        self.lock_timeout = float(lock_timeout)
        self.entries, self.docs, self.state, self.terms, self.phrases = (
            self._name(t) for t in ("entries", "docs", "state", "terms", "phrases"))
        self.term_stats_min = max(int(term_stats_min), 1)
        self.walk_budget = max(int(walk_budget), 0)
        self._function = self._name(f"tokens_v{SCHEMA_VERSION}")
        self._tokens_sql = self.tokens_sql()
        self._engine = None
        self._pid = 0
        self._lock = threading.Lock()
        self._ready = False
        self.cache_size = max(int(cache_size), 0)
        self._cache: OrderedDict[tuple, list[tuple]] = OrderedDict()
        self._cache_generation: tuple | None = None
        self.cache_hits = self.cache_misses = 0

    @classmethod
    def from_url(cls, url: str) -> PostgresBackend:
        """``postgresql[+psycopg]://...?table_prefix=...&schema=...&pool_size=...&lock_timeout=...``"""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        shown = parsed.render_as_string()  # error messages never show the password
        opts = {k: parsed.query[k] for k in URL_OPTIONS if k in parsed.query}
        if any(not isinstance(v, str) for v in opts.values()):
            raise ValueError(f"search URL option given twice: {shown}")
        try:
            kwargs = {
                "table_prefix": opts.get("table_prefix", DEFAULT_PREFIX),
                "schema": opts.get("schema") or None,
                "pool_size": int(opts.get("pool_size", 5)),
                "lock_timeout": float(opts.get("lock_timeout", 30)),
                "cache_size": int(opts.get("cache_size", DEFAULT_CACHE_SIZE)),
                "term_stats_min": int(opts.get("term_stats_min", DEFAULT_TERM_STATS_MIN)),
                "walk_budget": int(opts.get("walk_budget", WALK_BUDGET)),
                "pgbouncer": opts.get("pgbouncer", os.environ.get(PGBOUNCER_ENV, "")).strip().lower()
                in ("1", "true", "yes", "on", "transaction"),
            }
        except ValueError as exc:
            raise ValueError(f"bad search URL option in {shown}: {exc}") from None
        return cls(parsed.difference_update_query(URL_OPTIONS), **kwargs)

    def __repr__(self) -> str:
        return f"PostgresBackend({self.url.render_as_string()!r}, {self.entries})"

    def tokens_sql(self, alias: str = "", facets: bool = True) -> str:
        """The token function over a row of ``p_entries`` (the token index's expression when
        ``facets``; the text tokens alone otherwise: what term statistics count)."""
        text = ", ".join(alias + c for c in ("name_norm", "rest_norm", "name_words", "rest_words"))
        facet = ", ".join(alias + c for c in FACETS) if facets else ", ".join(["NULL"] * len(FACETS))
        return f"{self._function}({text}, {facet})"

    def _name(self, name: str) -> str:
        quoted = f'"{self.prefix}{name}"'
        return f'"{self.schema}".{quoted}' if self.schema else quoted

    # -- connections ----------------------------------------------------------------------

    def _get_engine(self):
        pid = os.getpid()
        if self._engine is None or self._pid != pid:
            from sqlalchemy import create_engine

            with self._lock:
                if self._engine is None or self._pid != pid:
                    if self._engine is not None:  # forked: leave the parent's connections alone
                        self._engine.dispose(close=False)
                    self._engine = create_engine(
                        self.url, pool_size=self.pool_size, max_overflow=self.pool_size,
                        pool_pre_ping=True, isolation_level="AUTOCOMMIT",
                        # pgbouncer pool_mode=transaction: no named prepared statements
                        connect_args={"prepare_threshold": None} if self.pgbouncer else {},
                    )
                    self._pid = pid
        return self._engine

    @contextlib.contextmanager
    def _conn(self) -> Iterator:
        """A pooled psycopg connection in autocommit mode (one statement, one transaction)."""
        raw = self._get_engine().raw_connection()
        try:
            yield raw.driver_connection
        except BaseException:
            if raw.driver_connection.broken:
                raw.invalidate()
            raise
        finally:
            raw.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator:
        """A transaction holding the writer lock (the state row), waited for ``lock_timeout``."""
        import psycopg

        with self._conn() as conn, conn.transaction():
            self._set_lock_timeout(conn)
            try:
                conn.execute(f"SELECT 1 FROM {self.state} WHERE id = 1 FOR UPDATE")
            except psycopg.errors.LockNotAvailable:
                raise IndexLocked(f"search index {self.entries} is locked by another writer") from None
            conn.execute("SELECT set_config('lock_timeout', '0', true)")
            yield conn

    def _set_lock_timeout(self, conn) -> None:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{max(int(self.lock_timeout * 1000), 1)}ms"])

    def _bump(self, conn, built: bool = False) -> None:
        extra = f", version = {SCHEMA_VERSION}, built_at = now()" if built else ""
        conn.execute(f"UPDATE {self.state} SET generation = generation + 1, updated_at = now(){extra} WHERE id = 1")

    # -- schema ---------------------------------------------------------------------------

    def _function_ddl(self) -> str:
        # IMMUTABLE: an index expression. Expensive to the planner, so that it never prefers
        # evaluating it per row to the index. Everything it calls is in pg_catalog.
        # Not STRICT: facet values may be NULL (no token). Facet tokens: FACET_MARK, the facet's
        # letter, the value cut to FACET_TOKEN_MAX; a region code also gives its prefixes.
        m, cut = f"chr({ord(FACET_MARK)})", FACET_TOKEN_MAX
        return f"""CREATE FUNCTION {self._function}(name_norm text, rest_norm text, name_words text,
                                                   rest_words text, kind text, category text,
                                                   region_code text, grade text, record_types text[])
            RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $fn$
            SELECT ARRAY(
                SELECT substr(r[1], i, n)  -- each character, and the bigram it starts
                FROM regexp_matches(name_norm || ' ' || rest_norm, E'{_CJK_RUN_LITERAL}', 'g') AS r,
                     generate_series(1, length(r[1])) AS i, (VALUES (1), (2)) AS v(n)
                UNION ALL
                SELECT left(w, k)  -- word prefixes
                FROM unnest(string_to_array(ltrim(name_words || rest_words), ' ')) AS w,
                     generate_series(1, least(length(w), {WORD_PREFIX_MAX})) AS k
                UNION ALL
                SELECT {m} || f || left(v, {cut})  -- facet values
                FROM (VALUES ('{_FACET_CODES["kind"]}', kind), ('{_FACET_CODES["category"]}', category),
                             ('{_FACET_CODES["grade"]}', grade), ('{_FACET_CODES["region_code"]}', region_code)
                      ) AS x(f, v)
                WHERE v IS NOT NULL
                UNION ALL
                SELECT {m} || '{_FACET_CODES["record_types"]}' || left(v, {cut}) FROM unnest(record_types) AS v
                UNION ALL
                SELECT {m} || 'p' || left(region_code, n)  -- region prefixes (starts_with)
                FROM unnest(ARRAY{list(_REGION_PREFIX_LENGTHS)}) AS n WHERE length(region_code) >= n)
            $fn$"""

    def _tables_ddl(self, suffix: str = "") -> list[str]:
        text = 'text COLLATE "C"'
        return [
            f"""CREATE TABLE {self._name("entries" + suffix)} (
                id {text} NOT NULL,
                name_key {text} NOT NULL,
                name_len integer NOT NULL,
                name_norm {text} NOT NULL,
                rest_norm {text} NOT NULL,
                name_words {text} NOT NULL,
                rest_words {text} NOT NULL,
                codes text[] COLLATE "C" NOT NULL,
                kind {text},
                category {text},
                region_code {text},
                grade {text},
                record_types text[] COLLATE "C" NOT NULL,
                risk_rank integer NOT NULL DEFAULT 0)""",
            f'CREATE TABLE {self._name("docs" + suffix)} (id {text} NOT NULL, doc text NOT NULL)',
            # A frequent term's document count (field ''), counts per facet value and per ranking
            # tier (field '~tier', value '0'..'3'); maintained by every write (_term_deltas).
            f"""CREATE TABLE {self._name("terms" + suffix)} (
                term {text} NOT NULL,
                field {text} NOT NULL,
                value {text} NOT NULL,
                n bigint NOT NULL,
                CONSTRAINT "{self.prefix}terms{suffix}_pkey" PRIMARY KEY (term, field, value))""",
            # The frequent phrases among them (CJK runs of three or more characters), which no
            # token stands for: a write finds a document's phrases by strpos over this list.
            f"""CREATE TABLE {self._name("phrases" + suffix)} (term {text} NOT NULL,
                CONSTRAINT "{self.prefix}phrases{suffix}_pkey" PRIMARY KEY (term))""",
        ]

    def _indexes_ddl(self, suffix: str = "") -> list[str]:
        entries, docs = self._name("entries" + suffix), self._name("docs" + suffix)
        return [
            f'ALTER TABLE {entries} ADD CONSTRAINT "{self.prefix}entries{suffix}_pkey" PRIMARY KEY (id)',
            f'ALTER TABLE {docs} ADD CONSTRAINT "{self.prefix}docs{suffix}_pkey" PRIMARY KEY (id)',
            f'CREATE INDEX "{self.prefix}entries{suffix}_tokens" ON {entries} USING gin ({self._tokens_sql}) '
            "WITH (fastupdate = off)",
            # No statistics for the expression: the planner keeps its default 0.5% estimate and
            # so always uses the index (see the module docstring); ANALYZE also skips the function.
            # Takes effect for ANALYZE only after this transaction commits.
            f'ALTER INDEX {self._name(f"entries{suffix}_tokens")} ALTER COLUMN 1 SET STATISTICS 0',
            f'CREATE INDEX "{self.prefix}entries{suffix}_codes" ON {entries} USING gin (codes) '
            "WITH (fastupdate = off)",
            # The ranking order of a query's tier (query.sort_key without the tier): a page of a
            # frequent term walks it and stops after the page (_page_sql).
            f'CREATE INDEX "{self.prefix}entries{suffix}_rank" ON {entries} '
            "(risk_rank DESC, name_len, name_key, id)",
            # Exact-name and name-prefix tiers: a range of name_key.
            f'CREATE INDEX "{self.prefix}entries{suffix}_name" ON {entries} (name_key)',
        ]

    def create(self) -> bool:
        """Create the function, tables and indexes unless they exist (safe to race: an advisory
        lock); ``True`` if anything was created. Called on first use; ``credit-portal index
        create`` calls it at deploy time. Existing objects are left as they are (a store of
        another schema version is refused on use: rebuild it)."""
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"search_index:{self.entries}"])
            conn.execute(f"""CREATE TABLE IF NOT EXISTS {self.state} (
                id integer PRIMARY KEY CHECK (id = 1),
                token text NOT NULL,
                generation bigint NOT NULL,
                version integer NOT NULL,
                built_at timestamptz,
                updated_at timestamptz NOT NULL DEFAULT now())""")
            created = conn.execute(
                f"INSERT INTO {self.state} (id, token, generation, version) VALUES (1, %s, 0, %s) "
                "ON CONFLICT (id) DO NOTHING", [uuid.uuid4().hex[:12], SCHEMA_VERSION]).rowcount
            if not created and conn.execute("SELECT to_regclass(%s)", [self.entries]).fetchone()[0] is not None:
                return False
            self._create_objects(conn)  # a new store, or a state row whose tables were dropped
            return True

    def _create_objects(self, conn) -> None:
        self._ensure_function(conn)
        conn.execute(f"DROP TABLE IF EXISTS {self.terms}, {self.phrases}")  # counts of documents no longer there
        for ddl in self._tables_ddl() + self._indexes_ddl():
            conn.execute(ddl)

    def _ensure_function(self, conn) -> None:
        signature = f"{self._function}(text,text,text,text,text,text,text,text,text[])"
        if conn.execute("SELECT to_regprocedure(%s)", [signature]).fetchone()[0] is None:
            conn.execute(self._function_ddl())

    def _ensure(self) -> None:
        """Create the schema on first use; refuse a store of another schema version."""
        if self._ready:
            return
        import psycopg

        try:
            with self._conn() as conn:
                row = conn.execute(f"SELECT version FROM {self.state} WHERE id = 1").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
        if row is None:
            self.create()
            row = (SCHEMA_VERSION,)
        if row[0] != SCHEMA_VERSION:
            raise SchemaMismatch(f"search index {self.entries} has schema version {row[0]}, this code "
                                 f"needs {SCHEMA_VERSION}: rebuild it (credit-portal index rebuild)")
        self._ready = True

    # -- reading --------------------------------------------------------------------------

    def count(self) -> int:
        self._ensure()
        with self._conn() as conn:
            return conn.execute(f"SELECT count(*) FROM {self.entries}").fetchone()[0]

    def generation(self) -> str:
        self._ensure()
        with self._conn() as conn:
            token, gen = conn.execute(f"SELECT token, generation FROM {self.state} WHERE id = 1").fetchone()
        return f"pg-{token}-{gen}"

    def search(self, q: SearchQuery) -> SearchResults:
        pq, filters, page, per_page, empty = start_search(q)
        if empty is not None:
            return empty
        start = min((page - 1) * per_page, MAX_WINDOW)
        sql, params = self.search_sql(pq, filters, limit=min(per_page, MAX_WINDOW - start), offset=start,
                                      sort=search_sort(q))
        self._ensure()
        term = _one_term(pq, filters, search_sort(q))
        rows = self._cached_rows(sql, params, None if term is None else (
            lambda conn: self._term_rows(conn, pq, term, start, min(per_page, MAX_WINDOW - start))))
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        total, docs = 0, []
        for grouping, value, record_types, n, doc in rows:
            field = _GROUPINGS.get(grouping)
            if grouping == -1:
                docs.append((n, doc))
            elif field is None:
                total = n
            elif field == "record_types":  # grouped by the whole (sorted, distinct) array
                for v in record_types:
                    counts[field][v] = counts[field].get(v, 0) + n
            elif value is not None:  # documents without a value for the field form a group too
                counts[field][value] = n
        hits = [make_hit(json.loads(doc), pq) for _, doc in sorted(docs)]
        return SearchResults(total, page, per_page, page_count(total, per_page), hits, sorted_facets(counts))

    def _cached_rows(self, sql: str, params: dict, fast: Callable | None = None) -> list[tuple]:
        """The rows of the search statement, from this process's result cache while the store's
        generation (bumped in the same transaction as every write, so exact) is the one they
        were read under; one primary-key read of the state row decides. Repeated queries (the
        common names: 医院, 诊所, 药房 match a quarter of a province) then cost that read only.
        Every node checks the shared generation, so no node serves results older than its last
        search's check. ``fast(conn)``, if given, is tried first (a frequent term: _term_rows);
        ``None`` from it means the statement answers."""
        def fetch(conn) -> list[tuple]:
            rows = fast(conn) if fast is not None else None
            return conn.execute(sql, params).fetchall() if rows is None else rows

        if not self.cache_size:
            with self._conn() as conn:
                return fetch(conn)
        key = (sql, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items())))
        with self._conn() as conn:
            generation = conn.execute(f"SELECT token, generation FROM {self.state} WHERE id = 1").fetchone()
            with self._lock:
                if generation != self._cache_generation:
                    self._cache.clear()
                    self._cache_generation = generation
                rows = self._cache.get(key)
                if rows is not None:
                    self._cache.move_to_end(key)
                    self.cache_hits += 1
                    return rows
            rows = fetch(conn)
        with self._lock:
            self.cache_misses += 1
            if self._cache_generation == generation:  # not cleared meanwhile by a newer one
                self._cache[key] = rows
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return rows

    # -- frequent terms -------------------------------------------------------------------

    def _term_rows(self, conn, pq: ParsedQuery, term: str, offset: int, limit: int) -> list[tuple] | None:
        """The rows of :meth:`search_sql` for a one-term query (``_one_term``) whose term has
        statistics in ``p_terms``, without reading every match: the total and facet counts are
        that table's rows, the page is read tier by tier (query.tier) from the tiers' counts,
        each either walking the rank index until the page is full or, when the tier is too
        sparse for that (``walk_budget``), gathering its matches through the token index.
        ``None`` when the term has no statistics. One snapshot (REPEATABLE READ) for both
        statements, so the counts and the page agree."""
        import psycopg

        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            stats = conn.execute(*self.term_stats_sql(term)).fetchall()
            rows = None
            if any(field == _TOTAL for field, _, _ in stats):
                rows, sql, params = self.term_page_sql(pq, term, stats, offset, limit)
                if sql:
                    found = conn.execute(sql, params).fetchall()
                    found.sort(key=lambda r: (r[0], -r[1], r[2], r[3], r[4]))
                    rows += [(-1, None, None, i, r[5]) for i, r in enumerate(found, 1)]
            conn.execute("COMMIT")
        except BaseException:
            if not conn.broken:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
            raise
        return rows

    def term_stats_sql(self, term: str) -> tuple[str, list]:
        """The statement reading a term's statistics rows ``(field, value, n)`` (none: not a
        frequent term), and ``(NULL, NULL, documents in the store, estimated)``."""
        return (f"SELECT field, value, n FROM {self.terms} WHERE term = %s "
                "UNION ALL SELECT NULL, NULL, reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [term, self.entries])

    def term_page_sql(self, pq: ParsedQuery, term: str, stats: list[tuple], offset: int,
                      limit: int) -> tuple[list[tuple], str, dict]:
        """``(count rows, page statement, parameters)`` from a frequent term's statistics: the
        count rows as :meth:`search_sql` has them; the statement (empty if the page is)
        returns ``(tier, risk_rank, name_len, name_key, id, doc)`` of the page, unordered."""
        rows: list[tuple] = []
        tiers = [0, 0, 0, 0]
        n_docs = 0
        for field, value, n in stats:
            if field is None:
                n_docs = n
            elif n <= 0:
                continue
            elif field == _TIER:
                tiers[int(value)] = n
            elif field == "record_types":
                rows.append((_FIELD_GROUPING[field], None, [value], n, None))
            else:
                rows.append((_FIELD_GROUPING[field], None if field == _TOTAL else value, None, n, None))
        n_docs = max(n_docs, sum(tiers), 1)
        params = {"t": term, "w": " " + term, "toks": _query_tokens(pq)}
        if pq.cjk:
            in_name = "strpos(name_norm, %(t)s) > 0"
            match = "(strpos(name_norm, %(t)s) > 0 OR strpos(rest_norm, %(t)s) > 0)"
        else:
            in_name = "strpos(name_words, %(w)s) > 0"
            match = "(strpos(name_words, %(w)s) > 0 OR strpos(rest_words, %(w)s) > 0)"
        prefix = "name_key > %(t)s AND starts_with(name_key, %(t)s)"
        if (upper := _successor(term)) is not None:
            prefix += " AND name_key < %(up)s"
            params["up"] = upper
        where = {0: "name_key = %(t)s", 1: prefix,
                 2: f"NOT starts_with(name_key, %(t)s) AND {in_name}",
                 3: f"NOT starts_with(name_key, %(t)s) AND NOT {in_name}"}
        branches, start = [], 0
        for tier_, count in enumerate(tiers):
            lo, hi = max(offset - start, 0), min(offset + limit - start, count)
            start += count
            if hi <= lo:
                continue
            cond = f"{where[tier_]} AND {match}"
            if tier_ >= ALL_IN_NAME and (lo + hi - lo) * n_docs / count > self.walk_budget:
                cond = f"{self._tokens_sql} @> %(toks)s::text[] AND {cond}"  # gather
            branches.append(f"(SELECT {tier_} AS tier, id, risk_rank, name_len, name_key FROM {self.entries} "
                            f"WHERE {cond} ORDER BY risk_rank DESC, name_len, name_key, id "
                            f"LIMIT {hi - lo} OFFSET {lo})")
        sql = (f"SELECT b.tier, b.risk_rank, b.name_len, b.name_key, b.id, d.doc "
               f"FROM ({' UNION ALL '.join(branches)}) AS b JOIN {self.docs} d ON d.id = b.id") if branches else ""
        return rows, sql, params

    def _term_stats_sql(self, suffix: str, where: str, one_term: bool = False) -> str:
        """``(term, field, value, n)``: per frequent term (one with a total row in ``p_terms``),
        the documents of ``p_entries`` that satisfy ``where`` (alias ``e``) counted as the page
        counts them: in total (field ''), per facet value and per ranking tier (query.tier for
        the query that is this one term: key = term, in the name = :meth:`_term_page`'s
        ``in_name``); a phrase (``p_phrases``) counts the documents that contain it. ``one_term``:
        only the term ``%(term)s``, its documents found through the token index with its query
        tokens ``%(toks)s`` (no token function call per row) and, if ``%(phrase)s``, ``strpos``."""
        entries, terms = self._name("entries" + suffix), self._name("terms" + suffix)
        contains = "(strpos(e.name_norm, {t}) > 0 OR strpos(e.rest_norm, {t}) > 0)"
        if one_term:
            source = """(SELECT %(term)s::text COLLATE "C") AS x(term)"""
            where = (f"{self.tokens_sql('e.')} @> %(toks)s::text[] "
                     f"AND (NOT %(phrase)s OR {contains.format(t='%(term)s')}) AND ({where})")
        else:
            source = f"""LATERAL (SELECT DISTINCT t FROM unnest({self.tokens_sql('e.', facets=False)}) AS t
                UNION ALL SELECT ph.term FROM {self._name("phrases" + suffix)} ph
                WHERE {contains.format(t='ph.term')}) AS x(term)
            JOIN {terms} h ON h.term = x.term AND h.field = '' AND h.value = ''"""
        in_name = (f"CASE WHEN x.term ~ E'^{_CJK_RUN_LITERAL}$' THEN strpos(e.name_norm, x.term) > 0 "
                   "ELSE strpos(e.name_words, ' ' || x.term) > 0 END")
        tier_sql = (f"CASE WHEN e.name_key = x.term THEN {EXACT_NAME} WHEN starts_with(e.name_key, x.term) "
                    f"THEN {NAME_PREFIX} WHEN {in_name} THEN {ALL_IN_NAME} ELSE {ELSEWHERE} END")
        facets = ", ".join(f"('{f}', e.{f})" for f in _SCALAR_FACETS)
        return f"""SELECT x.term, f.field, f.value, count(*) AS n
            FROM {entries} e
            CROSS JOIN {source}
            CROSS JOIN LATERAL (
                SELECT v.field, v.value FROM (VALUES ('', ''), {facets},
                    ('{_TIER}', ({tier_sql})::text)) AS v(field, value)
                UNION ALL SELECT 'record_types', r FROM unnest(e.record_types) AS r
            ) AS f(field, value)
            WHERE f.value IS NOT NULL AND ({where})
            GROUP BY 1, 2, 3"""

    def _recounted(self, conn, entries: list[tuple]) -> list[str]:
        """The ids among ``entries`` (new rows of ``p_entries``) whose frequent-term counts may
        change: new documents and those whose counted columns (text, name key, facets) differ
        from the stored row. A re-upserted unchanged document, or one whose rank or codes
        changed, costs the counts nothing (one primary-key read for the batch)."""
        old = {row[0]: row[1:] for row in conn.execute(
            f"SELECT {', '.join(_COUNTED_COLUMNS)} FROM {self.entries} WHERE id = ANY(%s::text[])",
            [[e[0] for e in entries]])}
        return [e[0] for e in entries if old.get(e[0]) != tuple(e[i] for i in _COUNTED_INDEXES[1:])]

    def _term_counts(self, conn, ids: list[str]) -> dict[tuple, int] | None:
        """What the documents ``ids`` add to the frequent terms' counts now (in the caller's
        write transaction); ``None`` when the store has no frequent terms."""
        if conn.execute(f"SELECT NOT EXISTS (SELECT FROM {self.terms})").fetchone()[0]:
            return None
        rows = conn.execute(self._term_stats_sql("", "e.id = ANY(%(ids)s::text[])"), {"ids": ids}).fetchall()
        return {(term, field, value): n for term, field, value, n in rows}

    def _add_term_counts(self, conn, after: dict[tuple, int], before: dict[tuple, int]) -> None:
        """Apply the net change ``after - before``: a rewritten document whose counted
        fields did not change updates no row (each update leaves a dead row version behind)."""
        delta = [(k, after.get(k, 0) - before.get(k, 0)) for k in after.keys() | before.keys()]
        delta = sorted((k, d) for k, d in delta if d)  # one order: writers are serialised anyway
        if not delta:
            return
        conn.execute(f"""INSERT INTO {self.terms} AS s (term, field, value, n)
            SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[])
            ON CONFLICT (term, field, value) DO UPDATE SET n = s.n + EXCLUDED.n""",
                     [[k[0] for k, _ in delta], [k[1] for k, _ in delta], [k[2] for k, _ in delta],
                      [d for _, d in delta]])

    def _build_term_stats(self, conn, suffix: str) -> None:
        """A rebuild's frequent terms (matching ``term_stats_min`` documents or more) and
        their counts, into the fresh tables. Frequent phrases: substrings of three to
        PHRASE_MAX characters of the names' CJK runs that at least ``term_stats_min`` names
        contain (what people type is mostly part of a name); their counts then include the
        documents that contain them elsewhere."""
        entries = self._name("entries" + suffix)
        tokens = self.tokens_sql("e.", facets=False)
        hot = conn.execute(f"""SELECT x.term FROM {entries} e
            CROSS JOIN LATERAL (SELECT DISTINCT t FROM unnest({tokens}) AS t) AS x(term)
            GROUP BY x.term HAVING count(*) >= %s""", [self.term_stats_min]).fetchall()
        phrases = conn.execute(f"""SELECT x.term FROM {entries} e
            CROSS JOIN LATERAL (
                SELECT DISTINCT substr(r[1], i, n)
                FROM regexp_matches(e.name_norm, E'{_CJK_RUN_LITERAL}', 'g') AS r,
                     generate_series(1, length(r[1]) - 2) AS i,
                     generate_series(3, least(length(r[1]) - i + 1, {PHRASE_MAX})) AS n) AS x(term)
            GROUP BY x.term HAVING count(*) >= %s""", [self.term_stats_min]).fetchall()
        insert = (f'INSERT INTO {self._name("terms" + suffix)} (term, field, value, n) '
                  + self._term_stats_sql(suffix, "true", one_term=True))
        for (term,) in hot:  # each through the token index: the token function runs once per row above
            conn.execute(insert, {"term": term, "toks": [term], "phrase": False})
        for (term,) in phrases:
            conn.execute(insert, {"term": term, "toks": bigrams(term), "phrase": True})
        if phrases:
            with conn.cursor() as cur:
                cur.executemany(f'INSERT INTO {self._name("phrases" + suffix)} (term) VALUES (%s)', phrases)

    def match_sql(self, pq: ParsedQuery, filters: dict[str, str]) -> tuple[str, list[str], dict]:
        """``(WHERE condition, name conditions, parameters)`` for a parsed query and clean filters."""
        params: dict = {}
        where: list[str] = []
        in_name: list[str] = []
        tokens = _query_tokens(pq)
        if pq.codes:
            where.append("codes @> %(codes)s::text[]")
            params["codes"] = list(pq.codes)
        for i, run in enumerate(pq.cjk):
            params[f"c{i}"] = run
            in_name.append(f"strpos(name_norm, %(c{i})s) > 0")
            if len(run) > 2:  # the bigrams found the candidates; is the run one substring?
                where.append(f"(strpos(name_norm, %(c{i})s) > 0 OR strpos(rest_norm, %(c{i})s) > 0)")
        for i, word in enumerate(pq.words):
            params[f"w{i}"] = " " + word
            in_name.append(f"strpos(name_words, %(w{i})s) > 0")
            if len(word) > WORD_PREFIX_MAX:
                where.append(f"(strpos(name_words, %(w{i})s) > 0 OR strpos(rest_words, %(w{i})s) > 0)")
        facet_tokens = []
        for field, value in filters.items():
            value = _safe(value)
            code = _FACET_CODES[field]
            if field == "record_types":
                where.append("record_types @> ARRAY[%(f_record_types)s]::text[]")
            elif field == "region_code" and (prefix := region_prefix(value)) != value:
                where.append("starts_with(region_code, %(f_region_code)s)")
                value = prefix
                code = "p" if len(prefix) in _REGION_PREFIX_LENGTHS else ""
            else:
                where.append(f"{field} = %(f_{field})s")
            params[f"f_{field}"] = value
            if code:  # a necessary condition in the token index; the one above decides
                facet_tokens.append(FACET_MARK + code + value[:FACET_TOKEN_MAX])
        if tokens or facet_tokens:  # one GIN lookup intersects text and filters
            where.insert(0, f"{self._tokens_sql} @> %(tokens)s::text[]")
            params["tokens"] = tokens + sorted(facet_tokens)
        return " AND ".join(where), in_name, params

    def search_sql(self, pq: ParsedQuery, filters: dict[str, str], limit: int, offset: int,
                   sort: str = "") -> tuple[str, dict]:
        """The one statement of a search. Rows ``(grouping, value, record_types, count, NULL)``
        count the matches per facet value in one pass (GROUPING SETS; see :data:`_GROUPINGS`),
        then ``(-1, NULL, NULL, position, doc)`` are the page."""
        where, in_name, params = self.match_sql(pq, filters)
        params |= {"limit": limit, "offset": offset}
        when = []  # query.tier() in SQL
        if pq.key:
            params["key"] = pq.key
            when += [f"WHEN name_key = %(key)s THEN {EXACT_NAME}",
                     f"WHEN starts_with(name_key, %(key)s) THEN {NAME_PREFIX}"]
        if in_name:
            when.append(f"WHEN {' AND '.join(in_name)} THEN {ALL_IN_NAME}")
        tier = f"CASE {' '.join(when)} ELSE {ELSEWHERE} END" if when else str(ELSEWHERE)
        facets = ", ".join(FACETS)
        # query.order_key in SQL
        first = "coalesce(region_code, '')" if sort == "region" else "tier"
        order = "{p}first, {p}risk_rank DESC, {p}name_len, {p}name_key, {p}id"
        sql = f"""WITH m AS MATERIALIZED (
                SELECT id, name_key, name_len, risk_rank, {facets}, {tier} AS tier
                FROM {self.entries} WHERE {where}
            ), page AS (
                SELECT id, {first} AS first, risk_rank, name_len, name_key FROM m
                ORDER BY {order.format(p="")} LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT GROUPING({facets}), coalesce({', '.join(_SCALAR_FACETS)}), record_types, count(*), NULL
              FROM m GROUP BY GROUPING SETS ((), {', '.join(f'({f})' for f in FACETS)})
            UNION ALL
            SELECT -1, NULL, NULL, row_number() OVER (ORDER BY {order.format(p="p.")}), d.doc
              FROM page p JOIN {self.docs} d ON d.id = p.id"""
        return sql, params

    # -- writing --------------------------------------------------------------------------

    def upsert(self, docs: Iterable[dict]) -> int:
        rows: dict[str, tuple[tuple, str]] = {}
        for doc in docs:  # prepare() raises on a bad document before anything is written
            p = prepare(doc)
            entry = _entry(p)
            rows[entry[0]] = (entry, _json(p.doc))  # the last of a repeated id wins
        if not rows:
            return 0
        cols = ", ".join(ENTRY_COLUMNS)
        values = ", ".join(f"%s::{t}" for t in _ENTRY_TYPES)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ENTRY_COLUMNS[1:])
        self._ensure()
        with self._writing() as conn, conn.cursor() as cur:
            ids = self._recounted(conn, [e for e, _ in rows.values()])
            before = self._term_counts(conn, ids) if ids else None  # the documents' old versions, if any
            cur.executemany(f"INSERT INTO {self.entries} ({cols}) VALUES ({values}) "
                            f"ON CONFLICT (id) DO UPDATE SET {updates}", [e for e, _ in rows.values()])
            if before is not None:
                self._add_term_counts(conn, self._term_counts(conn, ids), before)
            cur.executemany(f"INSERT INTO {self.docs} (id, doc) VALUES (%s, %s) "
                            "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
                            [(key, doc) for key, (_, doc) in rows.items()])
            self._bump(conn)
        return len(rows)

    def delete(self, ids: Iterable[str]) -> int:
        keys = sorted({_safe(i) for i in ids if isinstance(i, str) and i})
        if not keys:
            return 0
        self._ensure()
        with self._writing() as conn:
            if (before := self._term_counts(conn, keys)) is not None:
                self._add_term_counts(conn, {}, before)
            n = conn.execute(f"DELETE FROM {self.entries} WHERE id = ANY(%s::text[])", [keys]).rowcount
            conn.execute(f"DELETE FROM {self.docs} WHERE id = ANY(%s::text[])", [keys])
            if n:
                self._bump(conn)
        return n

    def clear(self) -> None:
        self._ensure()
        with self._writing() as conn:
            conn.execute(f"TRUNCATE {self.entries}, {self.docs}, {self.terms}, {self.phrases}")
            self._bump(conn)

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """COPY ``docs`` into fresh tables, index them and swap them in, in one transaction.
        Ids must be unique (a repeated id keeps its first document). Writers wait; searches
        use the old tables until the swap commits. Also replaces a store of another version."""
        suffix = "_" + uuid.uuid4().hex[:10]
        seen: set[str] = set()
        self._ready = False
        self._ensure_state()
        with self._writing() as conn:
            old_version = conn.execute(f"SELECT version FROM {self.state} WHERE id = 1").fetchone()[0]
            conn.execute("SELECT set_config('maintenance_work_mem', '128MB', true)")
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"search_index:{self.entries}"])
            self._ensure_function(conn)
            for ddl in self._tables_ddl(suffix):
                conn.execute(ddl)
            entries, bodies = [], []
            with conn.cursor() as cur:
                for n, doc in enumerate(docs, 1):
                    p = prepare(doc)
                    entry = _entry(p)
                    if entry[0] not in seen:
                        seen.add(entry[0])
                        entries.append(entry)
                        bodies.append((entry[0], _json(p.doc)))
                    if len(entries) >= COPY_BATCH:
                        self._copy(cur, suffix, entries, bodies)
                        entries, bodies = [], []
                    if progress:
                        progress(n)
                self._copy(cur, suffix, entries, bodies)
            for ddl in self._indexes_ddl(suffix):
                conn.execute(ddl)
            self._build_term_stats(conn, suffix)
            # The swap: ACCESS EXCLUSIVE for a moment, committed with everything above.
            self._lock_live_tables(conn)
            for table in _INDEXES:
                conn.execute(f"ALTER TABLE IF EXISTS {self._name(table)} "
                             f'RENAME TO "{self.prefix}{table}_old{suffix}"')
            for table, indexes in _INDEXES.items():
                conn.execute(f"DROP TABLE IF EXISTS {self._name(table + '_old' + suffix)}")
                conn.execute(f'ALTER TABLE {self._name(table + suffix)} RENAME TO "{self.prefix}{table}"')
                for index in indexes:
                    conn.execute(f'ALTER INDEX {self._name(f"{table}{suffix}_{index}")} '
                                 f'RENAME TO "{self.prefix}{table}_{index}"')
            if old_version != SCHEMA_VERSION:
                conn.execute(f"DROP FUNCTION IF EXISTS {self._name(f'tokens_v{old_version}')}")  # one signature
            self._bump(conn, built=True)
        # After the commit: inside the transaction that set it, ANALYZE ignores the token
        # column's statistics target of 0 (PostgreSQL 15). Until then the planner has no
        # statistics, which gives the same default estimate.
        with self._conn() as conn:
            conn.execute(f"ANALYZE {self.entries}, {self.docs}, {self.terms}, {self.phrases}")
        return len(seen)

    def _lock_live_tables(self, conn) -> None:
        """Take ACCESS EXCLUSIVE on both live tables before renaming them. A search locks
        ``entries`` and ``docs`` in an order that depends on whether its plan is cached, so
        taking them one by one can deadlock with it; instead both are taken together under a
        short ``lock_timeout`` in a savepoint, released and retried until ``self.lock_timeout``.
        While the rebuild waits in the lock queue new searches queue behind it, so it does
        not starve; it never waits long while holding one table."""
        import psycopg

        live = [t for t in (self.phrases, self.terms, self.entries, self.docs)
                if conn.execute("SELECT to_regclass(%s)", [t]).fetchone()[0] is not None]
        if not live:
            return
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                with conn.transaction():  # a savepoint: a timeout releases what it took
                    conn.execute("SELECT set_config('lock_timeout', '200ms', true)")
                    conn.execute(f"LOCK TABLE {', '.join(live)} IN ACCESS EXCLUSIVE MODE")
                return
            except psycopg.errors.LockNotAvailable:
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"search index {self.entries}: searches held the tables too long") from None

    def _copy(self, cur, suffix: str, entries: list[tuple], bodies: list[tuple]) -> None:
        if not entries:
            return
        with cur.copy(f"COPY {self._name('entries' + suffix)} ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
            copy.set_types(_ENTRY_TYPES)
            for row in entries:
                copy.write_row(row)
        with cur.copy(f"COPY {self._name('docs' + suffix)} (id, doc) FROM STDIN") as copy:
            copy.set_types(["text", "text"])
            for row in bodies:
                copy.write_row(row)

    def _ensure_state(self) -> None:
        import psycopg

        try:
            with self._conn() as conn:
                conn.execute(f"SELECT 1 FROM {self.state} LIMIT 0")
        except psycopg.errors.UndefinedTable:
            self.create()

    def size_bytes(self) -> int:
        """Disk used by the store's tables and their indexes."""
        with self._conn() as conn:
            return conn.execute("SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::bigint "
                                "FROM unnest(%s::text[]) AS t", [[self.entries, self.docs, self.terms, self.phrases, self.state]]).fetchone()[0]

    def drop(self) -> None:
        """Remove the store (tables and token function), e.g. a scratch one; next use recreates it."""
        with self._conn() as conn, conn.transaction():
            conn.execute(f"DROP TABLE IF EXISTS {self.entries}, {self.docs}, {self.terms}, {self.phrases}, {self.state}")
            conn.execute(f"DROP FUNCTION IF EXISTS {self._function}")
        self._ready = False

    def close(self) -> None:
        """Close pooled connections; the next call opens new ones."""
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
