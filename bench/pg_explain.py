"""Why the PostgreSQL search backend indexes bigram arrays: EXPLAIN ANALYZE on synthetic subjects.

    .venv/bin/python -m bench.pg_explain --url postgresql+psycopg://postgres@127.0.0.1:54329/portal_test \\
        [--docs 100000] [--keep] [--reuse]

Builds ``--docs`` synthetic subjects (bench/search_micro.py names) through the backend's own
``rebuild`` into a scratch schema ``bench_pg_explain`` (dropped at the end unless ``--keep``),
then, per query shape, times the match step three ways with EXPLAIN (ANALYZE, TIMING OFF)
(per-node timing would inflate plans over many rows):

- ``bigram GIN``: what the backend asks (``tokens @> ARRAY[...]`` + ``strpos`` confirm);
- ``pg_trgm GIN``: ``LIKE '%run%'`` over the same normalised text with a ``gin_trgm_ops``
  index (only if the extension can be created here; it needs the privilege);
- ``scan``: no index, the exact ``strpos`` conditions alone (what the memory backend does);

and the backend's whole search statement (matches, facets over all of them, first page); for a
one-term query whose term has statistics (``p_terms``, issue #17) also "terms": the two
statements that answer it instead (the term's counts, then the page walked down the rank index).
Prints figures; asserts nothing. Timings on a shared machine are rough.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_micro import make_docs  # noqa: E402
from search_index import SearchQuery  # noqa: E402
from search_index.base import clean_filters  # noqa: E402
from search_index.postgres_backend import PostgresBackend, _one_term  # noqa: E402
from search_index.query import parse_query  # noqa: E402

SCHEMA = "bench_pg_explain"


def shapes(docs: list[dict]) -> list[tuple[str, SearchQuery]]:
    rare = docs[4321]["name"]
    return [
        ("1 char, common", SearchQuery("院")),
        ("2 chars, common", SearchQuery("民医")),
        ("2 chars, rare", SearchQuery(docs[4322]["name"][3:5])),  # a pharmacy's given name
        ("4 chars, common", SearchQuery("人民医院")),
        ("4+ chars, rare", SearchQuery(rare[:7])),
        ("full name", SearchQuery(rare)),
        ("licence number", SearchQuery(docs[123]["codes"][1].lower())),
        ("word prefix", SearchQuery("宾馆 12")),
        ("2 chars + facets", SearchQuery("医院", {"category": "hospital", "region_code": "430100"})),
        ("filter only", SearchQuery("", {"category": "hotel"})),
    ]


def explain(conn, sql: str, params, settings: tuple[str, ...] = ()) -> tuple[float, str]:
    """(execution ms, the plan's scan nodes) of one statement; ``settings`` apply to it only."""
    with conn.transaction():
        for s in settings:
            conn.execute(f"SET LOCAL {s}")
        lines = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params).fetchall()]
    ms = next(float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+) ms", line)))
    nodes = []
    for line in lines:
        m = re.search(r"(Seq Scan|Bitmap Index Scan|Index Scan|Index Only Scan|Parallel Seq Scan) "
                      r"(?:using (\S+) )?on (\S+)", line)
        if m and m.group(1) + (m.group(2) or "") not in nodes:
            nodes.append(m.group(1) + (f" {m.group(2)}" if m.group(2) else ""))
    return ms, ", ".join(nodes)


def term_path_ms(conn, backend: PostgresBackend, pq, filters, repeat: int, limit: int = 20) -> float:
    """Execution ms of the frequent-term path (statistics + page statement), NaN if the query
    does not take it."""
    term = _one_term(pq, filters, "")
    if term is None:
        return float("nan")
    stats_sql, stats_params = backend.term_stats_sql(term)
    stats = conn.execute(stats_sql, stats_params).fetchall()
    if not any(field == "" for field, _, _ in stats):
        return float("nan")
    _, page_sql, page_params = backend.term_page_sql(pq, term, stats, 0, limit)
    ms = best_of(repeat, lambda: explain(conn, stats_sql, stats_params))[0]
    return ms + (best_of(repeat, lambda: explain(conn, page_sql, page_params))[0] if page_sql else 0.0)


def best_of(n: int, fn):
    results = [fn() for _ in range(n)]
    return min(results, key=lambda r: r[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL"))
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is shown")
    ap.add_argument("--keep", action="store_true", help="keep the scratch schema")
    ap.add_argument("--reuse", action="store_true", help="reuse a kept scratch schema (same --docs)")
    args = ap.parse_args()
    if not args.url:
        raise SystemExit("--url or TEST_DATABASE_URL: a PostgreSQL server (e.g. eval \"$(.ci/postgres.sh)\")")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(args.url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    admin = psycopg.connect(dsn, autocommit=True)
    admin.execute("SET jit = off")  # as the backend's own connections
    reuse = args.reuse and admin.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.search_entries"]).fetchone()[0]
    if not reuse:
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.execute(f"CREATE SCHEMA {SCHEMA}")
    admin.execute(f"DROP TABLE IF EXISTS {SCHEMA}.trgm")
    backend = PostgresBackend(args.url, schema=SCHEMA)
    try:
        docs = make_docs(args.docs)
        t0 = time.perf_counter()
        if not reuse:
            backend.rebuild(docs)
        build_s = time.perf_counter() - t0 if not reuse else float("nan")
        sizes = dict(admin.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s", [SCHEMA]).fetchall())
        pages = admin.execute("SELECT relpages FROM pg_class WHERE oid = %s::regclass",
                              [f"{SCHEMA}.search_entries"]).fetchone()[0]
        print(f"{args.docs:,} docs: rebuild {build_s:.1f} s ({args.docs / build_s:,.0f} docs/s); entries heap "
              f"{pages:,} pages; " + ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in sorted(sizes.items())
                                                if k.startswith("search_") and k != "search_state"))
        trgm = False
        try:  # the same normalised text in a table of the same width, with a trigram index
            admin.execute(f"CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA {SCHEMA}")
            admin.execute(f"""CREATE TABLE {SCHEMA}.trgm AS SELECT id, name_norm || ' ' || rest_norm AS alltext,
                              name_words, rest_words, codes, kind, category, region_code, grade, record_types
                              FROM {backend.entries}""")
            t0 = time.perf_counter()
            admin.execute(f"CREATE INDEX trgm_idx ON {SCHEMA}.trgm USING gin (alltext {SCHEMA}.gin_trgm_ops)")
            trgm_s = time.perf_counter() - t0
            admin.execute(f"ANALYZE {SCHEMA}.trgm")
            size = admin.execute("SELECT pg_relation_size(%s::regclass)", [f"{SCHEMA}.trgm_idx"]).fetchone()[0]
            print(f"pg_trgm GIN on the same text: built in {trgm_s:.1f} s, {size / 2**20:.1f} MB")
            trgm = True
        except psycopg.Error as exc:
            print(f"pg_trgm not measured: {exc}".strip())
        print()
        header = (f"{'query':18} {'matches':>8} {'bigram GIN':>11} {'pg_trgm':>9} {'scan':>8} {'search':>8} "
                  f"{'terms':>8}"
                  "  plan of the match step (bigram GIN)")
        print(header)
        print("-" * len(header))
        for label, q in shapes(docs):
            pq, filters = parse_query(q.text), clean_filters(q.filters)
            where, _, params = backend.match_sql(pq, filters)
            sql, full_params = backend.search_sql(pq, filters, limit=20, offset=0)
            count_sql = f"SELECT count(*) FROM {backend.entries} WHERE {where}"
            matches = admin.execute(count_sql, params).fetchone()[0]
            gin_ms, plan = best_of(args.repeat, lambda sql=count_sql, p=params: explain(admin, sql, p))
            # No index: the exact strpos conditions alone, as the memory backend does.
            exact = [f"(strpos(name_norm, %(c{i})s) > 0 OR strpos(rest_norm, %(c{i})s) > 0)"
                     for i in range(len(pq.cjk))]
            exact += [f"(strpos(name_words, %(w{i})s) > 0 OR strpos(rest_words, %(w{i})s) > 0)"
                      for i in range(len(pq.words))]
            rest = [c for c in where.split(" AND ") if "tokens_v" not in c and not c.startswith("(strpos")]
            scan_where = " AND ".join(exact + rest)
            scan_ms, _ = best_of(args.repeat, lambda w=scan_where, p=params: explain(
                admin, f"SELECT count(*) FROM {backend.entries} WHERE {w}", p,
                ("enable_bitmapscan = off", "enable_indexscan = off")))
            trgm_ms = float("nan")
            if trgm and not pq.codes:  # LIKE is a substring match: looser than the word-prefix rule
                likes = [f"alltext LIKE '%%' || %(c{i})s || '%%'" for i in range(len(pq.cjk))]
                likes += [f"alltext LIKE '%%' || ltrim(%(w{i})s) || '%%'" for i in range(len(pq.words))]
                trgm_where = " AND ".join(likes + rest)
                trgm_ms, _ = best_of(args.repeat, lambda w=trgm_where, p=params: explain(
                    admin, f"SELECT count(*) FROM {SCHEMA}.trgm WHERE {w}", p))
            full_ms, _ = best_of(args.repeat, lambda q=sql, p=full_params: explain(admin, q, p))
            terms_ms = term_path_ms(admin, backend, pq, filters, args.repeat)
            print(f"{label:18} {matches:>8,} {gin_ms:>9.1f}ms {trgm_ms:>7.1f}ms {scan_ms:>6.1f}ms "
                  f"{full_ms:>6.1f}ms {terms_ms:>6.1f}ms  {plan}")
    finally:
        backend.close()
        if not args.keep:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()
