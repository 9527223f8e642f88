"""PostgreSQL backend: the index lives in the shared database server, so any number of web
nodes behind a load balancer search (and one writer updates) the same store.

``SEARCH_URL=postgresql+psycopg://user@host:port/db`` (``postgresql://`` too; psycopg 3 is the
driver either way). Query options, removed before connecting: ``table_prefix`` (default
``search_``), ``schema`` (tables qualified with it; otherwise ``search_path`` decides, e.g.
``options=-csearch_path=...``), ``pool_size`` (default 5) and ``lock_timeout`` (seconds a
writer waits for another, e.g. a rebuild; default 30, then ``IndexLocked``). Everything else
in the URL goes to libpq. No extension is needed.

Tables: ``<prefix>state`` (one row: token, generation counter, schema version) and
``<prefix>docs``, one row per document with what :func:`document.prepare` derives:

- ``tokens text[]`` under a GIN index: every CJK character and every CJK bigram of the name,
  titles and address, each letter/digit word's prefixes up to WORD_PREFIX_MAX characters, and
  ``#code`` for each credit code / licence number. A query asks ``tokens @> ARRAY[...]`` with
  a CJK run's bigrams (or its one character), each word (cut to WORD_PREFIX_MAX) and each
  ``#code``; for one- and two-character runs, short words and codes that is already exact.
- ``name_norm`` / ``rest_norm`` (normalised text) confirm CJK runs of 3+ characters with
  ``strpos`` (what a bigram phrase query does); ``name_words`` / ``rest_words`` (the word runs,
  each after a space) confirm longer words as prefixes with ``strpos(words, ' ' || word)``.
  ``rest`` is titles and address together: the separator between them is not CJK and not a
  word character, so no term can match across it.
- ``kind``, ``category``, ``region_code``, ``grade``, ``record_types`` for filters and facets;
  ``name_key`` / ``name_len`` for the ranking tiers; ``doc`` is the document as JSON text (NUL
  is escaped by JSON; lone surrogates fall back to ``\\u`` escapes, so any dict round-trips).

One statement per search: the matches are materialised once (without ``doc``), facets are
counted over all of them with GROUP BY / unnest, ranking tiers are a CASE over the same rows,
and only the requested page is sorted (top-N) and joined back for its ``doc``. Highlighting
reuses :func:`query.make_hit`. All text columns are ``COLLATE "C"``: ordering is by code point
as in Python, and nothing depends on the cluster's locale.

Why bigram arrays and not pg_trgm or tsvector: measured below (MEASUREMENTS).

Writes: every write transaction first locks the state row (``lock_timeout``, then
``IndexLocked``), so writers are serialised and a rebuild holds them off until its swap;
searches never wait for it. ``upsert`` is ``INSERT ... ON CONFLICT DO UPDATE``; ``rebuild``
COPYs into a fresh table, builds its indexes, ANALYZEs it and, in the same transaction, renames
it over the live one (a few milliseconds of ACCESS EXCLUSIVE lock; searches that started before
finish on the old table, later ones see the new one). A failed rebuild rolls back and leaves
nothing behind. The GIN index has ``fastupdate`` off: a drained batch pays for its index
updates instead of every search scanning a pending list.

Connections come from a small SQLAlchemy pool (thread-safe; rebuilt after ``fork``, so a
``gunicorn --preload`` master never shares sockets with its workers). Reads run in autocommit.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator

from .analysis import CJK, bigrams, normalize, runs
from .base import (
    FACETS,
    MAX_WINDOW,
    IndexLocked,
    SearchQuery,
    SearchResults,
    clamp_paging,
    clean_filters,
    page_count,
    region_prefix,
    sorted_facets,
)
from .document import Prepared, prepare
from .query import ALL_IN_NAME, ELSEWHERE, EXACT_NAME, NAME_PREFIX, ParsedQuery, make_hit, parse_query

#: Bump when the table layout or the token rules change: the store then needs a rebuild.
SCHEMA_VERSION = 1
#: Word prefixes indexed as tokens; a longer query word is confirmed with ``strpos``.
WORD_PREFIX_MAX = 10
DEFAULT_PREFIX = "search_"
URL_OPTIONS = ("table_prefix", "schema", "pool_size", "lock_timeout")
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,31}")
_SCALAR_FACETS = tuple(f for f in FACETS if f != "record_types")

_COLUMNS = ("id", "doc", "name_key", "name_len", "name_norm", "rest_norm", "name_words", "rest_words",
            "tokens", "kind", "category", "region_code", "grade", "record_types")
_TYPES = ["text", "text", "text", "int4", "text", "text", "text", "text",
          "text[]", "text", "text", "text", "text", "text[]"]


class SchemaMismatch(RuntimeError):
    """The store was built by another version of this backend: rebuild it."""


def _safe(text: str) -> str:
    """A string PostgreSQL can store: NUL is illegal in ``text`` and lone surrogates cannot be
    encoded. Applied alike to stored facet values / ids and to filter values, so they still
    compare equal."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _json(doc: dict) -> str:
    text = json.dumps(doc, ensure_ascii=False)  # escapes control characters, NUL included
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: \\udXXX escapes load back to the same string
        text = json.dumps(doc)
    return text


def _words(norm: str) -> list[str]:
    return [run for kind, _, run in runs(norm) if kind != CJK]


def _tokens(*norms: str, codes: Iterable[str] = ()) -> list[str]:
    out: set[str] = set()
    for norm in norms:
        for kind, _, run in runs(norm):
            if kind == CJK:
                out.update(run)  # one token per character: one-character queries
                out.update(bigrams(run))
            else:
                out.update(run[:k] for k in range(1, min(len(run), WORD_PREFIX_MAX) + 1))
    out.update("#" + c for c in codes)  # "#" never occurs in a text token
    return sorted(out)


def _row(p: Prepared) -> tuple:
    name_norm = normalize(p.name)
    rest_norm = normalize(p.titles) + "\n" + normalize(p.extra)
    facet = {f: (_safe(p.facets[f][0]) if p.facets[f] else None) for f in _SCALAR_FACETS}
    return (
        _safe(p.id), _json(p.doc), p.name_key, len(p.name_key), name_norm, rest_norm,
        "".join(" " + w for w in _words(name_norm)), "".join(" " + w for w in _words(rest_norm)),
        _tokens(name_norm, rest_norm, codes=p.codes),
        facet["kind"], facet["category"], facet["region_code"], facet["grade"],
        [_safe(v) for v in p.facets["record_types"]],
    )


def _query_tokens(pq: ParsedQuery) -> list[str]:
    tokens: set[str] = set()
    for run in pq.cjk:
        tokens.update(bigrams(run) if len(run) > 1 else [run])
    tokens.update(w[:WORD_PREFIX_MAX] for w in pq.words)
    tokens.update("#" + c for c in pq.codes)
    return sorted(tokens)


def _ident(value: str, what: str) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ValueError(f"search {what} must match {_IDENT.pattern}: {value!r}")
    return value


class PostgresBackend:
    def __init__(self, url, *, table_prefix: str = DEFAULT_PREFIX, schema: str | None = None,
                 pool_size: int = 5, lock_timeout: float = 30.0) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(url)
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"not a PostgreSQL URL: {url.render_as_string()}")
        self.url = url.set(drivername="postgresql+psycopg")
        self.prefix = _ident(table_prefix, "table prefix")
        self.schema = _ident(schema, "schema") if schema else None
        self.pool_size = int(pool_size)
        self.lock_timeout = float(lock_timeout)
        self._docs = self._name("docs")
        self._state = self._name("state")
        self._engine = None
        self._pid = 0
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def from_url(cls, url: str) -> PostgresBackend:
        """``postgresql[+psycopg]://...?table_prefix=...&schema=...&pool_size=...&lock_timeout=...``"""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        opts = {k: parsed.query[k] for k in URL_OPTIONS if k in parsed.query}
        if any(not isinstance(v, str) for v in opts.values()):
            raise ValueError(f"search URL option given twice: {url!r}")
        try:
            kwargs = {
                "table_prefix": opts.get("table_prefix", DEFAULT_PREFIX),
                "schema": opts.get("schema") or None,
                "pool_size": int(opts.get("pool_size", 5)),
                "lock_timeout": float(opts.get("lock_timeout", 30)),
            }
        except ValueError as exc:
            raise ValueError(f"bad search URL option in {url!r}: {exc}") from None
        return cls(parsed.difference_update_query(URL_OPTIONS), **kwargs)

    def __repr__(self) -> str:
        return f"PostgresBackend({self.url.render_as_string()!r}, table {self._docs})"

    def _name(self, table: str, *, bare: bool = False) -> str:
        name = f'"{self.prefix}{table}"'
        return name if bare or not self.schema else f'"{self.schema}".{name}'

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
            with contextlib.suppress(Exception):
                if raw.driver_connection.broken:
                    raw.invalidate()
            raise
        finally:
            raw.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator:
        """A transaction holding the writer lock (the state row), waiting ``lock_timeout``."""
        import psycopg

        self._ensure()
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(self.lock_timeout * 1000)}ms"])
            try:
                conn.execute(f"SELECT 1 FROM {self._state} WHERE id = 1 FOR UPDATE")
            except psycopg.errors.LockNotAvailable:
                raise IndexLocked(f"search index {self._docs} is locked by another writer") from None
            conn.execute("SELECT set_config('lock_timeout', '0', true)")
            yield conn

    def _bump(self, conn, **extra: str) -> None:
        sets = "".join(f", {k} = {v}" for k, v in extra.items())
        conn.execute(f"UPDATE {self._state} SET generation = generation + 1, updated_at = now(){sets} WHERE id = 1")

    # -- schema ---------------------------------------------------------------------------

    def _docs_ddl(self, table: str, index_prefix: str) -> list[str]:
        text = 'text COLLATE "C"'
        return [
            f"""CREATE TABLE IF NOT EXISTS {table} (
                id {text} NOT NULL,
                doc text NOT NULL,
                name_key {text} NOT NULL,
                name_len integer NOT NULL,
                name_norm {text} NOT NULL,
                rest_norm {text} NOT NULL,
                name_words {text} NOT NULL,
                rest_words {text} NOT NULL,
                tokens text[] COLLATE "C" NOT NULL,
                kind {text},
                category {text},
                region_code {text},
                grade {text},
                record_types text[] COLLATE "C" NOT NULL,
                CONSTRAINT "{index_prefix}_pkey" PRIMARY KEY (id)
            )""",
            f'CREATE INDEX IF NOT EXISTS "{index_prefix}_tokens" ON {table} USING gin (tokens) WITH (fastupdate = off)',
            f'CREATE INDEX IF NOT EXISTS "{index_prefix}_region" ON {table} (region_code)',
            f'CREATE INDEX IF NOT EXISTS "{index_prefix}_category" ON {table} (category)',
        ]

    def create(self) -> None:
        """Create the tables and indexes if they do not exist (safe to race: advisory lock)."""
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"search_index:{self._docs}"])
            conn.execute(f"""CREATE TABLE IF NOT EXISTS {self._state} (
                id integer PRIMARY KEY CHECK (id = 1),
                token text NOT NULL,
                generation bigint NOT NULL,
                version integer NOT NULL,
                built_at timestamptz,
                updated_at timestamptz NOT NULL DEFAULT now())""")
            conn.execute(f"INSERT INTO {self._state} (id, token, generation, version) VALUES (1, %s, 0, %s) "
                         "ON CONFLICT (id) DO NOTHING", [uuid.uuid4().hex[:12], SCHEMA_VERSION])
            for ddl in self._docs_ddl(self._docs, f"{self.prefix}docs"):
                conn.execute(ddl)
        self._ready = False

    def _ensure(self) -> None:
        """Create the schema on first use; refuse a store of another schema version."""
        if self._ready:
            return
        import psycopg

        try:
            with self._conn() as conn:
                row = conn.execute(f"SELECT version FROM {self._state} WHERE id = 1").fetchone()
                conn.execute(f"SELECT 1 FROM {self._docs} LIMIT 0")
        except psycopg.errors.UndefinedTable:
            row = None
        if row is None:
            self.create()
            row = (SCHEMA_VERSION,)
        if row[0] != SCHEMA_VERSION:
            raise SchemaMismatch(f"search index {self._docs} has schema version {row[0]}, this code "
                                 f"needs {SCHEMA_VERSION}: rebuild it")
        self._ready = True

    # -- reading --------------------------------------------------------------------------

    def count(self) -> int:
        self._ensure()
        with self._conn() as conn:
            return conn.execute(f"SELECT count(*) FROM {self._docs}").fetchone()[0]

    def generation(self) -> str:
        self._ensure()
        with self._conn() as conn:
            token, gen = conn.execute(f"SELECT token, generation FROM {self._state} WHERE id = 1").fetchone()
        return f"pg-{token}-{gen}"

    def search(self, q: SearchQuery) -> SearchResults:
        page, per_page = clamp_paging(q.page, q.per_page)
        filters = clean_filters(q.filters)
        pq = parse_query(q.text)
        if pq.is_empty and not filters:
            return SearchResults(0, page, per_page, 0, [], sorted_facets({}))
        start = min((page - 1) * per_page, MAX_WINDOW)
        sql, params = self._search_sql(pq, filters, limit=min(per_page, MAX_WINDOW - start), offset=start)
        self._ensure()
        with self._conn() as conn:
            rows = conn.execute(sql, params).fetchall()
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        total, docs = 0, []
        for field, value, n, doc in rows:
            if field == "#":
                docs.append((n, doc))
            elif field == "":
                total = n
            else:
                counts[field][value] = n
        hits = [make_hit(json.loads(doc), pq) for _, doc in sorted(docs)]
        return SearchResults(total, page, per_page, page_count(total, per_page), hits, sorted_facets(counts))

    def _search_sql(self, pq: ParsedQuery, filters: dict[str, str], limit: int, offset: int) -> tuple[str, dict]:
        params: dict = {"limit": limit, "offset": offset}
        where: list[str] = []
        in_name: list[str] = []
        tokens = _query_tokens(pq)
        if tokens:
            where.append("tokens @> %(tokens)s::text[]")
            params["tokens"] = tokens
        for i, run in enumerate(pq.cjk):
            params[f"c{i}"] = run
            in_name.append(f"strpos(name_norm, %(c{i})s) > 0")
            if len(run) > 2:  # bigrams found the candidates; is the run one substring?
                where.append(f"(strpos(name_norm, %(c{i})s) > 0 OR strpos(rest_norm, %(c{i})s) > 0)")
        for i, word in enumerate(pq.words):
            params[f"w{i}"] = " " + word
            in_name.append(f"strpos(name_words, %(w{i})s) > 0")
            if len(word) > WORD_PREFIX_MAX:
                where.append(f"(strpos(name_words, %(w{i})s) > 0 OR strpos(rest_words, %(w{i})s) > 0)")
        for field, value in filters.items():
            value = _safe(value)
            if field == "record_types":
                where.append("record_types @> ARRAY[%(f_record_types)s]::text[]")
            elif field == "region_code" and (prefix := region_prefix(value)) != value:
                where.append("starts_with(region_code, %(f_region_code)s)")
                value = prefix
            else:
                where.append(f"{field} = %(f_{field})s")
            params[f"f_{field}"] = value
        when = []  # query.tier() in SQL
        if pq.key:
            params["key"] = pq.key
            when += [f"WHEN name_key = %(key)s THEN {EXACT_NAME}",
                     f"WHEN starts_with(name_key, %(key)s) THEN {NAME_PREFIX}"]
        if in_name:
            when.append(f"WHEN {' AND '.join(in_name)} THEN {ALL_IN_NAME}")
        tier = f"CASE {' '.join(when)} ELSE {ELSEWHERE} END" if when else str(ELSEWHERE)
        facets = "\n".join(
            f"UNION ALL SELECT '{f}', {f}, count(*), NULL FROM m WHERE {f} IS NOT NULL GROUP BY {f}"
            for f in _SCALAR_FACETS
        )
        sql = f"""
            WITH m AS MATERIALIZED (
                SELECT id, name_key, name_len, {', '.join(FACETS)}, {tier} AS tier
                FROM {self._docs} WHERE {' AND '.join(where)}
            ), page AS (
                SELECT id, tier, name_len, name_key FROM m
                ORDER BY tier, name_len, name_key, id LIMIT %(limit)s OFFSET %(offset)s
            )
            SELECT '', NULL, count(*), NULL FROM m
            {facets}
            UNION ALL SELECT 'record_types', v, count(*), NULL FROM m, unnest(m.record_types) AS v GROUP BY v
            UNION ALL SELECT '#', NULL, row_number() OVER (ORDER BY p.tier, p.name_len, p.name_key, p.id), d.doc
                FROM page p JOIN {self._docs} d ON d.id = p.id
        """
        return sql, params

    # -- writing --------------------------------------------------------------------------

    def upsert(self, docs: Iterable[dict]) -> int:
        rows = {r[0]: r for r in (_row(prepare(d)) for d in docs)}  # the last of a repeated id wins
        if not rows:
            return 0
        cols = ", ".join(_COLUMNS)
        values = ", ".join(f"%s::{t}" for t in _TYPES)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])
        with self._writing() as conn:
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {self._docs} ({cols}) VALUES ({values}) "
                                f"ON CONFLICT (id) DO UPDATE SET {updates}", list(rows.values()))
            self._bump(conn)
        return len(rows)

    def delete(self, ids: Iterable[str]) -> int:
        keys = sorted({_safe(i) for i in ids if isinstance(i, str) and i})
        if not keys:
            return 0
        with self._writing() as conn:
            n = conn.execute(f"DELETE FROM {self._docs} WHERE id = ANY(%s::text[])", [keys]).rowcount
            if n:
                self._bump(conn)
        return n

    def clear(self) -> None:
        with self._writing() as conn:
            conn.execute(f"TRUNCATE {self._docs}")
            self._bump(conn)

    def rebuild(self, docs: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """COPY ``docs`` into a fresh table, index it and swap it in, all in one transaction.
        Ids must be unique (a repeated id keeps its first document). Writers wait; searches
        keep using the old table until the swap commits."""
        import psycopg

        suffix = uuid.uuid4().hex[:10]
        fresh_bare = f"{self.prefix}docs_{suffix}"
        fresh = self._name(f"docs_{suffix}")
        old_bare = f"{self.prefix}docs_old_{suffix}"
        seen: set[str] = set()
        self._ready = True  # a rebuild also replaces a store of another schema version
        try:
            self._ensure_tables()
            with self._writing() as conn:
                ddl = self._docs_ddl(fresh, fresh_bare)
                conn.execute(ddl[0])
                with conn.cursor() as cur, cur.copy(f"COPY {fresh} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    copy.set_types(_TYPES)
                    for n, doc in enumerate(docs, 1):
                        row = _row(prepare(doc))
                        if row[0] not in seen:
                            seen.add(row[0])
                            copy.write_row(row)
                        if progress:
                            progress(n)
                conn.execute("SELECT set_config('maintenance_work_mem', '128MB', true)")
                for statement in ddl[1:]:
                    conn.execute(statement)
                conn.execute(f"ANALYZE {fresh}")
                # The swap: short ACCESS EXCLUSIVE locks, committed with everything above.
                conn.execute(f"SELECT set_config('lock_timeout', %s, true)", [f"{int(self.lock_timeout * 1000)}ms"])
                try:
                    conn.execute(f'ALTER TABLE {self._docs} RENAME TO "{old_bare}"')
                except psycopg.errors.LockNotAvailable:
                    raise IndexLocked(f"search index {self._docs}: a search held the table too long") from None
                conn.execute(f'ALTER TABLE {fresh} RENAME TO "{self.prefix}docs"')
                conn.execute(f"DROP TABLE {self._name(f'docs_old_{suffix}')}")
                for index in ("pkey", "tokens", "region", "category"):
                    conn.execute(f'ALTER INDEX {self._name(f"docs_{suffix}_{index}")} '
                                 f'RENAME TO "{self.prefix}docs_{index}"')
                self._bump(conn, version=str(SCHEMA_VERSION), built_at="now()")
        finally:
            self._ready = False
        return len(seen)

    def _ensure_tables(self) -> None:
        import psycopg

        try:
            with self._conn() as conn:
                conn.execute(f"SELECT 1 FROM {self._state}, {self._docs} LIMIT 0")
        except psycopg.errors.UndefinedTable:
            self.create()

    def close(self) -> None:
        """Close pooled connections; the next call opens new ones."""
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
