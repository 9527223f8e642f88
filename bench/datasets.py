"""Reproducible datasets S / M / L from the demo generator, cached under ``bench/data/<size>/``.

A dataset is a portal var directory (SQLite file, Whoosh index, development keys) with a fixed
"today" and seed, plus ``meta.json`` (load and index timings) and ``fts5.sqlite3`` (the SQLite
FTS5 trigram reference over the same search documents).
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from .stats import data_dir

SIZES = {"XS": 300, "S": 10_000, "M": 100_000, "L": 300_000}  # XS: the CI smoke test
SEED = 7
TODAY = "2026-11-20"


#: ``--database-url``: datasets on a PostgreSQL database instead of SQLite (cached as ``<size>-pg``)
DATABASE_URL: str | None = None


def use_database(url: str | None) -> None:
    """Put datasets on ``url``. The database is the harness's own: its name must contain
    ``bench`` because building a dataset drops and recreates its ``public`` schema."""
    global DATABASE_URL
    if url:
        from sqlalchemy.engine import make_url

        if "bench" not in (make_url(url).database or ""):
            raise SystemExit("--database-url: use a database of its own whose name contains 'bench'")
    DATABASE_URL = url


def root(size: str) -> Path:
    return data_dir() / (f"{size}-pg" if DATABASE_URL else size)


def settings(size: str, database_url: str | None = None, search_url: str | None = None) -> dict[str, str]:
    var = root(size) / "var"
    return {
        "PORTAL_VAR_DIR": str(var),
        "PORTAL_TODAY": TODAY,
        "PORTAL_PROFILE": "hunan",
        "PORTAL_INDEX_MODE": "worker",
        "DATABASE_URL": database_url or DATABASE_URL or f"sqlite:///{var / 'portal.sqlite3'}",
        "SEARCH_URL": search_url or f"whoosh://{var / 'index'}",
        # the load generator is one client address: per-client limits would measure the 429 page
        "PORTAL_RATELIMIT_SEARCH": "10000000/minute",
        "PORTAL_RATELIMIT_LOGIN": "10000000/minute",
        "PORTAL_CHAT_RATE_PER_MINUTE": "10000000",
    }


def _reset_database() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _database_mb(rt) -> float:
    from sqlalchemy import text

    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect() as conn:
            return round(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20, 1)
    return round(Path(rt.engine.url.database).stat().st_size / 2**20, 1)


def runtime(size: str, migrate: bool = True, **kw):
    """The portal runtime on a dataset; migrations newer than the cached dataset are applied."""
    from portal.config import load_settings
    from portal.db.migrate import upgrade
    from portal.runtime import Runtime

    rt = Runtime.from_settings(load_settings(settings(size, **kw)))
    if migrate:
        upgrade(rt.engine)
    return rt


def meta(size: str) -> dict:
    path = root(size) / "meta.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _progress(label: str, total: int):
    state = {"n": 0, "t0": time.perf_counter(), "last": 0.0}

    def tick(n: int) -> None:
        state["n"] = n if n > state["n"] else state["n"] + n
        now = time.perf_counter()
        if now - state["last"] > 2 or state["n"] >= total:
            state["last"] = now
            rate = state["n"] / max(now - state["t0"], 1e-9)
            print(f"\r  {label}: {state['n']:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)

    return tick


def ensure(size: str, force: bool = False) -> dict:
    """Build the dataset once: bulk load through the services' rules, grade, rebuild the index."""
    if meta(size).get("complete") and not force:
        return meta(size)
    from portal.db.migrate import upgrade
    from portal.services import indexing
    from portal.services.bulk_load import bulk_load_demo

    if root(size).exists():
        shutil.rmtree(root(size))
    root(size).mkdir(parents=True)
    if DATABASE_URL:
        _reset_database()
    n = SIZES[size]
    rt = runtime(size, migrate=False)
    upgrade(rt.engine)
    out: dict = {"size": size, "subjects_requested": n, "seed": SEED, "today": TODAY}
    with rt.sessions() as session:
        ctx = rt.context(session, "bench")
        t0 = time.perf_counter()
        counts = bulk_load_demo(ctx, n, SEED, progress=_progress("load", n))
        session.commit()
        out["load_s"] = round(time.perf_counter() - t0, 1)
        print(file=sys.stderr)
        out.update(counts)
        from sqlalchemy import text

        out["public_records"] = session.execute(text(
            "SELECT count(*) FROM credit_records WHERE scope = 'public' AND status = 'active' "
            "AND publish_from <= :d AND (publish_until IS NULL OR publish_until >= :d)"), {"d": TODAY}).scalar()
        t0 = time.perf_counter()
        out["indexed_docs"] = indexing.rebuild(session, rt.backend, rt.today(), rt.profile,
                                               progress=_progress("index", n))
        out["index_s"] = round(time.perf_counter() - t0, 1)
        print(file=sys.stderr)
    rt.backend.close()
    out["database"] = rt.engine.dialect.name
    out["db_mb"] = _database_mb(rt)
    rt.engine.dispose()
    out["complete"] = True
    (root(size) / "meta.json").write_text(json.dumps(out, indent=2))
    return out


def search_url(size: str, spec: str | None) -> str | None:
    """``--search-url``: a full SEARCH_URL as given, or a bare backend scheme (``tantivy``,
    ``whoosh``) for the dataset's own index of that backend under ``var/``. Such an index is
    built from the dataset's database the first time and cached with it."""
    if not spec or "://" in spec:
        return spec
    if spec == "whoosh":
        return None  # the index the dataset was built with
    url = f"{spec}://{root(size) / 'var' / f'index-{spec}'}"
    from search_index import open_backend

    backend = open_backend(url)
    if backend.count() == 0:
        from portal.services import indexing

        rt = runtime(size, search_url=url)
        with rt.sessions() as session:
            t0 = time.perf_counter()
            n = indexing.rebuild(session, backend, rt.today(), rt.profile,
                                 progress=_progress(f"index ({spec})", meta(size).get("indexed_docs", 0)))
            print(f"\n  {spec} index of {size}: {n:,} documents in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rt.engine.dispose()
    backend.close()
    return url


def fill_search_index(rt, size: str) -> dict | None:
    """Make ``rt.backend`` (a ``--search-url`` other than the dataset's own Whoosh index, e.g. a
    PostgreSQL search store or memory://) hold this dataset: rebuilt from the dataset's database
    when its document count differs (empty, or filled from another size). Returns the timing of
    a rebuild, or None."""
    from portal.services import indexing

    want = meta(size).get("indexed_docs")
    if rt.backend.count() == want:
        return None
    with rt.sessions() as session:
        t0 = time.perf_counter()
        n = indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=_progress("index", want or 0))
        print(file=sys.stderr)
    return {"docs": n, "s": round(time.perf_counter() - t0, 1)}


# --- the SQLite FTS5 trigram reference -------------------------------------------------------

FTS_COLUMNS = ("name", "codes", "address", "titles")


def fts_path(size: str) -> Path:
    return root(size) / "fts5.sqlite3"


def build_fts(size: str, docs) -> tuple[int, float]:
    """Index ``docs`` into a fresh FTS5 trigram table; returns (count, seconds)."""
    path = fts_path(size)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, name, codes, address, titles, "
                "category UNINDEXED, region_code UNINDEXED, grade UNINDEXED, kind UNINDEXED, "
                "tokenize='trigram')")
    t0 = time.perf_counter()
    n = 0
    batch = []
    for d in docs:
        batch.append((d["id"], d["name"], " ".join(d.get("codes") or []), d.get("address") or "",
                      " ".join(d.get("titles") or []), d.get("category") or "", d.get("region_code") or "",
                      d.get("grade") or "", d.get("kind") or ""))
        if len(batch) >= 5000:
            con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?)", batch)
            n += len(batch)
            batch.clear()
    con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?)", batch)
    n += len(batch)
    con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    con.commit()
    seconds = time.perf_counter() - t0
    con.close()
    tmp.replace(path)
    return n, seconds


def ensure_fts(size: str) -> None:
    if fts_path(size).exists():
        return
    from portal.services import indexing

    rt = runtime(size)
    with rt.sessions() as session:
        build_fts(size, indexing.iter_documents(session, rt.today(), rt.profile))
    rt.engine.dispose()
