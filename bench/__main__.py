"""``python -m bench <command> [--size S|M|L]`` — one command per figure (see bench/__init__.py).

    dataset      generate + bulk load + grade + index the dataset (cached; --force rebuilds)
    build        full index build rate and size per backend, and the FTS5 trigram reference
    search       in-process search latency per query class through portal.services.search.search_public,
                 and the same queries against SQLite FTS5 trigram directly
    http         gunicorn (2 sync workers, 127.0.0.1) under wrk for a fixed duration: QR scan
                 page and facility page (first pass and cached second pass), search fragment
                 and page, and a bare Flask route; peak RSS per worker
    incremental  commit → visible in search, through the service verb and the index drain
    all          everything above in order
    soak         mixed traffic (search, facility, scan, chat, login, objection) for --minutes on
                 gunicorn in production mode (https, a real OIDC provider; --dev: development), every
                 error and p50/p95/p99 per action (bench/soak.py; not in CI)
    import_stall a --rows import in another process while wrk loads the scan page and a client
                 files objections: scan latency and failed writes (bench/import_stall.py)
    nodes        two gunicorn nodes on one PostgreSQL (--database-url), both search layouts of issue
                 #17: search p95 per class on node B, scan page vs a bare Flask route, commit on
                 node A → visible on node B, peak RSS of workers and followers (bench/nodes.py)
    agree        not a figure: the dataset's Whoosh index and --search-url give the same
                 results (total, facets, hits of pages 1, 3 and 50) on sampled queries
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from . import datasets
from .load import free_port, wait_port, wrk
from .stats import Timer, emit, peak_rss_mb, summary_ms, table

ROOT = Path(__file__).resolve().parent.parent
QUERY_CLASSES = ("2-char", "4-char", "full name", "credit code", "2-char + facets")


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


# --- build ----------------------------------------------------------------------------------

def cmd_build(args) -> dict:
    datasets.ensure(args.size)
    from portal.services import indexing
    from search_index import open_backend

    rt = datasets.runtime(args.size)
    rows, out = [], {}
    with rt.sessions() as session:
        with Timer() as t:
            n = sum(1 for _ in indexing.iter_documents(session, rt.today(), rt.profile))
        rows.append(["documents from DB (no engine)", n, round(t.seconds, 1), round(n / t.seconds), ""])
        out["docs_from_db"] = {"docs": n, "s": round(t.seconds, 1), "docs_per_s": round(n / t.seconds)}
        for url_kind in args.backends.split(","):
            target = datasets.root(args.size) / f"build-{url_kind.partition(':')[0]}"
            shutil.rmtree(target, ignore_errors=True)
            label, url = _backend_url(url_kind, target, args.search_url)
            backend = open_backend(url)
            with Timer() as t:
                count = indexing.rebuild(session, backend, rt.today(), rt.profile)
            if hasattr(backend, "size_bytes"):  # PostgreSQL: its tables, then dropped
                size = round(backend.size_bytes() / 2**20, 1)
                backend.drop()
            else:
                size = _dir_mb(target) if target.exists() else float("nan")
            backend.close()
            rows.append([f"{label} full rebuild (incl. documents)", count, round(t.seconds, 1),
                         round(count / t.seconds), size])
            out[label] = {"docs": count, "s": round(t.seconds, 1), "docs_per_s": round(count / t.seconds),
                          "size_mb": size}
            shutil.rmtree(target, ignore_errors=True)
        n_fts, s_fts = datasets.build_fts(args.size, indexing.iter_documents(session, rt.today(), rt.profile))
    fts_mb = round(datasets.fts_path(args.size).stat().st_size / 2**20, 1)
    rows.append(["SQLite FTS5 trigram (reference, engine only)", n_fts, round(s_fts, 1), round(n_fts / s_fts),
                 fts_mb])
    out["fts5_trigram"] = {"docs": n_fts, "s": round(s_fts, 1), "docs_per_s": round(n_fts / s_fts), "size_mb": fts_mb}
    rt.engine.dispose()
    print(table(["index build", "docs", "s", "docs/s", "MB"], rows))
    return emit("build", args.size, {"results": out, "peak_rss_mb": peak_rss_mb()})


BUILD_PREFIX = "bench_build_"


def _backend_url(kind: str, target: Path, search_url: str | None) -> tuple[str, str]:
    """``(label, SEARCH_URL)`` of a ``--backends`` entry: a scheme (``whoosh``, ``memory``;
    ``postgresql`` takes its server from ``--search-url``) or a whole URL. A PostgreSQL store is
    built under the table prefix ``bench_build_`` (unless the URL names one) and dropped after,
    so a store that ``search`` / ``http`` use is left alone."""
    from sqlalchemy.engine import make_url

    from search_index.urls import POSTGRES_SCHEMES

    scheme = kind.partition("://")[0]
    if scheme in POSTGRES_SCHEMES:
        url = kind if "://" in kind else search_url
        if not url or url.partition("://")[0] not in POSTGRES_SCHEMES:
            raise SystemExit("--backends postgresql needs --search-url postgresql+psycopg://user@host:port/db")
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
        if "table_prefix" not in parsed.query:
            parsed = parsed.update_query_dict({"table_prefix": BUILD_PREFIX})
        return "postgresql", parsed.render_as_string(hide_password=False)
    if "://" in kind:
        return scheme, kind
    return kind, f"{kind}://{target}"


# --- search ---------------------------------------------------------------------------------

def sample_queries(size: str, per_class: int, seed: int = 11) -> dict[str, list[tuple[str, dict]]]:
    """Deterministic queries drawn from the indexed documents (the FTS5 reference copy)."""
    datasets.ensure_fts(size)
    con = sqlite3.connect(datasets.fts_path(size))
    rows = con.execute("SELECT name, codes, category, region_code, kind FROM docs").fetchall()
    con.close()
    rnd = random.Random(seed)
    out: dict[str, list[tuple[str, dict]]] = {c: [] for c in QUERY_CLASSES}
    orgs = [r for r in rows if r[4] == "org" and r[1]]
    while min(len(v) for v in out.values()) < per_class:
        name, codes, category, region, _ = rnd.choice(rows)
        name = name.strip()
        for cls, n in (("2-char", 2), ("4-char", 4)):
            if len(name) >= n and len(out[cls]) < per_class:
                i = rnd.randrange(len(name) - n + 1)
                out[cls].append((name[i:i + n], {}))
        if len(out["full name"]) < per_class:
            out["full name"].append((name, {}))
        if len(out["2-char + facets"]) < per_class and len(name) >= 2:
            i = rnd.randrange(len(name) - 1)
            out["2-char + facets"].append((name[i:i + 2], {"category": category, "region_code": region[:4] + "00"}))
        if len(out["credit code"]) < per_class:
            org = rnd.choice(orgs)
            out["credit code"].append((org[1].split()[0], {}))
    return out


def _fts_query(con: sqlite3.Connection, text: str, filters: dict) -> int:
    """Total + first page from the FTS5 trigram table: MATCH for 3+ characters (the trigram
    index), LIKE for shorter text (what trigram can do there: a scan)."""
    where, params = [], []
    if len(text) >= 3:
        where.append("docs MATCH ?")
        params.append('"' + text.replace('"', '""') + '"')
    else:
        like = f"%{text}%"
        where.append("(name LIKE ? OR address LIKE ? OR titles LIKE ? OR codes LIKE ?)")
        params += [like] * 4
    if filters.get("category"):
        where.append("category = ?")
        params.append(filters["category"])
    if filters.get("region_code"):
        where.append("region_code LIKE ?")
        params.append(filters["region_code"].rstrip("0")[:4] + "%")
    sql = " AND ".join(where)
    total = con.execute(f"SELECT count(*) FROM docs WHERE {sql}", params).fetchone()[0]
    con.execute(f"SELECT id, name FROM docs WHERE {sql} LIMIT 20", params).fetchall()
    return total


def cmd_search(args) -> dict:
    datasets.ensure(args.size)
    args.search_url = datasets.search_url(args.size, args.search_url)
    from portal.services.search import search_public

    queries = sample_queries(args.size, args.queries)
    rt = datasets.runtime(args.size, search_url=args.search_url)
    backend = rt.backend
    label = _label(args.search_url) or "whoosh (dataset index)"
    filled = datasets.fill_search_index(rt, args.size) if args.search_url else None
    # warm up: open searchers, load columns
    with rt.sessions() as s:
        for text, filters in queries["4-char"][:20]:
            search_public(s, backend, rt.profile, rt.today(), text, filters)
    times: dict[str, list[float]] = {c: [] for c in QUERY_CLASSES}
    totals: dict[str, int] = {c: 0 for c in QUERY_CLASSES}
    for cls, qs in queries.items():
        for text, filters in qs:
            t0 = time.perf_counter()
            with rt.sessions() as s:  # one session per search, as a request has
                r = search_public(s, backend, rt.profile, rt.today(), text, filters)
            times[cls].append(time.perf_counter() - t0)
            totals[cls] += r.total > 0
    con = sqlite3.connect(datasets.fts_path(args.size))
    ref: dict[str, list[float]] = {c: [] for c in QUERY_CLASSES}
    for cls, qs in queries.items():
        for text, filters in qs:
            t0 = time.perf_counter()
            _fts_query(con, text, filters)
            ref[cls].append(time.perf_counter() - t0)
    con.close()
    rows, out = [], {}
    for cls in QUERY_CLASSES:
        a, b = summary_ms(times[cls]), summary_ms(ref[cls])
        rows.append([cls, a["n"], a["p50"], a["p95"], a["p99"], f"{totals[cls]}/{a['n']}",
                     b["p50"], b["p95"], b["p99"], round(a["p95"] / b["p95"], 1) if b["p95"] else ""])
        out[cls] = {"portal": a, "fts5_trigram": b, "found": totals[cls]}
    print(f"search_public over {label}, {args.size}; reference SQLite FTS5 trigram (total + first 20, no facets)")
    print(table(["query class", "n", "p50 ms", "p95 ms", "p99 ms", "found", "fts5 p50", "fts5 p95", "fts5 p99",
                 "p95 ratio"], rows))
    if args.repeat:  # the same queries again, unchanged index: what a result cache answers (#17)
        again = []
        for cls, qs in queries.items():
            t = []
            for text, filters in qs:
                t0 = time.perf_counter()
                with rt.sessions() as s:
                    search_public(s, backend, rt.profile, rt.today(), text, filters)
                t.append(time.perf_counter() - t0)
            a = summary_ms(t)
            out[cls]["repeated"] = a
            again.append([cls, a["n"], a["p50"], a["p95"], a["p99"]])
        print("the same queries again (result cache, if the backend has one)")
        print(table(["query class", "n", "p50 ms", "p95 ms", "p99 ms"], again))
    backend.close()
    rt.engine.dispose()
    return emit("search", args.size, {"backend": label, "index_filled": filled, "results": out,
                                      "peak_rss_mb": peak_rss_mb()})


def _label(search_url: str | None) -> str | None:
    """A ``--search-url`` for tables and JSON: without its password."""
    if not search_url or "://" not in search_url or search_url.startswith(("memory:", "whoosh:")):
        return search_url
    from sqlalchemy.engine import make_url

    return make_url(search_url.replace("postgres://", "postgresql://", 1)).render_as_string(hide_password=True)


# --- http -----------------------------------------------------------------------------------

def _workers(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class Server:
    """gunicorn on 127.0.0.1 with the settings every HTTP figure shares."""

    def __init__(self, app: str, env: dict, workers: int):
        self.port = free_port()
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-k", "sync",
               "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "--preload", app]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
        wait_port(self.port, self.proc)

    def workers_hwm(self) -> list[float]:
        return [_hwm_mb(p) for p in _workers(self.proc.pid)]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def scan_paths(size: str, n: int = 500) -> list[str]:
    """``/p/<token>`` of ``n`` QR plates; plates missing from the dataset are issued once through
    ``plates.issue_missing`` (the service verb) and stay in the cached dataset."""
    from sqlalchemy import select

    from portal.models import Plate, Subject
    from portal.services import plates

    rt = datasets.runtime(size)
    with rt.sessions() as s:
        have = s.execute(select(Plate.token).where(Plate.status == "active").order_by(Plate.id).limit(n)).scalars().all()
        if len(have) < n:
            ids = s.execute(plates.subjects_without_plate().with_only_columns(Subject.id)
                            .limit(n - len(have))).scalars().all()
            subjects = s.execute(select(Subject).where(Subject.id.in_(ids))).scalars().all()
            plates.issue_missing(rt.context(s, "bench"), subjects)
            s.commit()
            have = s.execute(select(Plate.token).where(Plate.status == "active").order_by(Plate.id)
                             .limit(n)).scalars().all()
    rt.engine.dispose()
    return [f"/p/{t}" for t in have]


def cmd_http(args) -> dict:
    from urllib.parse import quote

    datasets.ensure(args.size)
    args.search_url = datasets.search_url(args.size, args.search_url)
    queries = sample_queries(args.size, 200)
    con = sqlite3.connect(datasets.fts_path(args.size))
    rnd = random.Random(5)
    ids = [r[0] for r in con.execute("SELECT id FROM docs").fetchall()]
    con.close()
    facility = [f"/facility/{i}" for i in rnd.sample(ids, min(1000, len(ids)))]
    search = [f"/search?q={quote(t)}" for cls in ("2-char", "4-char", "full name") for t, _ in queries[cls]]
    scans = scan_paths(args.size)
    datasets.runtime(args.size).engine.dispose()  # apply new migrations before the workers start
    if args.search_url:  # a shared store (PostgreSQL) must hold the dataset before the workers search it
        rt = datasets.runtime(args.size, search_url=args.search_url)
        datasets.fill_search_index(rt, args.size)
        rt.close()
    env = {k: v for k, v in datasets.settings(args.size, search_url=args.search_url).items()}
    rows, out = [], {}
    bare = Server("bench.bare_app:app", {}, args.workers)
    try:
        wrk(bare.port, ["/"], 2, args.connections)  # warm-up
        r = wrk(bare.port, ["/"], args.duration, args.connections)
        r["worker_peak_rss_mb"] = bare.workers_hwm()
        out["bare flask route"] = r
    finally:
        bare.stop()
    portal = Server("portal.app:create_app()", env, args.workers)
    try:
        wrk(portal.port, facility[:50], 3, args.connections)  # warm-up: searchers, templates
        wrk(portal.port, scans[:50], 2, args.connections)
        # a scan also counts itself (buffered per worker, written about once a second): the QR
        # burst case. The first pass over the paths renders every page once per worker (a cold
        # page cache); the second pass over the same paths is what a hot plate or page costs.
        out["scan page (QR)"] = wrk(portal.port, scans, args.duration, args.connections)
        out["scan page (QR), cached"] = wrk(portal.port, scans, args.duration, args.connections)
        wrk(portal.port, search[:50], 3, args.connections, htmx=True)
        out["facility page"] = wrk(portal.port, facility, args.duration, args.connections)
        out["facility page, cached"] = wrk(portal.port, facility, args.duration, args.connections)
        out["search fragment (htmx)"] = wrk(portal.port, search, args.duration, args.connections, htmx=True)
        out["search page"] = wrk(portal.port, search, args.duration, args.connections)
        hwm = portal.workers_hwm()
        for k in ("scan page (QR)", "scan page (QR), cached", "facility page", "facility page, cached",
                  "search fragment (htmx)", "search page"):
            out[k]["worker_peak_rss_mb"] = hwm
    finally:
        portal.stop()
    bare_rps = out["bare flask route"]["rps"]
    for name, r in out.items():
        rows.append([name, r["requests"], r["rps"], f"{r['rps'] / bare_rps:.0%}", r["p50_ms"], r["p95_ms"],
                     r["p99_ms"], r["errors"], " / ".join(str(x) for x in r["worker_peak_rss_mb"])])
    print(f"gunicorn -w {args.workers} sync on 127.0.0.1, wrk -t1 -c{args.connections} -d{args.duration}s, "
          f"{args.size}, search {_label(args.search_url) or 'whoosh'}")
    print(table(["route", "requests", "req/s", "of bare", "p50 ms", "p95 ms", "p99 ms", "errors",
                 "worker peak RSS MB"], rows))
    bad = [name for name, r in out.items() if r["non2xx"] or r["errors"]]
    if bad:
        print(f"WARNING: errors or non-2xx responses on {', '.join(bad)}: those figures are not valid")
    return emit("http", args.size, {"invalid": bad, "workers": args.workers, "connections": args.connections,
                                    "duration_s": args.duration, "search": _label(args.search_url) or "whoosh",
                                    "results": out})


# --- incremental ----------------------------------------------------------------------------

RARE = "龘靐齉爩麤龗灪籲厵鱻"


def cmd_incremental(args) -> dict:
    """Change a subject's name through ``register_subject``, commit, drain as the single writer,
    and poll the search service until the new name is found."""
    datasets.ensure(args.size)
    args.search_url = datasets.search_url(args.size, args.search_url)
    from sqlalchemy import select

    from portal.models import Subject
    from portal.services import indexing
    from portal.services.search import search_public
    from portal.services.subjects import register_subject
    from search_index import SearchQuery

    rt = datasets.runtime(args.size, search_url=args.search_url)
    backend = rt.backend
    if args.search_url:
        datasets.fill_search_index(rt, args.size)
    rnd = random.Random(3)
    con = sqlite3.connect(datasets.fts_path(args.size))
    public_ids = [r[0] for r in con.execute("SELECT id FROM docs WHERE kind = 'org'").fetchall()]
    con.close()
    chosen = rnd.sample(public_ids, args.changes)
    commit_s, drain_s, visible_s = [], [], []
    originals = []
    backend.search(SearchQuery("医院"))  # open the searcher
    for n, pid in enumerate(chosen):
        with rt.sessions() as s:
            subj = s.execute(select(Subject).where(Subject.public_id == pid)).scalar_one()
            originals.append((pid, subj.name))
            token = "".join(rnd.choice(RARE) for _ in range(6)) + f"{n:03d}"
            ctx = rt.context(s, "bench")
            t0 = time.perf_counter()
            register_subject(ctx, kind=subj.kind, name=subj.name[:180] + token, code=rt.protector.decrypt(subj.code_cipher),
                             category=subj.category, region_code=subj.region_code)
            s.commit()
            t1 = time.perf_counter()
            while indexing.drain(s, backend, rt.today(), rt.profile):
                pass
            t2 = time.perf_counter()
        while True:
            with rt.sessions() as s2:
                r = search_public(s2, backend, rt.profile, rt.today(), token, {})
            if any(h.id == pid for h in r.hits):
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError(f"change to {pid} not visible after 30 s")
            time.sleep(0.01)
        t3 = time.perf_counter()
        commit_s.append(t1 - t0)
        drain_s.append(t2 - t1)
        visible_s.append(t3 - t0)
    # put the names back, so the cached dataset stays as generated
    with rt.sessions() as s:
        ctx = rt.context(s, "bench")
        for pid, name in originals:
            subj = s.execute(select(Subject).where(Subject.public_id == pid)).scalar_one()
            register_subject(ctx, kind=subj.kind, name=name, code=rt.protector.decrypt(subj.code_cipher),
                             category=subj.category, region_code=subj.region_code)
        s.commit()
        while indexing.drain(s, backend, rt.today(), rt.profile):
            pass
    backend.close()
    rt.engine.dispose()
    out = {"commit": summary_ms(commit_s), "drain": summary_ms(drain_s), "commit_to_visible": summary_ms(visible_s)}
    print(f"commit → visible in search, {args.changes} changes, {args.size}, {_label(args.search_url) or 'whoosh'}")
    print(table(["step", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [[k, v["n"], v["p50"], v["p95"], v["p99"], v["max"]] for k, v in out.items()]))
    return emit("incremental", args.size, {"search": _label(args.search_url) or "whoosh", "results": out})


def cmd_agree(args) -> dict:
    """The reference for "first page correct": Whoosh (the dataset's index) and another backend
    answer the bench's query classes, and variants of them, identically."""
    datasets.ensure(args.size)
    args.search_url = datasets.search_url(args.size, args.search_url)
    if not args.search_url:
        raise SystemExit("agree: give --search-url (e.g. tantivy) to compare with the dataset's Whoosh index")
    from search_index import SearchQuery, open_backend

    reference = open_backend(datasets.settings(args.size)["SEARCH_URL"])
    other = open_backend(args.search_url)
    cases = [(text, f) for qs in sample_queries(args.size, args.queries).values() for text, f in qs]
    cases += [variant for text, f in cases[: args.queries] for variant in (
        (text[:1], {}), (text[:3], {"grade": "A"}), (text[1:6] + " " + text[:1], {}),
        ("", {"region_code": f.get("region_code") or "430100"}), (text[:2], {"record_types": "penalty"}))]
    differ = []
    for text, filters in cases:
        for page, per_page in ((1, 20), (3, 7), (50, 20)):
            q = SearchQuery(text, filters, page, per_page)
            a, b = reference.search(q), other.search(q)
            if (a.total, a.facets, a.hits) != (b.total, b.facets, b.hits):
                differ.append({"text": text, "filters": filters, "page": page, "totals": [a.total, b.total]})
    reference.close()
    other.close()
    print(f"whoosh vs {args.search_url}, {args.size}: {len(cases) * 3} searches, {len(differ)} differ")
    for d in differ[:10]:
        print(f"  {d}")
    return emit("agree", args.size, {"search": args.search_url, "searches": len(cases) * 3,
                                     "differ": len(differ), "examples": differ[:10]})


def cmd_dataset(args) -> dict:
    m = datasets.ensure(args.size, force=args.force)
    print(table(["dataset", "subjects", "records", "public records", "searchable docs", "load s", "index s", "DB MB"],
                [[args.size, m["subjects"], m["records"], m.get("public_records", ""), m["indexed_docs"],
                  m["load_s"], m["index_s"], m["db_mb"]]]))
    return emit("dataset", args.size, {k: v for k, v in m.items() if k != "complete"})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["dataset", "build", "search", "http", "incremental", "all", "agree", "soak",
                                             "import_stall", "nodes"])
    ap.add_argument("--size", choices=list(datasets.SIZES), default="S")
    ap.add_argument("--force", action="store_true", help="dataset: rebuild the cached dataset")
    ap.add_argument("--backends", default="whoosh", help="build: comma-separated backend schemes or URLs "
                    "(whoosh, tantivy, memory, postgresql: the server of --search-url, tables prefixed bench_build_)")
    ap.add_argument("--search-url", default=None, help="search/http/incremental/agree: another SEARCH_URL "
                    "(e.g. postgresql+psycopg://user@host:port/db, filled from the dataset when it does not hold "
                    "it), or a bare scheme (tantivy) for the dataset's own index of that backend, built once "
                    "from its database (default: the dataset's Whoosh index)")
    ap.add_argument("--queries", type=int, default=200, help="search, agree, nodes: queries per class")
    ap.add_argument("--repeat", action="store_true", help="search: run the queries a second time (result cache)")
    ap.add_argument("--duration", type=int, default=10, help="http, nodes: seconds per route")
    ap.add_argument("--connections", type=int, default=4, help="http, nodes: concurrent connections")
    ap.add_argument("--workers", type=int, default=2, help="http, nodes, soak (production): gunicorn workers (per node)")
    ap.add_argument("--changes", type=int, default=20, help="incremental, nodes: number of changes")
    ap.add_argument("--layouts", choices=["both", "postgres", "tantivy"], default="both",
                    help="nodes: which search layout(s) to measure")
    ap.add_argument("--database-url", default=None, help="put the dataset on this PostgreSQL database "
                    "(its own; the name must contain 'bench'); cached as <size>-pg")
    ap.add_argument("--threads", type=int, default=4, help="soak, import_stall: threads of the one gunicorn "
                    "worker (the development IdP they log in through keeps its codes in one process)")
    ap.add_argument("--minutes", type=float, default=10, help="soak: how long")
    ap.add_argument("--dev", action="store_true", help="soak: development mode (one worker, the development "
                    "IdP) instead of production (https, node-oidc-provider; needs Node.js and tests/oidc)")
    ap.add_argument("--subjects", type=int, default=400, help="soak, import_stall: demo subjects")
    ap.add_argument("--max-requests", type=int, default=1_000_000, help="soak, import_stall: request bound")
    ap.add_argument("--rows", type=int, default=50_000, help="import_stall: rows in the imported file")
    ap.add_argument("--max-seconds", type=int, default=1800, help="import_stall: bound on the import")
    args = ap.parse_args(argv)
    if args.command in ("soak", "import_stall"):  # their own demo province, not a --size dataset
        from .import_stall import cmd_import_stall
        from .soak import cmd_soak

        (cmd_soak if args.command == "soak" else cmd_import_stall)(args)
        return
    datasets.use_database(args.database_url)
    commands = {"dataset": cmd_dataset, "build": cmd_build, "search": cmd_search, "http": cmd_http,
                "incremental": cmd_incremental}
    if args.command == "agree":
        cmd_agree(args)
        return
    if args.command == "nodes":
        from .nodes import cmd_nodes

        cmd_nodes(args)
        return
    for name in (list(commands) if args.command == "all" else [args.command]):
        commands[name](args)
        print()


if __name__ == "__main__":
    main()
