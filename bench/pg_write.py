"""Write cost of the PostgreSQL search store: milliseconds per ``upsert`` batch (issue #17).

    .venv/bin/python -m bench.pg_write --url postgresql+psycopg://postgres@127.0.0.1:54329/db \\
        [--docs 100000] [--batches 20] [--batch 100] [--keep] [--reuse]
    .venv/bin/python -m bench.pg_write --search-url 'postgresql+psycopg://…/db?table_prefix=mine_' [--batch 100]

Every write keeps the frequent terms' and phrases' counts (``search_terms``): it reads the
written documents' counts before and after, through the token function and ``strpos`` over
``search_phrases``, and applies the net change. This measures what that costs:

- ``--url``: builds ``--docs`` synthetic subjects (bench/search_micro.py) through the backend's
  ``rebuild`` into the scratch schema ``bench_pg_write`` (dropped at the end unless ``--keep``;
  ``--reuse`` a kept one), then times batches of ``--batch`` documents re-upserted unchanged,
  then changed (another name, risk rank and grade: counts move), then one document at a time;
  then the same with the store's statistics emptied (``TRUNCATE`` of the scratch store's terms
  and phrases: no counts kept), which is the write without this cost.
- ``--search-url``: an existing store (never a production one: it writes). Re-upserts
  ``--batches`` batches of its own documents unchanged, then changed, then puts the
  originals back. No "without counts" figures (its statistics are left alone).

Each batch is one ``upsert`` call (one transaction, the writer lock). Prints the median and
p95 ms per batch and the store's counts; asserts nothing. A shared machine makes figures rough:
note the load average printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_micro import make_docs  # noqa: E402
from search_index import open_backend  # noqa: E402
from search_index.postgres_backend import PostgresBackend  # noqa: E402

SCHEMA = "bench_pg_write"


def _changed(doc: dict, i: int) -> dict:
    """Another version of ``doc`` that moves frequent-term counts: name, rank and grade."""
    return doc | {"name": doc["name"][::-1], "risk_rank": (doc.get("risk_rank") or 0) + 1 + i % 2,
                  "grade": "C" if doc.get("grade") != "C" else "B"}


def _time_batches(backend, batches: list[list[dict]]) -> list[float]:
    out = []
    for batch in batches:
        t0 = time.perf_counter()
        backend.upsert(batch)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _line(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{label:44} {len(ms):>4} x  median {statistics.median(ms):>8.1f} ms  p95 {p95:>8.1f} ms"


def _stats(backend: PostgresBackend) -> str:
    with backend._conn() as conn:
        terms, rows = conn.execute(f"SELECT count(*) FILTER (WHERE field = ''), count(*) FROM {backend.terms}"
                                   ).fetchone()
        table = getattr(backend, "phrases", None)  # none before frequent phrases
        phrases = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if table else 0
    return f"{terms:,} frequent terms ({phrases:,} phrases), {rows:,} count rows"


def measure(backend: PostgresBackend, docs: list[dict], batch: int, batches: int) -> list[str]:
    """Lines of figures: unchanged, changed, single documents; the store ends as it began."""
    groups = [docs[i * batch:(i + 1) * batch] for i in range(batches)]
    groups = [g for g in groups if g]
    lines = [_line(f"upsert {batch} unchanged documents", _time_batches(backend, groups))]
    changed = [[_changed(d, i) for i, d in enumerate(g)] for g in groups]
    lines.append(_line(f"upsert {batch} changed documents", _time_batches(backend, changed)))
    lines.append(_line(f"upsert {batch} documents back (changed again)", _time_batches(backend, groups)))
    singles = [[d] for d in docs[:batches]]
    lines.append(_line("upsert 1 unchanged document", _time_batches(backend, singles)))
    lines.append(_line("upsert 1 changed document", _time_batches(
        backend, [[_changed(d, 0)] for [d] in singles])))
    _time_batches(backend, singles)  # back to the originals
    return lines


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=None, help="a PostgreSQL server for a scratch store of synthetic subjects")
    ap.add_argument("--search-url", default=None, help="an existing (non-production) store: re-upserts its documents")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=100, help="documents per upsert")
    ap.add_argument("--batches", type=int, default=20, help="upserts per figure")
    ap.add_argument("--keep", action="store_true", help="keep the scratch schema")
    ap.add_argument("--reuse", action="store_true", help="reuse a kept scratch schema (same --docs)")
    args = ap.parse_args(argv)
    if bool(args.url) == bool(args.search_url):
        raise SystemExit("give one of --url (scratch store) or --search-url (an existing store)")
    if args.search_url:
        backend = open_backend(args.search_url)
        if not isinstance(backend, PostgresBackend):
            raise SystemExit("--search-url must be a PostgreSQL search URL")
        with backend._conn() as conn:
            docs = [json.loads(d) for (d,) in conn.execute(
                f"SELECT doc FROM {backend.docs} ORDER BY id LIMIT %s", [args.batch * args.batches])]
        print(f"{backend!r}: {backend.count():,} documents, {_stats(backend)}; load {_load()}")
        for line in measure(backend, docs, args.batch, args.batches):
            print(line)
        print(f"load {_load()}")
        backend.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(args.url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = psycopg.connect(dsn, autocommit=True)
    reuse = args.reuse and admin.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.search_entries"]).fetchone()[0]
    if not reuse:
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.execute(f"CREATE SCHEMA {SCHEMA}")
    backend = PostgresBackend(args.url, schema=SCHEMA)
    try:
        docs = make_docs(args.docs)
        if not reuse:
            t0 = time.perf_counter()
            backend.rebuild(docs)
            print(f"rebuild of {args.docs:,} synthetic documents: {time.perf_counter() - t0:.1f} s")
        # Documents spread over the store (every 97th), so batches touch many pages.
        sample = docs[::97][:args.batch * args.batches]
        print(f"{backend!r}: {backend.count():,} documents, {_stats(backend)}; load {_load()}")
        print("with the frequent-term counts:")
        for line in measure(backend, sample, args.batch, args.batches):
            print("  " + line)
        phrases = getattr(backend, "phrases", None)  # none before frequent phrases
        admin.execute(f"TRUNCATE {backend.terms}" + (f", {phrases}" if phrases else ""))
        print("without (statistics emptied: no counts kept):")
        for line in measure(backend, sample, args.batch, args.batches):
            print("  " + line)
        print(f"load {_load()}")
        if args.keep:
            print(f"kept {SCHEMA}: its statistics are now empty, --reuse measures writes without counts only")
    finally:
        backend.close()
        if not args.keep:
            admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()
